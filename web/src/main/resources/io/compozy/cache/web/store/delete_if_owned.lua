-- Deletes a claimed key (a lock, a webhook delivery) only when the caller's token owns it.
-- KEYS[1] = the claimed key
-- ARGV[1] = owner token
-- Returns 1 when deleted, 0 when nobody holds the key, -1 when another token owns it.
local owner = redis.call('GET', KEYS[1])
if not owner then
  return 0
end
if owner ~= ARGV[1] then
  return -1
end
redis.call('DEL', KEYS[1])
return 1
