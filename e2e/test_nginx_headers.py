"""Finding 9 of issue 17: every answer nginx makes itself carries the headers
the README promises (Cache-Control: no-store, Content-Security-Policy,
X-Content-Type-Options: nosniff, X-Request-ID, and Strict-Transport-Security
on HTTPS only). A location with an add_header of its own inherits none of
the server's, which is how the 413 lost CSP and nosniff and every one of
them Cache-Control.

Every status nginx answers itself is asked, on both doors of a second nginx
rendered from the same template (TLS on, IP_RATE_LIMIT=1 so its 429 comes
quickly, FastCGI pointed at a socket nobody listens on for its 503, and one
test-only location that returns 500 to reach its @internal page); and the
worker's own answers through the stack's nginx carry exactly one
Cache-Control."""
import os
import re

import pytest
import requests

from authd_e2e import own_nginx, raw_exchange

pytestmark = [pytest.mark.once]

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def assert_headers(status: int, headers, https: bool, what: str) -> None:
    h = {k.lower(): v for k, v in headers.items()}
    where = f"{what} ({status}, {'https' if https else 'http'}): {h}"
    assert h.get("cache-control") == "no-store", where
    assert "default-src 'none'" in h.get("content-security-policy", ""), where
    assert h.get("x-content-type-options") == "nosniff", where
    assert REQUEST_ID.match(h.get("x-request-id", "")), where
    if https:
        assert h.get("strict-transport-security") == "max-age=63072000", where
    else:
        assert "strict-transport-security" not in h, where


@pytest.fixture(scope="module")
def doors(tls_doors):
    tls_dir = os.path.dirname(tls_doors["ca"])
    run_dir = os.path.dirname(os.environ.get("E2E_FCGI_SOCKET", "/nonexistent/x"))

    def with_a_500(conf: str) -> str:
        # A test-only location: nothing in the template answers 500 on
        # purpose, yet its @internal page must carry the headers too.
        marker = "        location / {"
        assert marker in conf
        return conf.replace(marker, "        location = /.authd-test/500 { return 500; }\n" + marker, 1)

    with own_nginx({"TLS_CERT": f"{tls_dir}/cert.pem", "TLS_KEY": f"{tls_dir}/key.pem",
                    "IP_RATE_LIMIT": "1", "FCGI_TARGET": f"{run_dir}/nobody-listens.sock"},
                   patch=with_a_500) as urls:
        yield urls, tls_doors["ca"]


@pytest.mark.parametrize("door", ["http", "https"])
def test_finding_09_every_status_nginx_answers_itself_carries_the_headers(doors, door):
    urls, ca = doors
    base = urls[door]
    https = door == "https"
    s = requests.Session()

    def ask(method, path, **kw):
        # verify per request: a Session's own loses to REQUESTS_CA_BUNDLE.
        return s.request(method, base + path, allow_redirects=False, timeout=10, verify=ca, **kw)

    seen = {}
    # 400, 414, 431: HTTP nginx cannot parse.
    raw_cases = {
        400: b"GARBAGE\r\n\r\n",
        414: b"GET /auth/me?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
        431: b"GET /health HTTP/1.1\r\nHost: a\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n",
    }
    for status, request in raw_cases.items():
        answer = raw_exchange(request, base_url=base, cafile=ca)
        assert answer.status == status, answer
        assert_headers(status, answer.headers, https, "unparsable request")
        seen[status] = True
    cases = [
        (404, "GET", "/no-such-route", {}),
        (405, "POST", "/apidoc", {}),  # the docs' redirect takes GET and HEAD only
        (405, "GET", "/auth/login", {"data": b"x" * 17000}),  # wrong method and too large
        (413, "POST", "/auth/login", {"data": b"x" * 17000,
                                     "headers": {"Content-Type": "application/json"}}),
        (503, "GET", "/auth/me", {}),  # the pool cannot be reached
        (500, "GET", "/.authd-test/500", {}),
    ]
    for status, method, path, kw in cases:
        r = ask(method, path, **kw)
        assert r.status_code == status, (method, path, r.status_code, r.text[:200])
        assert r.headers.get("Content-Type") == "application/problem+json", r.headers
        assert_headers(status, r.headers, https, f"{method} {path}")
        seen[status] = True
    # 429: the per-address limit (1 a minute, burst 20); the refused ones
    # are nginx's, the rest its 503 (no pool).
    refused = None
    for _ in range(25):
        r = ask("POST", "/auth/refresh", data=b"{}", headers={"Content-Type": "application/json"})
        if r.status_code == 429:
            refused = r
            break
    assert refused is not None, "no 429 after 25 POSTs at IP_RATE_LIMIT=1"
    assert_headers(429, refused.headers, https, "per-address limit")
    assert refused.headers.get("Retry-After")
    seen[429] = True
    assert sorted(seen) == [400, 404, 405, 413, 414, 429, 431, 500, 503]


def test_finding_09_a_worker_answer_carries_one_cache_control(api):
    for r in (api.get("/health"), api.get("/auth/me"), api.post_json("/auth/login", {})):
        assert r.headers.get("Cache-Control") == "no-store", r.headers  # not "no-store, no-store"
        assert_headers(r.status_code, r.headers, api.base_url.startswith("https:"), "worker")
