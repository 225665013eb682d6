-- Delete: removes a value and its ETag together and hands back what was there.
-- KEYS[1] = value key, KEYS[2] = ETag key
-- Returns the old value, or nil when there was none.
local old = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return old
