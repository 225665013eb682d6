-- ReplaceMessagesWithMetadata: swaps the whole history and its counts, keeping the key's TTL.
-- KEYS[1] = message list, KEYS[2] = metadata hash
-- ARGV[1] = ttl in ms to set on both keys (0: none), ARGV[2] = token_count, ARGV[3..n] = messages (JSON)
-- Returns the number of messages stored.
redis.call('DEL', KEYS[1])
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
end
local count = #ARGV - 2
local bytes = 0
for i = 3, #ARGV do
  bytes = bytes + #ARGV[i]
end
redis.call('HSET', KEYS[2], 'message_count', count, 'token_count', ARGV[2], 'bytes', bytes)
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  if count > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return count
