-- Writes an execution's state unless the stored state has already ended (succeeded or failed): whoever
-- ended it first (the runner, or the sweep of interrupted executions) is never overwritten.
-- KEYS[1] = execution state; ARGV[1] = the new state (JSON), ARGV[2] = TTL in ms
-- Returns 1 when written, or when the stored state is exactly ARGV[1] (a repeat of this write);
-- 0 when the stored state has ended and is another one.
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then
  local ok, state = pcall(cjson.decode, current)
  if ok and type(state) == 'table' and (state.status == 'succeeded' or state.status == 'failed') then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
