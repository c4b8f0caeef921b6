-- exists.lua: Store.Exists. Whether a live record, not a tombstone, is
-- stored in a key.
--
-- KEYS[1]   the record: a hash of one field per session key
--
-- Returns RESULT_LIVE or RESULT_NONE. A key of another type than a hash
-- fails the first command, HEXISTS, with WRONGTYPE.

local RESULT_LIVE = 1
local RESULT_NONE = 0

local TOMB_FIELD = '__tomb'

if redis.call('HEXISTS', KEYS[1], TOMB_FIELD) == 1 then
  return RESULT_NONE
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return RESULT_LIVE
end
return RESULT_NONE
