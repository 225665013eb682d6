-- Moves one key of an earlier layout to its new name, in one step, only while it is still the store's.
-- KEYS[1] = the old name, KEYS[2] = the new name
-- ARGV[1] = the Redis TYPE its store writes there ('string', 'list' or 'hash')
-- Returns 'MOVED'; 'GONE' (it expired, or another server moved it, since the SCAN listed it); 'OTHER_TYPE'
-- (another application's key that shares the prefix); or 'TAKEN' (the new name exists: both layouts hold it).
local type = redis.call('TYPE', KEYS[1]).ok
if type == 'none' then
  return 'GONE'
end
if type ~= ARGV[1] then
  return 'OTHER_TYPE'
end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 1 then
  return 'MOVED'
end
return 'TAKEN'
