-- TrimMessagesWithMetadata: keeps the newest keep_count messages and resets the counts.
-- KEYS[1] = message list, KEYS[2] = metadata hash
-- ARGV[1] = keep_count (>= 0), ARGV[2] = token_count
-- Returns the list length after the trim.
local keep = tonumber(ARGV[1])
if keep == nil or keep < 0 then
  return redis.error_reply('keep_count must be a number >= 0')
end
if keep == 0 then
  -- LTRIM key -0 -1 would keep everything.
  redis.call('DEL', KEYS[1])
else
  redis.call('LTRIM', KEYS[1], -keep, -1)
end
local bytes = 0
for _, message in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  bytes = bytes + #message
end
local length = redis.call('LLEN', KEYS[1])
redis.call('HSET', KEYS[2], 'message_count', length, 'token_count', ARGV[2], 'bytes', bytes)
return length
