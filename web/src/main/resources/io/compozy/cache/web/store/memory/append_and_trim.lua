-- AppendAndTrimWithMetadata: appends messages and keeps the counts beside them, in one step.
-- KEYS[1] = message list, KEYS[2] = metadata hash
-- ARGV[1] = max_len (0: no trim), ARGV[2] = token increment, ARGV[3..n] = messages (JSON), in order
-- Returns the list length after the append (and trim).
local maxLen = tonumber(ARGV[1])
local tokenIncrement = tonumber(ARGV[2])
local pushed = #ARGV - 2
-- One RPUSH per message: unpack() of a large batch would overflow Lua's stack.
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
end
if tokenIncrement > 0 then
  redis.call('HINCRBY', KEYS[2], 'token_count', tokenIncrement)
end
redis.call('HINCRBY', KEYS[2], 'message_count', pushed)
if maxLen > 0 then
  redis.call('LTRIM', KEYS[1], -maxLen, -1)
  redis.call('HSET', KEYS[2], 'message_count', redis.call('LLEN', KEYS[1]))
end
return redis.call('LLEN', KEYS[1])
