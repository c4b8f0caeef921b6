package sessions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store that keeps sessions in Redis. It works with any
// redis.UniversalClient: a single node (*redis.Client), a Sentinel-managed
// primary (redis.NewFailoverClient) or a Redis Cluster (*redis.ClusterClient).
//
// # Layout
//
// A session's record is a hash, one field per session key, with the values
// stored as the Codec encoded them (JSON by default, readable in redis-cli).
// A removed session leaves a tombstone, a plain string key. For a session ID
// the two keys are
//
//	<prefix>{<k>}        the record (hash)
//	<prefix>{<k>}:tomb   the tombstone (string)
//
// where the prefix defaults to "session:" (see WithKeyPrefix) and k is the
// id the store is given: the session's handle, the hex SHA-256 of its ID, so
// that a leaked key listing hands out no live cookies, or the key of one of
// the Manager's own records (a user's index, a session's successors). The
// braces are a Redis Cluster hash tag: both keys of a record live in the
// same slot, which lets one Lua script check the tombstone and change the
// record atomically on a cluster too.
//
// # Expiry
//
// Both keys expire through Redis TTLs; nothing needs sweeping. The Manager
// passes Write a ttl of min(idle timeout, remaining absolute lifetime), and
// every Write, including a touch, sets the record's TTL to it. A request
// that only writes has not read the session's lifetime, so it passes the
// idle timeout: the Write script caps the TTL at the deadline the record
// keeps under "__deadline", read with the server's clock, and refuses a
// delta to a record past it as a write to a missing record. Remove is
// given a ttl of at least the absolute lifetime, so the tombstone outlives
// every cookie that could still carry the ID. A tombstone is never
// shortened: Remove keeps an existing tombstone's longer TTL.
//
// # Round trips
//
// Read, Write, Remove and Exists are one round trip each. Write, Remove and
// Exists are one Lua script each, sent with EVALSHA; the first call of a
// script on a server that has not cached it yet costs one more round trip
// (EVALSHA answered by NOSCRIPT, then EVAL), which LoadScripts avoids at
// start-up. Read is one MULTI/EXEC transaction, EXISTS on the tombstone and
// HGETALL on the record, sent as one pipeline: atomic like a script, and
// cheaper for Redis to run than one. Scripts and transactions run on the
// primary, so a client that routes read-only commands to replicas (ReadOnly,
// RouteByLatency, RouteRandomly) never serves a stale copy of a removed
// session.
//
// Deployment: use a maxmemory policy that does not evict keys with a TTL
// (noeviction, or allkeys-* with room to spare), since an evicted tombstone
// no longer refuses writes; and Redis 5 or later (the Write script reads
// TIME before writing).
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
// A RedisStore is safe for concurrent use. It does not own the client:
// closing the client is the caller's business.
type RedisStore struct {
	client redis.UniversalClient
	opts   redisOptions
}

// RedisOption configures a RedisStore; pass it to NewRedisStore.
type RedisOption func(*redisOptions)

type redisOptions struct {
	prefix string
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

// NewRedisStore returns a Store that keeps sessions in Redis through client.
// It panics if the options are invalid (a key prefix with '{' or '}').
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
	return &RedisStore{client: client, opts: o}
}

// Result codes of redisWrite.
const (
	redisWriteOK          = 1
	redisWriteNotFound    = 0
	redisWriteInvalidated = -1
)

// KEYS[1] is the record, KEYS[2] the tombstone, in every script.
var (
	// ARGV: mode ("1" replace, "2" create-merge, "0" merge), ttl in ms, number of pairs to set, the
	// pairs (field, value, ...), then the fields to delete.
	// unpack is batched: Lua limits how many values one call may take.
	redisWrite = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local replace = ARGV[1] == '1'
local nset = tonumber(ARGV[3])
local setEnd = 3 + 2 * nset
local kind = redis.call('TYPE', KEYS[1]).ok
if replace or (kind ~= 'hash' and kind ~= 'none') then
  redis.call('DEL', KEYS[1])
  if not replace then
    kind = 'none'
  end
end
if not replace and kind == 'none' and (ARGV[1] ~= '2' or #ARGV == 3) then
  return 0
end
local function batched(cmd, from, to, step)
  for i = from, to, step do
    redis.call(cmd, KEYS[1], unpack(ARGV, i, math.min(i + step - 1, to)))
  end
end
if tonumber(ARGV[2]) <= 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
batched('HDEL', setEnd + 1, #ARGV, 4000)
batched('HSET', 4, setEnd, 4000)
local ttl = tonumber(ARGV[2])
local deadline = tonumber(redis.call('HGET', KEYS[1], '__deadline'))
if deadline then
  local t = redis.call('TIME')
  local left = deadline - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if left < ttl then
    ttl = left
  end
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
    if replace then
      return 1
    end
    return 0
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`)

	// ARGV[1] is the tombstone's ttl in ms, 0 for none. PTTL is -1 for a
	// tombstone without expiry and -2 for none. Returns 1 if a live record
	// was removed, else 0.
	redisRemove = redis.NewScript(`
local removed = redis.call('DEL', KEYS[1])
local ttl = tonumber(ARGV[1])
local cur = redis.call('PTTL', KEYS[2])
if ttl > 0 and cur ~= -1 and cur < ttl then
  redis.call('SET', KEYS[2], '1', 'PX', ttl)
end
if removed == 1 and cur == -2 then
  return 1
end
return 0
`)

	redisExists = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
return redis.call('EXISTS', KEYS[1])
`)
)

var errRedisBadID = errors.New("sessions: redis: id is empty or contains '{' or '}'")

// recordKey returns the key of id's record: <prefix>{<id>}.
func (s *RedisStore) recordKey(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "{}") {
		return "", errRedisBadID
	}
	b := make([]byte, 0, len(s.opts.prefix)+len(id)+2)
	b = append(b, s.opts.prefix...)
	b = append(b, '{')
	b = append(b, id...)
	b = append(b, '}')
	return string(b), nil
}

// keys returns the record key and the tombstone key of id.
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
// carries a tombstone. It is one round trip: a MULTI/EXEC transaction of the
// tombstone check and HGETALL.
func (s *RedisStore) Read(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, err := s.keys(id)
	if err != nil {
		return nil, ErrNotFound
	}
	pipe := s.client.TxPipeline()
	tomb := pipe.Exists(ctx, keys[1])
	all := pipe.HGetAll(ctx, keys[0])
	if _, err := pipe.Exec(ctx); err != nil {
		if strings.HasPrefix(err.Error(), "WRONGTYPE") {
			return nil, fmt.Errorf("redis read: the key is not a hash: %w", ErrCorrupt)
		}
		return nil, fmt.Errorf("redis read: %w", err)
	}
	vals := all.Val()
	if tomb.Val() != 0 || len(vals) == 0 {
		return nil, ErrNotFound
	}
	rec := make(Record, len(vals))
	for k, v := range vals {
		rec[k] = []byte(v)
	}
	return rec, nil
}

// Write applies ch to the record under id and sets its TTL to ttl, in one
// script: ErrInvalidated if id carries a tombstone, ErrNotFound if ch is not
// a Replace and no record exists. The ttl is rounded up to whole
// milliseconds; a ttl that is not positive leaves no record under id, as if
// it had expired at once (the tombstone and not-found checks still apply).
func (s *RedisStore) Write(ctx context.Context, id string, ch Change, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys, err := s.keys(id)
	if err != nil {
		return err
	}
	mode := "0"
	switch {
	case ch.Replace:
		mode = "1"
	case ch.Create:
		mode = "2"
	}
	args := make([]interface{}, 0, 3+2*len(ch.Set)+len(ch.Delete))
	args = append(args, mode, redisMillis(ttl), len(ch.Set))
	for k, v := range ch.Set {
		args = append(args, k, v)
	}
	if !ch.Replace {
		for _, k := range ch.Delete {
			args = append(args, k)
		}
	}
	code, err := redisWrite.Run(ctx, s.client, keys, args...).Int64()
	if err != nil {
		return fmt.Errorf("redis write: %w", err)
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

// Remove deletes the record under id and leaves a tombstone that lasts at
// least ttl, in one script. An existing tombstone with a longer TTL keeps
// it. It returns ErrNotFound, after leaving the tombstone all the same, when
// no live record was stored under id: of concurrent Removes of one record,
// exactly one returns nil. A ttl that is not positive deletes the record and
// leaves no new tombstone.
func (s *RedisStore) Remove(ctx context.Context, id string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys, err := s.keys(id)
	if err != nil {
		return err
	}
	live, err := redisRemove.Run(ctx, s.client, keys, redisMillis(ttl)).Int64()
	if err != nil {
		return fmt.Errorf("redis remove: %w", err)
	}
	if live != 1 {
		return ErrNotFound
	}
	return nil
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
	n, err := redisExists.Run(ctx, s.client, keys).Int64()
	if err != nil {
		return false, fmt.Errorf("redis exists: %w", err)
	}
	return n == 1, nil
}

// LoadScripts loads the store's Lua scripts into the script cache of the
// server (of every primary on a Redis Cluster), so that the first call of
// each method is one round trip instead of two. Calling it is optional: a
// server that lost its script cache (restart, failover, SCRIPT FLUSH) is
// handled by falling back to EVAL.
func (s *RedisStore) LoadScripts(ctx context.Context) error {
	for _, sc := range []*redis.Script{redisWrite, redisRemove, redisExists} {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return fmt.Errorf("redis load scripts: %w", err)
		}
	}
	return nil
}
