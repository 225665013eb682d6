-- AppendAndTrimWithMetadata: appends messages and keeps the counts beside them, in one step; refuses (and changes
-- nothing) when the conversation would pass its limits.
-- KEYS[1] = message list, KEYS[2] = metadata hash
-- ARGV[1] = max_len (0: no trim), ARGV[2] = token increment, ARGV[3] = max messages (0: none),
-- ARGV[4] = max bytes (0: none), ARGV[5..n] = messages (JSON), in order
-- Returns the list length after the append (and trim); -1 over max messages, -2 over max bytes.
local maxLen = tonumber(ARGV[1])
local tokenIncrement = tonumber(ARGV[2])
local maxMessages = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[4])
local first = 5
local pushed = #ARGV - first + 1
local length = redis.call('LLEN', KEYS[1])
-- The bytes of the messages, kept in the hash; a conversation stored before the field existed is counted once.
local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes'))
if bytes == nil then
  bytes = 0
  for _, message in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    bytes = bytes + #message
  end
end
local added = 0
for i = first, #ARGV do
  added = added + #ARGV[i]
end
-- What the trim to max_len drops: the oldest messages first, then the oldest of the new ones.
local dropped = 0
local droppedBytes = 0
if maxLen > 0 and length + pushed > maxLen then
  dropped = length + pushed - maxLen
  local oldDropped = math.min(dropped, length)
  if oldDropped > 0 then
    for _, message in ipairs(redis.call('LRANGE', KEYS[1], 0, oldDropped - 1)) do
      droppedBytes = droppedBytes + #message
    end
  end
  for i = first, first + dropped - oldDropped - 1 do
    droppedBytes = droppedBytes + #ARGV[i]
  end
end
if maxMessages > 0 and length + pushed - dropped > maxMessages then
  return -1
end
if maxBytes > 0 and bytes + added - droppedBytes > maxBytes then
  return -2
end
-- One RPUSH per message: unpack() of a large batch would overflow Lua's stack.
for i = first, #ARGV do
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
redis.call('HSET', KEYS[2], 'bytes', bytes + added - droppedBytes)
return redis.call('LLEN', KEYS[1])
