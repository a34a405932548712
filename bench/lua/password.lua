-- POST /auth/password, flipping each account between two passwords.
-- BENCH_USERS: comma-separated emails, all with password BENCH_PASSWORD_A
-- now; BENCH_PASSWORD_B is the other one. An account is used by one request
-- at a time: each request names its account in X-Request-ID (nginx echoes
-- it), and the answer frees the account, flipped on a 200. Run with one wrk
-- thread and more accounts than connections.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local passwords = { os.getenv("BENCH_PASSWORD_A"), os.getenv("BENCH_PASSWORD_B") }
local emails, current, busy, free = {}, {}, {}, {}
for email in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do
  emails[#emails + 1] = email
  current[#emails] = 1
  free[#free + 1] = #emails
end
starved = 0

function request()
  local i = table.remove(free, 1)
  if i == nil then
    -- Every account busy: only when answers were lost (connection errors).
    starved = starved + 1
    i = 1
  end
  busy[i] = true
  local body = string.format('{"email":"%s","current_password":"%s","new_password":"%s"}',
    emails[i], passwords[current[i]], passwords[3 - current[i]])
  return wrk.format("POST", "/auth/password",
    { ["Content-Type"] = "application/json", ["X-Request-ID"] = "pw-" .. i }, body)
end

function response(status, headers, body)
  local rid = headers["X-Request-ID"] or headers["x-request-id"]
  local i = rid and tonumber(string.match(rid, "^pw%-(%d+)$"))
  if i and busy[i] then
    busy[i] = false
    if status == 200 then current[i] = 3 - current[i] end
    free[#free + 1] = i
  end
end
