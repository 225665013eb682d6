-- Appends one execution event: numbers it, logs it, trims the log, renews both TTLs and publishes it,
-- in one atomic step, so ids are logged and published in the order they are taken.
-- KEYS[1] = sequence (INCR), KEYS[2] = log (newest first)
-- ARGV[1] = channel, ARGV[2] = log length kept, ARGV[3] = retention in ms,
-- ARGV[4] = the event's JSON object after its id: ',"type":..,"data":..,"at":..}'
-- Returns the event's id.
local id = redis.call('INCR', KEYS[1])
local payload = '{"id":' .. id .. ARGV[4]
redis.call('LPUSH', KEYS[2], payload)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[1], payload)
return id
