-- read.lua: Store.Read on a client that may send a read-only command to a
-- replica, whose copy of a record removed a moment ago may still be live.
-- EVALSHA is no read-only command, so every client sends it to the primary,
-- and the HGETALL runs there.
--
-- KEYS[1]   the record: a hash of one field per session key
--
-- Returns the hash as a flat list: field, value, field, value...

return redis.call('HGETALL', KEYS[1])
