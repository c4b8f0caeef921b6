-- remove.lua: Store.Remove. Deletes a record and leaves a tombstone in its
-- key, in one step that no other script on the key interleaves with.
--
-- KEYS[1]   the record: a hash of one field per session key
-- ARGV[1]   the tombstone's TTL, in milliseconds (0: leave none)
--
-- Returns RESULT_REMOVED when a live record was deleted, else
-- RESULT_NOT_LIVE (there was none, or a tombstone).
--
-- A tombstone is the hash holding TOMB_FIELD alone, so that one HGETALL sees
-- the record and the tombstone together. It is never shortened: an
-- existing tombstone keeps its longer TTL.
--
-- A key of another type than a hash is left as it is: the first command,
-- HEXISTS, fails with WRONGTYPE before anything changed. The record is
-- deleted before anything is written, so that Redis lets the script finish
-- when it is out of memory: it declares no flags, and Redis then refuses
-- only a command that would add data while memory is full.

local RESULT_REMOVED = 1
local RESULT_NOT_LIVE = 0

local TOMB_FIELD = '__tomb'

-- PTTL's answers for a key without an expiry and for no key.
local PTTL_PERSISTENT = -1
local PTTL_NO_KEY = -2

local live, had = RESULT_NOT_LIVE, PTTL_NO_KEY
if redis.call('HEXISTS', KEYS[1], TOMB_FIELD) == 1 then
  had = redis.call('PTTL', KEYS[1])
elseif redis.call('DEL', KEYS[1]) == 1 then
  live = RESULT_REMOVED
end

local keep = had
local ttl = tonumber(ARGV[1])
if keep ~= PTTL_PERSISTENT and ttl > keep then
  keep = ttl
end
if keep == PTTL_PERSISTENT or keep == had then
  return live -- the tombstone there lasts at least as long
end
if keep <= 0 then
  return live -- no tombstone was asked for, and none is there
end
if had == PTTL_NO_KEY then
  redis.call('HSET', KEYS[1], TOMB_FIELD, '1')
end
redis.call('PEXPIRE', KEYS[1], keep)
return live
