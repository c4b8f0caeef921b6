-- write.lua: Store.Write. Applies one request's change to a record and sets
-- its TTL, in one step that no other script on the key interleaves with.
--
-- KEYS[1]   the record: a hash of one field per session key
-- ARGV[1]   the mode: MODE_MERGE, MODE_REPLACE or MODE_CREATE
-- ARGV[2]   the TTL, in milliseconds (0 when the ttl was not positive)
-- ARGV[3]   the deadline after the change: DEADLINE_STORED for the one the
--           record keeps, DEADLINE_NONE for none, else Unix milliseconds
-- ARGV[4]   n, the number of fields to set
-- ARGV[FIRST_PAIR .. FIRST_PAIR + 2n - 1]   field, value, field, value...
-- ARGV[FIRST_PAIR + 2n ..]                  the fields to delete
--
-- Returns RESULT_OK, RESULT_NOT_FOUND or RESULT_INVALIDATED.
--
-- A key of another type than a hash is left as it is: the first command,
-- HMGET, fails with WRONGTYPE before anything changed, and the script ends
-- with that error. The script declares no flags, so that Redis runs it when
-- it is out of memory and refuses only a command that would add data.

local MODE_MERGE = '0'   -- a delta or a touch: no record, nothing to do
local MODE_REPLACE = '1' -- the record becomes exactly the fields set
local MODE_CREATE = '2'  -- a delta that creates a missing record

local DEADLINE_STORED = '?'
local DEADLINE_NONE = ''

local RESULT_OK = 1
local RESULT_NOT_FOUND = 0
local RESULT_INVALIDATED = -1

local TOMB_FIELD = '__tomb'         -- present: the hash is a tombstone
local DEADLINE_FIELD = '__deadline' -- the Manager's absolute lifetime

local FIRST_PAIR = 5
-- Lua limits how many values one call of unpack may take.
local BATCH = 4000

local stored = redis.call('HMGET', KEYS[1], TOMB_FIELD, DEADLINE_FIELD)
if stored[1] then
  return RESULT_INVALIDATED
end

local mode = ARGV[1]
-- A record always holds its deadline; EXISTS is asked only without one.
local missing = not stored[2] and redis.call('EXISTS', KEYS[1]) == 0
if missing and mode == MODE_MERGE then
  return RESULT_NOT_FOUND
end
if not missing and mode == MODE_REPLACE then
  redis.call('DEL', KEYS[1])
end

local ttl = tonumber(ARGV[2])
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return RESULT_OK
end

local function batched(cmd, from, to)
  for i = from, to, BATCH do
    redis.call(cmd, KEYS[1], unpack(ARGV, i, math.min(i + BATCH - 1, to)))
  end
end
-- HSET first: it is the write that may need memory, and Redis refuses a
-- script's first memory-using write when it is out of memory (maxmemory with
-- noeviction), but lets every write after the script's first one through.
-- A Change never sets and deletes one key, so the order changes nothing else.
local lastPair = FIRST_PAIR - 1 + 2 * tonumber(ARGV[4])
batched('HSET', FIRST_PAIR, lastPair)
batched('HDEL', lastPair + 1, #ARGV)

-- The TTL never reaches past the deadline, by the server's clock. A record
-- already past it is gone: a replace was written and expired at once, a
-- delta found no live record.
local deadline = ARGV[3]
if deadline == DEADLINE_STORED then
  deadline = stored[2]
end
-- DEADLINE_NONE, no stored deadline and one that is no number give nil.
deadline = tonumber(deadline)
if deadline then
  local now = redis.call('TIME')
  local left = deadline - (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
  if left < ttl then
    ttl = left
  end
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
    if mode == MODE_REPLACE then
      return RESULT_OK
    end
    return RESULT_NOT_FOUND
  end
end
-- An upsert never shortens the TTL that another writer set.
if mode == MODE_CREATE and not missing then
  local current = redis.call('PTTL', KEYS[1])
  if current > ttl then
    ttl = current
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return RESULT_OK
