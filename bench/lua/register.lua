-- POST /auth/register with a new email every request: BENCH_RUN_ID (unique
-- per wrk run) and a counter make it unique; BENCH_PASSWORD is strong.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local prefix = "bench-" .. os.getenv("BENCH_RUN_ID") .. "-"
local password = os.getenv("BENCH_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

function request()
  counter = counter + 1
  local body = string.format('{"email":"%s%d@example.com","password":"%s"}',
    prefix, counter, password)
  return wrk.format("POST", nil, headers, body)
end
