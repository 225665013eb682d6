-- Returning users: each wrk thread first creates a pool of sessions (requests without a cookie), then
-- sends every request with one of them in turn, so each request reads and rewrites an existing session.
local pool, sessions, turn = 50, {}, 0

request = function()
  if #sessions < pool then
    return wrk.format("GET")
  end
  turn = turn % #sessions + 1
  return wrk.format("GET", nil, { ["Cookie"] = sessions[turn] })
end

response = function(status, headers, body)
  local cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if cookie and #sessions < pool then
    table.insert(sessions, cookie:match("^([^;]+)"))
  end
end
