-- POST /auth/login, always the same account (BENCH_EMAIL, BENCH_PASSWORD):
-- logging in changes nothing that a next login depends on.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}',
  os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
