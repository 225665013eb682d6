-- Deletes a lock only when the caller owns it.
-- KEYS[1] = lock key
-- ARGV[1] = owner token
-- Returns 1 when released, 0 when nobody holds the lock, -1 when another token owns it.
local owner = redis.call('GET', KEYS[1])
if not owner then
  return 0
end
if owner ~= ARGV[1] then
  return -1
end
redis.call('DEL', KEYS[1])
return 1
