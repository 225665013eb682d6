-- Appends one execution event: numbers it, logs it, trims the log, renews the TTLs and publishes it,
-- in one atomic step, so ids are logged and published in the order they are taken. A stream that has had
-- its last event (a workflow's end) takes no more events from its runner.
-- KEYS[1] = sequence (INCR), KEYS[2] = log (newest first), KEYS[3] = end marker (the last event's id)
-- ARGV[1] = channel, ARGV[2] = log length kept, ARGV[3] = retention in ms,
-- ARGV[4] = the event's JSON object after its id: ',"type":..,"data":..,"at":..}',
-- ARGV[5] = 'any' (append whatever came before), 'open' (only while the stream has not ended),
--           'last' (only while it has not ended, and end it with this event)
-- Returns the event's id, or 0 when the stream has ended and ARGV[5] is not 'any'.
if ARGV[5] ~= 'any' and redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
local id = redis.call('INCR', KEYS[1])
local payload = '{"id":' .. id .. ARGV[4]
redis.call('LPUSH', KEYS[2], payload)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[5] == 'last' then
  redis.call('SET', KEYS[3], id, 'PX', ARGV[3])
else
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
redis.call('PUBLISH', ARGV[1], payload)
return id
