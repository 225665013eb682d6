-- Moves one key of the layout before hash tags to its new name, in one step.
-- KEYS[1] = the old name, KEYS[2] = the new name
-- Returns 'MOVED'; 'GONE' (it expired, or another server moved it, since the SCAN listed it); or 'TAKEN'
-- (the new name exists: both layouts hold the entity).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'GONE'
end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 1 then
  return 'MOVED'
end
return 'TAKEN'
