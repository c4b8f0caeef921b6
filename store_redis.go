package sessions

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store that keeps sessions in Redis. It works with any
// redis.UniversalClient: a single node (*redis.Client), a Sentinel-managed
// primary (redis.NewFailoverClient or NewFailoverClusterClient) or a Redis
// Cluster (*redis.ClusterClient).
//
// # Layout
//
// A session's record is a hash under <prefix>{<k>}, one field per session
// key, with the values stored as the Codec encoded them (JSON by default,
// readable in redis-cli). The prefix defaults to "session:" (see
// WithKeyPrefix) and k is the id the store is given: the session's handle,
// the hex SHA-256 of its ID, so that a leaked key listing hands out no live
// cookies, or the key of one of the Manager's own records (a user's index, a
// session's successors). The braces are a Redis Cluster hash tag.
//
// A removed session leaves a tombstone in the same key: the hash then holds
// only the field "__tomb", and its TTL is the tombstone's. So one HGETALL
// sees the record and the tombstone together, and a read is one command.
// A Write refuses a Change that sets "__tomb" (the Manager never uses it).
//
// Earlier versions kept the tombstone in a string key of its own,
// <prefix>{<k>}:tomb, in the same slot. Those tombstones keep refusing
// writes: Write checks that key when the hash does not exist, which is the
// only state an earlier version left beside it (its Remove deleted the hash
// in the same script that wrote the tombstone, and its Write refused to
// create one while the tombstone lived). Remove moves such a tombstone into
// the hash, keeping the longer TTL. Records written by earlier versions are
// read as they are. For a rolling upgrade, where instances of an earlier
// version still serve requests, see WithLegacyTombstones.
//
// # Expiry
//
// Records and tombstones expire through Redis TTLs; nothing needs sweeping.
// The Manager passes Write a ttl of min(idle timeout, remaining absolute
// lifetime), and every Write, including a touch, sets the record's TTL to
// it. A request that only writes has not read the session's lifetime, so it
// passes the idle timeout: the Write script caps the TTL at the deadline the
// record keeps under "__deadline", read with the server's clock, and
// refuses a delta to a record past it as a write to a missing record.
// Remove is given a ttl of at least the absolute lifetime, so the tombstone
// outlives every cookie that could still carry the ID. A tombstone is never
// shortened: Remove keeps an existing tombstone's longer TTL.
//
// # Round trips and routing
//
// Read, Write, Remove and Exists are one round trip each. Write, Remove and
// Exists are one Lua script each, sent with EVALSHA; the first call of a
// script on a server that has not cached it yet costs one more round trip
// (EVALSHA answered by NOSCRIPT, then EVAL), which LoadScripts avoids at
// start-up. Scripts always run on the primary.
//
// Read is one HGETALL where go-redis sends it to the primary: a
// *redis.Client (a single server, or NewFailoverClient without
// ReplicaOnly), a *redis.Ring, and a *redis.ClusterClient without ReadOnly,
// RouteByLatency or RouteRandomly. A ClusterClient with one of those
// (NewFailoverClusterClient and NewUniversalClient with them included)
// would send HGETALL to a replica, whose copy of a session removed a moment
// ago may still be live; there, and for any other UniversalClient, Read is
// an EVALSHA of a script that runs that HGETALL on the primary: still one
// round trip, and one more Lua call for Redis. NewFailoverClient with
// ReplicaOnly connects to a replica for every command, so writes fail: do
// not use it for sessions.
//
// # Deployment
//
// Use a maxmemory policy that does not evict keys with a TTL (noeviction,
// or allkeys-* with room to spare), since an evicted tombstone no longer
// refuses writes; and Redis 5 or later (the Write script reads TIME before
// writing). With noeviction, a full Redis still serves reads of existing
// sessions, a Remove of a live session and a touch; writes that add data
// fail with Redis's OOM error, which reaches the Manager's error handler.
// A tombstone written by Remove lives on the primary at once; replicas get
// it asynchronously, unless WithWaitReplicas is set.
//
// # Timeouts
//
// The Manager bounds each store call with its commit timeout (see
// WithCommitTimeout) through the call's context. go-redis honours a
// context's deadline on the connection only with ContextTimeoutEnabled set
// in the client's options; otherwise its own ReadTimeout and WriteTimeout
// (3 s by default) bound a hung server, so keep them below the commit
// timeout.
//
// # Failures
//
// Call Ping at start-up: it finds an unreachable server, a refused
// password or a server without Lua scripts before the first request does.
//
// A call that runs out of time while the client cannot connect fails with
// go-redis's bare "context deadline exceeded": go-redis keeps dialing in
// the background and drops the dial's error. So NewRedisStore adds a hook
// to the client (to each node's client that a ClusterClient or a Ring
// creates from then on) that keeps the last failed connection attempt, and
// an error that is a context's end also names that attempt, unless one
// succeeded since: "redis read: context deadline exceeded; the last
// attempt to connect, 80ms ago, failed: dial tcp 10.0.0.7:6379: connect:
// connection refused". errors.Is finds both. go-redis's AddHook
// is not safe while the client runs commands, so create the store before
// the client is in use.
//
// A RedisStore is safe for concurrent use. It does not own the client:
// closing the client is the caller's business.
type RedisStore struct {
	client redis.UniversalClient
	opts   redisOptions
	// readScript is set when the client may send HGETALL to a replica.
	readScript bool
	dials      *dialWatch
}

// RedisOption configures a RedisStore; pass it to NewRedisStore.
type RedisOption func(*redisOptions)

type redisOptions struct {
	prefix       string
	waitReplicas int
	waitTimeout  time.Duration
	legacyTombs  bool
}

func defaultRedisOptions() redisOptions {
	return redisOptions{
		prefix: "session:",
	}
}

// WithKeyPrefix sets the prefix of every key the store writes. The default
// is "session:". Use one prefix per application that shares a Redis
// database. The prefix must not contain '{' or '}', which would change the
// cluster hash tag of the keys: NewRedisStore panics if it does.
func WithKeyPrefix(prefix string) RedisOption {
	return func(o *redisOptions) { o.prefix = prefix }
}

// WithWaitReplicas makes every Remove (the tombstone of a Destroy, a Renew,
// a Login, a DestroyUser) wait until n replicas hold it: the script and a
// Redis WAIT go in one pipeline on one connection to the key's primary, so
// a Remove is still one round trip, longer by the replication delay. When
// fewer than n replicas acknowledge within timeout, Remove returns an error
// wrapping ErrNotReplicated: the tombstone is on the primary and refuses
// writes there, but a failover before it reaches a replica would lose it,
// so the Manager hands the error to its error handler (a 500 by default)
// and the user can log out again. The default is n = 0: no waiting, and a
// failover or a restart can lose the last logouts (see the README's
// Deployment section).
//
// It needs a *redis.Client (a single server, NewFailoverClient) or a
// *redis.ClusterClient, on which the pipeline goes to the master of the
// key's slot through the node's own client: hooks added with the
// ClusterClient's AddHook do not see it (add them with OnNewNode too).
// The client's ReadTimeout bounds the whole pipeline, and the Manager's
// commit timeout bounds it too when the client has ContextTimeoutEnabled:
// keep timeout below both. NewRedisStore panics if n is negative, or if n >
// 0 and timeout is not positive, is not below the client's ReadTimeout, or
// the client is of another type.
func WithWaitReplicas(n int, timeout time.Duration) RedisOption {
	return func(o *redisOptions) { o.waitReplicas, o.waitTimeout = n, timeout }
}

// WithLegacyTombstones makes Remove also write the tombstone key of earlier
// versions (<prefix>{<k>}:tomb, a string), which they check and this
// version does not need. Turn it on for a rolling upgrade from a version
// that kept tombstones only there, while instances of it still serve
// requests, so that they refuse writes to a session that an upgraded
// instance removed; turn it off once every instance runs this version. The
// default is off. It costs one more key per tombstone while on.
func WithLegacyTombstones(on bool) RedisOption {
	return func(o *redisOptions) { o.legacyTombs = on }
}

// ErrNotReplicated is wrapped by the error RedisStore.Remove returns when
// fewer replicas than WithWaitReplicas asks for acknowledged the tombstone
// in time. The tombstone is on the primary all the same.
var ErrNotReplicated = errors.New("sessions: not acknowledged by enough Redis replicas")

// NewRedisStore returns a Store that keeps sessions in Redis through client.
// It panics if the options are invalid (see WithKeyPrefix, WithWaitReplicas).
func NewRedisStore(client redis.UniversalClient, opts ...RedisOption) *RedisStore {
	if client == nil {
		panic("sessions: NewRedisStore: nil client")
	}
	o := defaultRedisOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if strings.ContainsAny(o.prefix, "{}") {
		panic(fmt.Sprintf("sessions: NewRedisStore: key prefix %q contains '{' or '}'", o.prefix))
	}
	if o.waitReplicas < 0 || (o.waitReplicas > 0 && o.waitTimeout <= 0) {
		panic(fmt.Sprintf("sessions: NewRedisStore: WithWaitReplicas(%d, %v): want n >= 0 and a positive timeout", o.waitReplicas, o.waitTimeout))
	}
	if o.waitReplicas > 0 {
		checkWaitClient(client, o.waitTimeout)
	}
	return &RedisStore{client: client, opts: o, readScript: mayReadReplica(client), dials: watchDials(client)}
}

// checkWaitClient panics unless client can run WAIT on a key's primary
// within its ReadTimeout.
func checkWaitClient(client redis.UniversalClient, timeout time.Duration) {
	var rt time.Duration
	switch c := client.(type) {
	case *redis.Client:
		rt = c.Options().ReadTimeout
	case *redis.ClusterClient:
		rt = c.Options().ReadTimeout
	default:
		panic(fmt.Sprintf("sessions: NewRedisStore: WithWaitReplicas needs a *redis.Client or a *redis.ClusterClient, not %T", client))
	}
	// After go-redis filled in its defaults, a ReadTimeout <= 0 is none.
	if rt > 0 && timeout >= rt {
		panic(fmt.Sprintf("sessions: NewRedisStore: the WithWaitReplicas timeout %v is not below the client's ReadTimeout %v, which bounds the WAIT", timeout, rt))
	}
}

// mayReadReplica reports whether client may send a read-only command such
// as HGETALL to a replica, or is of a type whose routing is unknown.
func mayReadReplica(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client, *redis.Ring:
		return false
	case *redis.ClusterClient:
		// init sets ReadOnly for RouteByLatency and RouteRandomly too.
		return c.Options().ReadOnly
	}
	return true
}

// Result codes of redisWrite.
const (
	redisWriteOK          = 1
	redisWriteNotFound    = 0
	redisWriteInvalidated = -1
)

// redisTombField is the field of a hash that makes it a tombstone.
const redisTombField = "__tomb"

// KEYS[1] is the record, KEYS[2] the tombstone key of earlier versions, in
// every script. A hash and that key never both exist unless the hash is a
// tombstone too (see the RedisStore doc), so the scripts look at KEYS[2]
// only when no live hash exists. The scripts declare no flags, so that
// Redis runs them when it is out of memory and refuses only a command that
// would add data before the script changed anything.
var (
	// ARGV: mode ("1" replace, "2" create-merge, "0" merge), ttl in ms, the
	// deadline after the change ("?": the stored one, "": none, else Unix
	// ms), number of pairs to set, the pairs (field, value, ...), then the
	// fields to delete. unpack is batched: Lua limits how many values one
	// call may take.
	redisWrite = redis.NewScript(`
local f = redis.pcall('HMGET', KEYS[1], '__tomb', '__deadline')
if f.err then
  redis.call('DEL', KEYS[1])
  f = {false, false}
elseif f[1] then
  return -1
end
local mode = ARGV[1]
if not f[2] and redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    return -1
  end
  if mode == '0' or (mode == '2' and #ARGV == 4) then
    return 0
  end
elseif mode == '1' then
  redis.call('DEL', KEYS[1])
end
local ttl = tonumber(ARGV[2])
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
local function batched(cmd, from, to, step)
  for i = from, to, step do
    redis.call(cmd, KEYS[1], unpack(ARGV, i, math.min(i + step - 1, to)))
  end
end
local setEnd = 4 + 2 * tonumber(ARGV[4])
batched('HDEL', setEnd + 1, #ARGV, 4000)
batched('HSET', 5, setEnd, 4000)
local deadline = tonumber(ARGV[3])
if ARGV[3] == '?' then
  deadline = tonumber(f[2])
end
if deadline then
  local t = redis.call('TIME')
  local left = deadline - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if left < ttl then
    ttl = left
  end
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
    if mode == '1' then
      return 1
    end
    return 0
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`)

	// ARGV[1] is the tombstone's ttl in ms, 0 for none; ARGV[2] is "1" to
	// write KEYS[2] too (WithLegacyTombstones). PTTL is -1 for a key without
	// expiry and -2 for none. The record is deleted before anything is
	// written, so that Redis lets the script finish when it is out of
	// memory. Returns 1 if a live record was removed, else 0.
	redisRemove = redis.NewScript(`
local t = redis.pcall('HEXISTS', KEYS[1], '__tomb')
local live, had = 0, -2
if type(t) == 'table' then
  redis.call('DEL', KEYS[1])
elseif t == 1 then
  had = redis.call('PTTL', KEYS[1])
else
  live = redis.call('DEL', KEYS[1])
end
local keep = had
if live == 0 then
  local old = redis.call('PTTL', KEYS[2])
  if old == -1 or (keep ~= -1 and old > keep) then
    keep = old
  end
  if old ~= -2 and ARGV[2] ~= '1' then
    redis.call('DEL', KEYS[2])
  end
end
local ttl = tonumber(ARGV[1])
if keep ~= -1 and ttl > keep then
  keep = ttl
end
if keep == -2 then
  return live
end
if had == -2 then
  redis.call('HSET', KEYS[1], '__tomb', '1')
end
if keep == -1 then
  redis.call('PERSIST', KEYS[1])
elseif keep ~= had then
  redis.call('PEXPIRE', KEYS[1], keep)
end
if ARGV[2] == '1' then
  if keep == -1 then
    redis.call('SET', KEYS[2], '1')
  else
    redis.call('SET', KEYS[2], '1', 'PX', keep)
  end
end
return live
`)

	redisExists = redis.NewScript(`
local t = redis.pcall('HEXISTS', KEYS[1], '__tomb')
if type(t) == 'table' then
  return 1
end
if t == 1 then
  return 0
end
return redis.call('EXISTS', KEYS[1])
`)

	// redisRead is Read where the client may route HGETALL to a replica:
	// EVALSHA is not a read-only command, so go-redis sends it to the
	// primary.
	redisRead = redis.NewScript(`return redis.call('HGETALL', KEYS[1])`)
)

var errRedisBadID = errors.New("sessions: redis: id is empty or contains '{' or '}'")

// recordKey returns the key of id's record: <prefix>{<id>}.
func (s *RedisStore) recordKey(id string) (string, error) {
	if id == "" || strings.IndexByte(id, '{') >= 0 || strings.IndexByte(id, '}') >= 0 {
		return "", errRedisBadID
	}
	return s.opts.prefix + "{" + id + "}", nil
}

// keys returns the record key and the earlier versions' tombstone key of id.
func (s *RedisStore) keys(id string) ([]string, error) {
	rec, err := s.recordKey(id)
	if err != nil {
		return nil, err
	}
	return []string{rec, rec + ":tomb"}, nil
}

// redisMillis converts ttl to whole milliseconds, rounding up; a ttl that
// is not positive gives 0.
func redisMillis(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// Read returns the record under id, or ErrNotFound when there is none or id
// carries a tombstone. It is one command, HGETALL, on the primary; on a
// client that may route it to a replica, one EVALSHA of a script that runs
// it (see the RedisStore doc).
func (s *RedisStore) Read(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, err := s.recordKey(id)
	if err != nil {
		return nil, ErrNotFound
	}
	var rec Record
	if s.readScript {
		rec, err = s.readPrimary(ctx, key)
	} else {
		rec, err = s.readHash(ctx, key)
	}
	if err != nil {
		if strings.Contains(err.Error(), "WRONGTYPE") {
			return nil, fmt.Errorf("redis read: the key is not a hash: %w", ErrCorrupt)
		}
		return nil, fmt.Errorf("redis read: %w", s.explain(err))
	}
	if _, tomb := rec[redisTombField]; tomb || len(rec) == 0 {
		return nil, ErrNotFound
	}
	return rec, nil
}

func (s *RedisStore) readHash(ctx context.Context, key string) (Record, error) {
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
	rec := make(Record, len(vals))
	for k, v := range vals {
		start := len(buf)
		buf = append(buf, v...)
		rec[k] = buf[start:len(buf):len(buf)]
	}
	return rec, nil
}

// readPrimary runs HGETALL through redisRead, whose reply is the flat list
// field, value, field, value...
func (s *RedisStore) readPrimary(ctx context.Context, key string) (Record, error) {
	vals, err := redisRead.Run(ctx, s.client, []string{key}).StringSlice()
	if err != nil {
		return nil, err
	}
	n := 0
	for i := 1; i < len(vals); i += 2 {
		n += len(vals[i])
	}
	buf := make([]byte, 0, n)
	rec := make(Record, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		start := len(buf)
		buf = append(buf, vals[i+1]...)
		rec[vals[i]] = buf[start:len(buf):len(buf)]
	}
	return rec, nil
}

// Write applies ch to the record under id and sets its TTL to ttl, in one
// script: ErrInvalidated if id carries a tombstone, ErrNotFound if ch is not
// a Replace and no record exists. The ttl is rounded up to whole
// milliseconds; a ttl that is not positive leaves no record under id, as if
// it had expired at once (the tombstone and not-found checks still apply).
// A Change that sets "__tomb", the field that marks a tombstone, is refused
// with an error and sends nothing.
func (s *RedisStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys, err := s.keys(id)
	if err != nil {
		return err
	}
	if _, ok := ch.Set[redisTombField]; ok {
		return fmt.Errorf("redis write: the key %q is reserved by the Redis store", redisTombField)
	}
	code, err := redisWrite.Run(ctx, s.client, keys, writeArgs(ch, ttl)...).Int64()
	if err != nil {
		return fmt.Errorf("redis write: %w", s.explain(err))
	}
	switch code {
	case redisWriteOK:
		return nil
	case redisWriteNotFound:
		return ErrNotFound
	case redisWriteInvalidated:
		return ErrInvalidated
	default:
		return fmt.Errorf("redis write: unexpected script result %d", code)
	}
}

// writeArgs returns the ARGV of redisWrite for ch. The deadline after the
// change is known here when ch sets or drops it, which spares the script a
// read of it.
func writeArgs(ch Change, ttl time.Duration) []interface{} {
	mode, deadline := "0", "?"
	switch {
	case ch.Replace:
		mode, deadline = "1", ""
	case ch.Create:
		mode = "2"
	}
	if v, ok := ch.Set[keyDeadline]; ok {
		deadline = string(v)
	} else if !ch.Replace && slices.Contains(ch.Delete, keyDeadline) {
		deadline = ""
	}
	args := make([]interface{}, 0, 4+2*len(ch.Set)+len(ch.Delete))
	args = append(args, mode, redisMillis(ttl), deadline, len(ch.Set))
	for k, v := range ch.Set {
		args = append(args, k, v)
	}
	if !ch.Replace {
		for _, k := range ch.Delete {
			args = append(args, k)
		}
	}
	return args
}

// Remove deletes the record under id and leaves a tombstone that lasts at
// least ttl, in one script. An existing tombstone with a longer TTL keeps
// it. It returns ErrNotFound, after leaving the tombstone all the same, when
// no live record was stored under id: of concurrent Removes of one record,
// exactly one returns nil. A ttl that is not positive deletes the record and
// leaves no new tombstone. With WithWaitReplicas, it waits for replicas in
// the same round trip, and an error wrapping ErrNotReplicated says they did
// not all acknowledge.
func (s *RedisStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys, err := s.keys(id)
	if err != nil {
		return err
	}
	legacy := "0"
	if s.opts.legacyTombs {
		legacy = "1"
	}
	var live int64
	if s.opts.waitReplicas > 0 {
		live, err = s.removeReplicated(ctx, keys, redisMillis(ttl), legacy)
	} else {
		live, err = redisRemove.Run(ctx, s.client, keys, redisMillis(ttl), legacy).Int64()
	}
	if err != nil {
		return fmt.Errorf("redis remove: %w", s.explain(err))
	}
	if live != 1 {
		return ErrNotFound
	}
	return nil
}

// removeReplicated runs redisRemove and WAIT in one pipeline on the
// connection of the key's primary. It returns the script's result. On a
// cluster the pipeline goes to the master's own client: WAIT has no key to
// route it by, and a ClusterClient pipeline that followed a MOVED for the
// script alone would leave WAIT on a connection that wrote nothing, where
// it succeeds at once. A stale slot map makes the script fail instead.
func (s *RedisStore) removeReplicated(ctx context.Context, keys []string, args ...interface{}) (int64, error) {
	var node *redis.Client
	switch c := s.client.(type) {
	case *redis.Client:
		node = c
	case *redis.ClusterClient:
		var err error
		if node, err = c.MasterForKey(ctx, keys[0]); err != nil {
			return 0, err
		}
	}
	live, acked, err := s.removeAndWait(ctx, node, false, keys, args)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		live, acked, err = s.removeAndWait(ctx, node, true, keys, args)
	}
	if err != nil {
		return 0, err
	}
	if acked < int64(s.opts.waitReplicas) {
		return 0, fmt.Errorf("the tombstone reached %d of %d replicas within %v: %w", acked, s.opts.waitReplicas, s.opts.waitTimeout, ErrNotReplicated)
	}
	return live, nil
}

func (s *RedisStore) removeAndWait(ctx context.Context, node *redis.Client, eval bool, keys []string, args []interface{}) (live, acked int64, err error) {
	pipe := node.Pipeline()
	var res *redis.Cmd
	if eval {
		res = redisRemove.Eval(ctx, pipe, keys, args...)
	} else {
		res = redisRemove.EvalSha(ctx, pipe, keys, args...)
	}
	wait := pipe.Do(ctx, "wait", s.opts.waitReplicas, s.opts.waitTimeout.Milliseconds())
	_, _ = pipe.Exec(ctx)
	if live, err = res.Int64(); err != nil {
		return 0, 0, err
	}
	if acked, err = wait.Int64(); err != nil {
		return 0, 0, err
	}
	return live, acked, nil
}

// Exists reports whether a record is stored under id and id carries no
// tombstone, in one script.
func (s *RedisStore) Exists(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	keys, err := s.keys(id)
	if err != nil {
		return false, nil
	}
	n, err := redisExists.Run(ctx, s.client, keys[:1]).Int64()
	if err != nil {
		return false, fmt.Errorf("redis exists: %w", s.explain(err))
	}
	return n == 1, nil
}

// LoadScripts loads the store's Lua scripts into the script cache of the
// server (of every primary on a Redis Cluster), so that the first call of
// each method is one round trip instead of two. Calling it is optional: a
// server that lost its script cache (restart, failover, SCRIPT FLUSH) is
// handled by falling back to EVAL.
func (s *RedisStore) LoadScripts(ctx context.Context) error {
	for _, sc := range []*redis.Script{redisWrite, redisRemove, redisExists, redisRead} {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return fmt.Errorf("redis load scripts: %w", s.explain(err))
		}
	}
	return nil
}

// Ping checks that the store can work, for a start-up check or a readiness
// probe: one PING, then LoadScripts, which also finds a server that runs no
// Lua scripts or a user whose ACL forbids them. Its error names the cause,
// as the store's errors do (see the RedisStore doc).
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", s.explain(err))
	}
	return s.LoadScripts(ctx)
}

// dialWatch is a go-redis hook that keeps the last failed attempt to
// connect, until one succeeds.
type dialWatch struct {
	last atomic.Pointer[dialFailure]
}

// dialFailure is one failed attempt to connect.
type dialFailure struct {
	err error
	at  time.Time
}

// watchDials adds a dialWatch to client, or to the node clients it creates
// from now on, where go-redis dials.
func watchDials(client redis.UniversalClient) *dialWatch {
	w := &dialWatch{}
	switch c := client.(type) {
	case *redis.Client:
		c.AddHook(w)
	case *redis.ClusterClient:
		c.OnNewNode(func(node *redis.Client) { node.AddHook(w) })
	case *redis.Ring:
		c.OnNewNode(func(node *redis.Client) { node.AddHook(w) })
	}
	return w
}

// DialHook implements redis.Hook.
func (w *dialWatch) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			w.last.Store(&dialFailure{err: err, at: time.Now()})
		} else {
			w.last.Store(nil)
		}
		return conn, err
	}
}

// ProcessHook implements redis.Hook; commands pass as they are.
func (w *dialWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

// ProcessPipelineHook implements redis.Hook; pipelines pass as they are.
func (w *dialWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// explain adds the last failed attempt to connect to err when err is the
// end of the call's context: go-redis then reports the deadline alone,
// though the server refused every connection meanwhile.
func (s *RedisStore) explain(err error) error {
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	f := s.dials.last.Load()
	if f == nil {
		return err
	}
	ago := time.Since(f.at).Round(time.Millisecond)
	return fmt.Errorf("%w; the last attempt to connect, %v ago, failed: %w", err, ago, f.err)
}
