package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// Store is a sessions.Store that keeps sessions in Redis through a go-redis
// v9 client: a single server, a Sentinel-managed primary or a Redis
// Cluster. The package documentation gives its key layout, expiry, round
// trips and deployment.
//
// A Store is safe for concurrent use. It does not own the client: closing
// the client is the caller's business.
type Store struct {
	client redis.UniversalClient
	opts   options
	// viaScript is set when the client may send HGETALL to a replica: Read
	// then runs it on the primary through read.lua.
	viaScript bool
	dials     *dialWatch
}

var _ sessions.Store = (*Store)(nil)

// New returns a Store that keeps sessions in Redis through client. It
// panics if client is nil or the options are invalid (see WithKeyPrefix,
// WithWaitReplicas): a mistake in the program, found at start-up.
//
// New adds a hook to client (see the package documentation, Failures), and
// go-redis's AddHook is not safe while the client runs commands: create
// the Store before the client is in use.
func New(client redis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("redisstore: New: nil client")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	o.check(client)
	return &Store{client: client, opts: o, viaScript: mayReadReplica(client), dials: watchDials(client)}
}

// mayReadReplica reports whether client may send a read-only command such
// as HGETALL to a replica, or is of a type whose routing is unknown.
func mayReadReplica(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client, *redis.Ring:
		return false
	case *redis.ClusterClient:
		// go-redis sets ReadOnly for RouteByLatency and RouteRandomly too.
		return c.Options().ReadOnly
	}
	return true
}

var errBadID = errors.New("redisstore: id is empty or contains '{' or '}'")

// recordKey returns the key of id's record: <prefix>{<id>}. The braces make
// id the Redis Cluster hash tag; an id holding one would break that.
func (s *Store) recordKey(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "{}") {
		return "", errBadID
	}
	return s.opts.prefix + "{" + id + "}", nil
}

// Read returns the record under id, or sessions.ErrNotFound when there is
// none or id carries a tombstone. It is one HGETALL on the primary; on a
// client that may route it to a replica, one EVALSHA of a script that runs
// it there (see the package documentation). A key of another type than a
// hash gives an error wrapping sessions.ErrCorrupt, and is left as it is.
func (s *Store) Read(ctx context.Context, id string) (sessions.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, err := s.recordKey(id)
	if err != nil {
		return nil, sessions.ErrNotFound
	}
	var rec sessions.Record
	if s.viaScript {
		rec, err = s.readPrimary(ctx, key)
	} else {
		rec, err = s.readHash(ctx, key)
	}
	if err != nil {
		return nil, s.fail("read", key, err)
	}
	if _, tomb := rec[tombField]; tomb || len(rec) == 0 {
		return nil, sessions.ErrNotFound
	}
	return rec, nil
}

func (s *Store) readHash(ctx context.Context, key string) (sessions.Record, error) {
	vals, err := s.client.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	// One buffer for every value: a read allocates per record, not per key.
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	rec := make(sessions.Record, len(vals))
	for k, v := range vals {
		start := len(buf)
		buf = append(buf, v...)
		rec[k] = buf[start:len(buf):len(buf)]
	}
	return rec, nil
}

// readPrimary runs HGETALL through read.lua, whose reply is the flat list
// field, value, field, value...
func (s *Store) readPrimary(ctx context.Context, key string) (sessions.Record, error) {
	vals, err := readScript.Run(ctx, s.client, []string{key}).StringSlice()
	if err != nil {
		return nil, err
	}
	n := 0
	for i := 1; i < len(vals); i += 2 {
		n += len(vals[i])
	}
	buf := make([]byte, 0, n)
	rec := make(sessions.Record, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		start := len(buf)
		buf = append(buf, vals[i+1]...)
		rec[vals[i]] = buf[start:len(buf):len(buf)]
	}
	return rec, nil
}

// Write applies ch to the record under id and sets its TTL to ttl (in
// sessions.ModeUpsert, to the longer of that and the TTL it has), in one
// script: sessions.ErrInvalidated if id carries a tombstone,
// sessions.ErrNotFound if ch is not a Replace and no record exists. The
// ttl is rounded up to whole milliseconds; a ttl that is not positive
// leaves no record under id, as if it had expired at once (the tombstone
// and not-found checks still apply). A Change that sets "__tomb", the
// field that marks a tombstone, is refused with an error and sends
// nothing. A key of another type than a hash gives an error wrapping
// sessions.ErrCorrupt, and is left as it is.
func (s *Store) Write(ctx context.Context, id string, ch sessions.Change, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := s.recordKey(id)
	if err != nil {
		return err
	}
	if _, ok := ch.Set[tombField]; ok {
		return fmt.Errorf("redisstore: write: the key %q is reserved by the store", tombField)
	}
	code, err := writeScript.Run(ctx, s.client, []string{key}, writeArgs(ch, ttl)...).Int64()
	if err != nil {
		return s.fail("write", key, err)
	}
	switch code {
	case writeOK:
		return nil
	case writeNotFound:
		return sessions.ErrNotFound
	case writeInvalidated:
		return sessions.ErrInvalidated
	}
	return fmt.Errorf("redisstore: write: unexpected script result %d", code)
}

// Remove deletes the record under id and leaves a tombstone that lasts at
// least ttl, in one script. An existing tombstone with a longer TTL keeps
// it. It returns sessions.ErrNotFound, after leaving the tombstone all the
// same, when no live record was stored under id: of concurrent Removes of
// one record, exactly one returns nil. A ttl that is not positive deletes
// the record and leaves no new tombstone. With WithWaitReplicas, it waits
// for replicas in the same round trip, and an error wrapping
// ErrNotReplicated says they did not all acknowledge. A key of another
// type than a hash gives an error wrapping sessions.ErrCorrupt, and is
// left as it is.
func (s *Store) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := s.recordKey(id)
	if err != nil {
		return err
	}
	var res int64
	if s.opts.waitReplicas > 0 {
		res, err = s.removeReplicated(ctx, key, millis(ttl))
	} else {
		res, err = removeScript.Run(ctx, s.client, []string{key}, millis(ttl)).Int64()
	}
	if err != nil {
		return s.fail("remove", key, err)
	}
	if res != removeRemoved {
		return sessions.ErrNotFound
	}
	return nil
}

// Exists reports whether a record is stored under id and id carries no
// tombstone, in one script. A key of another type than a hash gives an
// error wrapping sessions.ErrCorrupt.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	key, err := s.recordKey(id)
	if err != nil {
		return false, nil
	}
	n, err := existsScript.Run(ctx, s.client, []string{key}).Int64()
	if err != nil {
		return false, s.fail("exists", key, err)
	}
	return n == existsLive, nil
}

// LoadScripts loads the store's Lua scripts into the script cache of the
// server (of every primary on a Redis Cluster), so that the first call of
// each method is one round trip instead of two. Calling it is optional: a
// server that lost its script cache (restart, failover, SCRIPT FLUSH) is
// handled by falling back to EVAL.
func (s *Store) LoadScripts(ctx context.Context) error {
	for _, sc := range allScripts {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return fmt.Errorf("redisstore: load scripts: %w", s.explain(err))
		}
	}
	return nil
}

// Ping checks that the store can work, for a start-up check or a readiness
// probe: one PING, then LoadScripts, which also finds a server that runs no
// Lua scripts or a user whose ACL forbids them. Its error names the cause,
// as the store's errors do (see the package documentation, Failures).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", s.explain(err))
	}
	return s.LoadScripts(ctx)
}

// fail returns the error of the operation op on key: one wrapping
// sessions.ErrCorrupt when the key holds another type than a hash, which
// Redis answered with WRONGTYPE before anything changed; else err, with
// the last failed attempt to connect when err is the end of the context.
func (s *Store) fail(op, key string, err error) error {
	if isWrongType(err) {
		return fmt.Errorf("redisstore: %s: %s is not a hash, and the store leaves it as it is (does another program write under the prefix %q?): %w",
			op, key, s.opts.prefix, sessions.ErrCorrupt)
	}
	return fmt.Errorf("redisstore: %s: %w", op, s.explain(err))
}

// isWrongType reports whether err is Redis's WRONGTYPE reply, bare (a
// command, a script on Redis 7) or inside a script's error (Redis 5 and 6).
func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.Contains(re.Error(), "WRONGTYPE")
}
