-- PutIfMatch: replaces a value and its ETag together, only when the value is as the caller saw it.
-- KEYS[1] = value key, KEYS[2] = ETag key
-- ARGV[1] = mode: 'absent' (insert only when missing) or 'match' (replace only when the bytes equal ARGV[2])
-- ARGV[2] = the bytes the caller read (mode 'match'), ARGV[3] = new value, ARGV[4] = new ETag
-- Returns 'OK', 'NOT_FOUND', 'MISMATCH' or 'ALREADY_EXISTS'.
local current = redis.call('GET', KEYS[1])
if ARGV[1] == 'absent' then
  if current then
    return 'ALREADY_EXISTS'
  end
else
  if not current then
    return 'NOT_FOUND'
  end
  if current ~= ARGV[2] then
    return 'MISMATCH'
  end
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
return 'OK'
