#!/usr/bin/python3
"""Checks the rendered nginx template against the FastCGI stand-in.

Run by scripts/nginx-check/run.sh (which starts nginx and the stand-in);
not part of `make test`'s end-to-end suite, which runs against the real
worker. Phases:
  routes    IP_RATE_LIMIT=0, stand-in up: routing, X-Request-ID, 413, 404,
            pass-through of the worker's own errors, params, realip off
  realip    TRUSTED_PROXIES=127.0.0.1/32: REMOTE_ADDR from X-Forwarded-For
  ratelimit IP_RATE_LIMIT=N: 429 problem after the burst, GETs not counted
  down      stand-in stopped: 503 unavailable with Retry-After: 1
usage: check.py PHASE BASE_URL [RATE]
"""
import json
import re
import sys
import time

import requests

RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ROUTES = ["/auth/register", "/auth/login", "/auth/password", "/auth/me", "/auth/verify",
          "/auth/refresh", "/auth/logout", "/auth/sessions",
          "/auth/sessions/0190a6c4-7f2e-7cc1-8a4b-1234567890ab", "/auth/email/verify",
          "/auth/email/resend", "/auth/password/forgot", "/auth/password/reset",
          "/auth/mfa/totp/setup", "/auth/mfa/verify", "/auth/mfa/passkey/options",
          "/auth/passkeys", "/auth/passkeys/register/options", "/auth/passkeys/register",
          "/auth/passkeys/0190a6c4-7f2e-7cc1-8a4b-1234567890ab", "/auth/passkeys/login/options",
          "/auth/passkeys/login", "/.well-known/jwks.json", "/health", "/health/ready", "/metrics",
          "/admin/users",
          "/admin/users/0190a6c4-7f2e-7cc1-8a4b-1234567890ab",
          "/admin/users/0190a6c4-7f2e-7cc1-8a4b-1234567890ab/disable",
          "/admin/users/0190a6c4-7f2e-7cc1-8a4b-1234567890ab/enable",
          "/admin/users/0190a6c4-7f2e-7cc1-8a4b-1234567890ab/sessions"]
UNKNOWN = ["/index.html", "/x.gif", "/", "/nope", "/auth", "/auth/", "/auth/nope", "/auth/login/", "/auth/LOGIN",
           "/health/", "/healthz", "/auth/sessions/a/b", "/auth/sessions/", "/auth/mfa",
           "/docsx", "/openapi.jsonx", "/auth/register.php", "/.well-known/", "/auth/mfa/",
           "/auth/passkeys/", "/auth/passkeysx",
           "/admin", "/admin/", "/admin/users/", "/admin/users/a/b", "/admin/users/a/delete"]

# The fast lane's paths (README "Reliability", the worker's routing table);
# every other route goes to the hashing lane, and so does DELETE /auth/me,
# the one request laned by method.
FAST = {"/auth/me", "/auth/verify", "/auth/refresh", "/auth/logout", "/auth/sessions",
        "/auth/sessions/0190a6c4-7f2e-7cc1-8a4b-1234567890ab", "/auth/passkeys",
        "/auth/passkeys/0190a6c4-7f2e-7cc1-8a4b-1234567890ab", "/.well-known/jwks.json",
        "/health", "/health/ready", "/metrics"}
HASHING_BY_METHOD = {("DELETE", "/auth/me")}


def lane_of(method, path):
    return "fast" if path in FAST and (method, path) not in HASHING_BY_METHOD else "hashing"


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def ids(r):
    return r.raw.headers.getlist("X-Request-ID")


def problem(r, status, code, where):
    check(r.status_code == status, f"{where}: status {r.status_code} != {status}")
    check(r.headers.get("Content-Type", "").startswith("application/problem+json"),
          f"{where}: content-type {r.headers.get('Content-Type')}")
    try:
        body = r.json()
    except ValueError:
        check(False, f"{where}: body is not JSON: {r.text[:100]!r}")
        return {}
    for k in ("type", "title", "status", "code", "detail", "request_id"):
        check(k in body, f"{where}: body lacks {k}")
    check(body.get("status") == status, f"{where}: body status {body.get('status')}")
    check(body.get("code") == code, f"{where}: code {body.get('code')} != {code}")
    check(len(ids(r)) == 1, f"{where}: X-Request-ID headers {ids(r)}")
    check(body.get("request_id") == r.headers.get("X-Request-ID"),
          f"{where}: request_id {body.get('request_id')} vs header {r.headers.get('X-Request-ID')}")
    return body


def forwarded(r, where, lane=None):
    check(r.status_code == 200, f"{where}: status {r.status_code}")
    try:
        body = r.json()
    except ValueError:
        check(False, f"{where}: not forwarded: {r.text[:100]!r}")
        return {}
    check(body.get("standin") is True, f"{where}: not answered by the stand-in")
    if lane is not None:
        check(body.get("lane") == lane, f"{where}: sent to the {body.get('lane')} lane, not {lane}")
    return body.get("params", {})


def phase_routes(base):
    s = requests.Session()
    for path in ROUTES:
        for method in ("GET", "POST", "DELETE"):
            r = s.request(method, base + path, data=b"{}" if method == "POST" else None,
                          headers={"Content-Type": "application/json"} if method == "POST" else {})
            p = forwarded(r, f"{method} {path}", lane_of(method, path))
            if p:
                check(p.get("DOCUMENT_URI") == [path], f"{method} {path}: DOCUMENT_URI {p.get('DOCUMENT_URI')}")
                check(p.get("REQUEST_METHOD") == [method], f"{method} {path}: REQUEST_METHOD")
    for path in UNKNOWN:
        for method in ("GET", "POST"):
            r = s.request(method, base + path, allow_redirects=False)
            problem(r, 404, "not_found", f"{method} {path}")
            check("standin" not in r.text, f"{method} {path}: reached the stand-in")

    # Params the worker reads.
    r = s.post(base + "/auth/login?x=1&y=2", data=b'{"a":1}',
               headers={"Content-Type": "application/json; charset=utf-8",
                        "Authorization": "Bearer abc.def.ghi", "User-Agent": "check/1",
                        "X-Request-ID": "check-1", "Proxy": "http://evil"})
    p = forwarded(r, "params")
    check(p.get("DOCUMENT_URI") == ["/auth/login"], f"params: DOCUMENT_URI {p.get('DOCUMENT_URI')}")
    check(p.get("QUERY_STRING") == ["x=1&y=2"], f"params: QUERY_STRING {p.get('QUERY_STRING')}")
    check(p.get("CONTENT_TYPE") == ["application/json; charset=utf-8"], "params: CONTENT_TYPE")
    check(p.get("CONTENT_LENGTH") == ["7"], f"params: CONTENT_LENGTH {p.get('CONTENT_LENGTH')}")
    check(p.get("HTTP_AUTHORIZATION") == ["Bearer abc.def.ghi"], "params: HTTP_AUTHORIZATION")
    check(p.get("HTTP_USER_AGENT") == ["check/1"], "params: HTTP_USER_AGENT")
    check(p.get("HTTP_X_REQUEST_ID") == ["check-1"], f"params: HTTP_X_REQUEST_ID {p.get('HTTP_X_REQUEST_ID')}")
    check(p.get("REMOTE_ADDR") == ["127.0.0.1"], f"params: REMOTE_ADDR {p.get('REMOTE_ADDR')}")
    check(p.get("HTTP_PROXY") in (None, [""]), f"params: HTTP_PROXY {p.get('HTTP_PROXY')}")
    check("HTTPS" not in p, "params: HTTPS set over plain HTTP")
    check(ids(r) == ["check-1"], f"params: X-Request-ID {ids(r)}")

    # Normalised paths reach the worker normalised.
    p = forwarded(s.get(base + "/auth//me"), "//")
    check(p.get("DOCUMENT_URI") == ["/auth/me"], f"merge_slashes: {p.get('DOCUMENT_URI')}")
    p = forwarded(s.get(base + "/auth/%6De"), "%6D")
    check(p.get("DOCUMENT_URI") == ["/auth/me"], f"percent-decoding: {p.get('DOCUMENT_URI')}")

    # X-Request-ID: generated, replaced when invalid, always one.
    seen = set()
    for sent in (None, "", "has space", "a" * 65, "ab/cd", "é", "x;y", "a,b"):
        h = {} if sent is None else {"X-Request-ID": sent}
        r = s.get(base + "/health", headers=h)
        p = forwarded(r, f"rid {sent!r}")
        got = ids(r)
        check(len(got) == 1 and RID.match(got[0]) and got[0] != sent, f"rid {sent!r}: {got}")
        check(p.get("HTTP_X_REQUEST_ID") == got, f"rid {sent!r}: worker got {p.get('HTTP_X_REQUEST_ID')}")
        seen.update(got)
    check(len(seen) == 8, "generated ids repeat")
    r = s.get(base + "/health", headers={"X-Request-ID": "A" * 64})
    check(ids(r) == ["A" * 64], "64-character id not passed through")
    r = s.get(base + "/nope", headers={"X-Request-ID": "err.id_1-x"})
    check(problem(r, 404, "not_found", "404 rid").get("request_id") == "err.id_1-x", "404 rid body")

    # The worker's own errors pass through untouched; its X-Request-ID is hidden.
    for st in (400, 401, 403, 404, 405, 409, 415, 422, 429, 500, 503):
        r = s.post(base + "/auth/login", headers={"X-Standin-Status": str(st),
                                                  "X-Standin-Request-Id": "worker-own",
                                                  "X-Request-ID": "mine"})
        check(r.status_code == st, f"worker {st}: status {r.status_code}")
        check(r.headers.get("Content-Type") == "application/problem+json", f"worker {st}: CT")
        check(r.json().get("code") == "standin", f"worker {st}: intercepted")
        check(ids(r) == ["mine"], f"worker {st}: X-Request-ID {ids(r)}")
        check("Retry-After" not in r.headers, f"worker {st}: nginx added Retry-After")
    r = s.get(base + "/auth/me", headers={"X-Standin-Status": "405"})
    check(r.headers.get("Allow") == "POST", "worker 405: Allow not passed")
    r = s.get(base + "/auth/verify", headers={"X-Standin-Status": "204"})
    check(r.status_code == 204 and "Content-Type" not in r.headers,
          f"worker 204: {r.status_code} {r.headers.get('Content-Type')}")
    check(len(ids(r)) == 1, "worker 204: X-Request-ID")
    r = s.get(base + "/health")
    check("Server" not in r.headers or r.headers["Server"] == "nginx", f"server_tokens: {r.headers.get('Server')}")

    # Size: 16 KiB passes, one byte more is nginx's 413 (chunked too).
    r = s.post(base + "/auth/login", data=b" " * 16384, headers={"Content-Type": "application/json"})
    check(forwarded(r, "16384").get("CONTENT_LENGTH") == ["16384"], "16384 bytes not forwarded")
    for where, data in (("16385", b" " * 16385), ("1MiB", b" " * (1 << 20)),
                        ("chunked", iter([b" " * 10000, b" " * 10000]))):
        r = s.post(base + "/auth/register", data=data, headers={"Content-Type": "text/plain"})
        problem(r, 413, "payload_too_large", f"413 {where}")
    r = requests.post(base + "/nope", data=b" " * 20000)
    problem(r, 404, "not_found", "unknown route with a big body")
    # After a 413 the connection still serves (or was closed cleanly).
    forwarded(s.get(base + "/health"), "after 413")


def phase_realip(base):
    s = requests.Session()
    p = forwarded(s.get(base + "/health", headers={"X-Forwarded-For": "203.0.113.9"}), "xff")
    check(p.get("REMOTE_ADDR") == ["203.0.113.9"], f"realip: {p.get('REMOTE_ADDR')}")
    p = forwarded(s.get(base + "/health", headers={"X-Forwarded-For": "198.51.100.1, 127.0.0.1"}), "xff2")
    check(p.get("REMOTE_ADDR") == ["198.51.100.1"], f"realip recursive: {p.get('REMOTE_ADDR')}")
    # ADMIN_ALLOW (loopback by default) is judged on the real address, before
    # anything else: the same 404 as no route, whatever the method or size.
    outside = {"X-Forwarded-For": "203.0.113.9", "Content-Type": "application/json"}
    for method, path in (("GET", "/admin/users"), ("PUT", "/admin/users"),
                         ("POST", "/admin/users/0190a6c4-7f2e-7cc1-8a4b-1234567890ab/disable")):
        r = s.request(method, base + path, headers=outside, data=b"x" * 20000)
        problem(r, 404, "not_found", f"{method} {path} from outside ADMIN_ALLOW")
        check("standin" not in r.text, f"{method} {path}: reached the stand-in from outside")
    forwarded(s.get(base + "/admin/users", headers={"X-Forwarded-For": "127.0.0.1"}),
              "admin from loopback through the proxy")


def phase_norealip(base):
    p = forwarded(requests.get(base + "/health", headers={"X-Forwarded-For": "203.0.113.9"}), "xff")
    check(p.get("REMOTE_ADDR") == ["127.0.0.1"], f"untrusted XFF believed: {p.get('REMOTE_ADDR')}")


def phase_ratelimit(base, rate):
    s = requests.Session()
    retry = max(1, -(-60 // rate))
    for i in range(30):  # GETs and POSTs elsewhere are not counted
        forwarded(s.get(base + "/auth/me"), f"GET {i}")
        forwarded(s.post(base + "/health"), f"POST /health {i}")
        forwarded(s.get(base + "/admin/users"), f"GET /admin/users {i}")
    codes = []
    for i in range(25):
        r = s.post(base + "/auth/login", data=b"{}", headers={"Content-Type": "application/json"})
        codes.append(r.status_code)
        if r.status_code == 429:
            body = problem(r, 429, "too_many_attempts", f"429 #{i}")
            check(r.headers.get("Retry-After") == str(retry), f"429 Retry-After {r.headers.get('Retry-After')} != {retry}")
            check(body.get("retry_after") == retry, f"429 retry_after {body.get('retry_after')}")
    # rate r/m allows 1 + burst 20 at once (plus what refilled meanwhile).
    first = codes.index(429) if 429 in codes else None
    check(first is not None and 21 <= first <= 23, f"429 after {first} POSTs: {codes}")
    check(all(c == 429 for c in codes[first:]) if first else False, f"not all 429 after the first: {codes}")
    r = s.post(base + "/auth/nope", data=b"{}")
    problem(r, 404, "not_found", "unknown /auth/ route while limited")
    # Closing an account takes a password too: counted with the POSTs.
    problem(s.delete(base + "/auth/me"), 429, "too_many_attempts", "DELETE /auth/me while limited")
    forwarded(s.get(base + "/auth/me"), "GET while limited")


def phase_pools(base):
    """FCGI_TARGETS with two pools: every route reaches its own lane whichever
    pool takes it, and requests are spread over both pools on both lanes."""
    s = requests.Session()
    seen = set()
    for _ in range(2):
        for path in ROUTES:
            for method in ("GET", "POST", "DELETE"):
                r = s.request(method, base + path, data=b"{}" if method == "POST" else None,
                              headers={"Content-Type": "application/json"} if method == "POST" else {})
                forwarded(r, f"pools: {method} {path}", lane_of(method, path))
                if r.status_code == 200:
                    seen.add((r.json().get("pool"), r.json().get("lane")))
    for pool in ("A", "B"):
        for lane in ("hashing", "fast"):
            check((pool, lane) in seen, f"pools: pool {pool}'s {lane} lane never answered ({sorted(seen)})")


def phase_pool_down(base):
    """Pool A's host is gone (both of its lanes refuse connections): every
    request, on either lane, is passed over to pool B, none answered 502/503."""
    s = requests.Session()
    started = time.monotonic()
    for path in ROUTES:
        for method in ("GET", "POST"):
            r = s.request(method, base + path, data=b"{}" if method == "POST" else None,
                          headers={"Content-Type": "application/json"} if method == "POST" else {})
            forwarded(r, f"pool A down: {method} {path}", lane_of(method, path))
            if r.status_code == 200:
                check(r.json().get("pool") == "B", f"pool A down: {method} {path} from {r.json().get('pool')}")
    check(time.monotonic() - started < 30, "pool A down: requests were slow to pass over")


def phase_down(base):
    s = requests.Session()
    for path, method in (("/health", "GET"), ("/auth/login", "POST"), ("/auth/me", "GET")):
        r = s.request(method, base + path, headers={"X-Request-ID": "down-1"})
        body = problem(r, 503, "unavailable", f"down {method} {path}")
        check(r.headers.get("Retry-After") == "1", f"down: Retry-After {r.headers.get('Retry-After')}")
        check(body.get("retry_after") == 1, "down: retry_after")
        check(ids(r) == ["down-1"], f"down: ids {ids(r)}")


def phase_slow(base):
    # The stand-in answers after 2 s: well inside the read timeout.
    r = requests.get(base + "/health", headers={"X-Standin-Sleep": "2"})
    forwarded(r, "slow answer")


def main():
    phase, base = sys.argv[1], sys.argv[2].rstrip("/")
    if phase == "ratelimit":
        phase_ratelimit(base, int(sys.argv[3]))
    else:
        globals()["phase_" + phase](base)
    if failures:
        print(f"{phase}: {len(failures)} failed")
        sys.exit(1)
    print(f"{phase}: all checks passed")


if __name__ == "__main__":
    main()
