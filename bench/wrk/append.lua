-- POST one message to a conversation per request (memory append through the Lua script).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"messages":[{"role":"user","content":"hello from wrk"}],"tokens":3,"maxLen":200}'
