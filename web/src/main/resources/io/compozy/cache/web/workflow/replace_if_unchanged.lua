-- Replaces an execution's state only if it is still exactly what the caller read, keeping its TTL.
-- KEYS[1] = execution state; ARGV[1] = the state as read, ARGV[2] = the new state
-- Returns 1 when replaced, 0 when it changed meanwhile (or is gone).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
