"""API.md "Conventions": media type, strict JSON, size limit, routes,
X-Request-ID, problem documents, judging order across the three POSTs."""
import json
import re

import pytest

from authd_e2e import (BASE_URL, REQUEST_ID_RE, assert_problem, assert_request_id,
                       raw_exchange, request_ids, strong_password, unique_email)
from openapi_check import CONTRACT

POSTS = ["/auth/register", "/auth/login", "/auth/password"]


def body_for(path, email=None):
    email = email or unique_email()
    if path == "/auth/password":
        return {"email": email, "current_password": strong_password(),
                "new_password": strong_password()}
    return {"email": email, "password": strong_password()}


# --- media type ---------------------------------------------------------------------

REFUSED_TYPES = [
    None,  # no Content-Type at all
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/problem+json",
    "application/merge-patch+json",
    "application/jsonx",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "application/json; charset=utf8",
    "application/json; foo=bar",
    "application/json; charset=utf-8; foo=bar",
    "json",
    "",
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("ctype", REFUSED_TYPES)
def test_415_when_the_body_is_not_declared_as_json(api, path, ctype):
    r = api.post_raw(path, json.dumps(body_for(path)), content_type=ctype)
    assert_problem(r, 415, "unsupported_media_type")


ACCEPTED_TYPES = [
    "application/json",
    "APPLICATION/JSON",
    "Application/Json",
    "application/json; charset=utf-8",
    "application/json;charset=utf-8",
    "application/json; charset=UTF-8",
    "application/json; charset=\"utf-8\"",
    "application/json; CHARSET=\"UTF-8\"",
]


@pytest.mark.parametrize("ctype", ACCEPTED_TYPES)
def test_json_media_type_variants_are_accepted(api, ctype):
    # An unknown email: the answer past the media type is 401, not 415.
    r = api.post_raw("/auth/login", json.dumps(body_for("/auth/login")), content_type=ctype)
    assert_problem(r, 401, "invalid_credentials")


@pytest.mark.parametrize("path", POSTS)
def test_415_for_an_empty_body_without_content_type(api, path):
    # Only /auth/logout may come without body and Content-Type.
    assert_problem(api.post_raw(path, b"", content_type=None), 415, "unsupported_media_type")


@pytest.mark.parametrize("path", POSTS)
def test_media_type_is_judged_before_the_body(api, path):
    r = api.post_raw(path, b"{not json", content_type="text/plain")
    assert_problem(r, 415, "unsupported_media_type")


# --- strict JSON ------------------------------------------------------------------

INVALID_JSON = {
    "empty body": b"",
    "whitespace only": b"  \n",
    "invalid UTF-8 byte in a string": b'{"email": "\xff@example.com", "password": "x"}',
    "invalid UTF-8 in a member name": b'{"em\xc3\x28il": "a@example.com", "password": "x"}',
    "overlong UTF-8": b'{"email": "\xc0\xafa@example.com", "password": "x"}',
    "UTF-8-encoded surrogate": b'{"email": "a\xed\xa0\x80@example.com", "password": "x"}',
    "truncated UTF-8": b'{"email": "a@example.com", "password": "\xe2\x82"}',
    "lone low surrogate escape": b'{"email": "a@example.com", "password": "\\udc00"}',
    "lone high surrogate escape": b'{"email": "a@example.com", "password": "x\\ud800y"}',
    "reversed surrogate pair": b'{"email": "a@example.com", "password": "\\ude00\\ud83d"}',
    "surrogate in a member name": b'{"\\ud800": 1, "email": "a@example.com", "password": "x"}',
    "duplicate member": b'{"email": "a@example.com", "email": "b@example.com", "password": "x"}',
    "duplicate unknown member": b'{"x": 1, "email": "a@example.com", "x": 2, "password": "p"}',
    "duplicate member in a nested object":
        b'{"email": "a@example.com", "password": "x", "meta": {"k": 1, "k": 2}}',
    "duplicate through escapes": b'{"email": "a@example.com", "em\\u0061il": "b@x.org", "password": "x"}',
    "top-level array": b'[{"email": "a@example.com", "password": "x"}]',
    "top-level string": b'"email"',
    "top-level number": b"42",
    "top-level null": b"null",
    "top-level true": b"true",
    "trailing junk": b'{"email": "a@example.com", "password": "x"} x',
    "two objects": b'{"email": "a@example.com", "password": "x"}{}',
    "trailing comma": b'{"email": "a@example.com", "password": "x",}',
    "single quotes": b"{'email': 'a@example.com', 'password': 'x'}",
    "unquoted name": b'{email: "a@example.com", "password": "x"}',
    "comment": b'{"email": "a@example.com", /* c */ "password": "x"}',
    "NaN": b'{"email": "a@example.com", "password": "x", "n": NaN}',
    "raw control character in a string": b'{"email": "a@example.com", "password": "a\tb"}',
    "raw NUL in a string": b'{"email": "a@example.com", "password": "a\x00b"}',
    "bad escape": b'{"email": "a@example.com", "password": "\\x41"}',
    "unterminated string": b'{"email": "a@example.com", "password": "x',
    "unterminated object": b'{"email": "a@example.com"',
    "5000 [": b"[" * 5000,
    "5000 {": b"{" * 5000,
    "object holding 5000 [": b'{"a": ' + b"[" * 5000,
}


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("name", list(INVALID_JSON))
def test_400_invalid_json(api, path, name):
    r = api.post_raw(path, INVALID_JSON[name])
    assert_problem(r, 400, "invalid_json")


@pytest.mark.parametrize("path", POSTS)
def test_deep_but_valid_nesting_is_answered(api, path):
    # 5000 levels, valid JSON, inside 16 KiB: judged like any other body.
    deep = b"[" * 5000 + b"]" * 5000
    r = api.post_raw(path, b'{"junk": ' + deep + b"}")
    assert_problem(r, 400, "missing_field", field="email")
    r = api.post_raw(path, b'{"email": ' + deep + b', "password": "x"}')
    assert_problem(r, 400, "invalid_field", field="email")
    deep_obj = b'{"a":' * 2500 + b"1" + b"}" * 2500  # 15 000 bytes
    r = api.post_raw(path, b'{"junk": ' + deep_obj + b"}")
    assert_problem(r, 400, "missing_field", field="email")
    assert api.get("/health").status_code == 200


def test_valid_surrogate_pair_and_trailing_whitespace_are_fine(api):
    # A correctly paired escape is valid JSON; whitespace after the value too.
    raw = b'{"email": "nobody-\\ud83d\\ude00@example.com", "password": "x"}\r\n\t '
    assert_problem(api.post_raw("/auth/login", raw), 401, "invalid_credentials")


def test_unknown_members_are_ignored(api, new_email):
    email = new_email()
    r = api.post_json("/auth/register", {"name": "Ann", "email": email, "extra": [1, {"a": None}],
                                         "password": strong_password()})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == email


# --- size -----------------------------------------------------------------------------

def padded_login(total: int) -> bytes:
    """A login body of exactly `total` bytes (unknown email, so 401 if read)."""
    base = {"email": unique_email(), "password": strong_password(), "pad": ""}
    raw = json.dumps(base).encode()
    base["pad"] = "x" * (total - len(raw))
    raw = json.dumps(base).encode()
    assert len(raw) == total
    return raw


def test_a_body_of_exactly_16_kib_is_read(api):
    assert_problem(api.post_raw("/auth/login", padded_login(16384)), 401, "invalid_credentials")


@pytest.mark.parametrize("path", POSTS)
def test_413_for_a_body_over_16_kib(api, path):
    r = api.post_raw(path, padded_login(16385), headers={"X-Request-ID": "big-body-1"})
    body = assert_problem(r, 413, "payload_too_large")
    assert body["request_id"] == "big-body-1"


def test_413_for_a_large_chunked_body(api):
    chunks = iter([b'{"email": "a@example.com", "pad": "' + b"x" * 10000, b"x" * 10000 + b'"}'])
    assert_problem(api.post_raw("/auth/login", chunks), 413, "payload_too_large")


def test_413_is_judged_before_the_media_type(api):
    r = api.post_raw("/auth/register", b"x" * 20000, content_type="text/plain")
    assert_problem(r, 413, "payload_too_large")


# --- routes ----------------------------------------------------------------------------

UNKNOWN_PATHS = ["/", "/nope", "/auth", "/auth/", "/auth/nope", "/auth/login/", "/auth/LOGIN",
                 "/auth/register.json", "/health/", "/healthz", "/admin", "/index.html",
                 "/auth/sessions/a/b", "/.env"]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_404_problem_for_unknown_paths(api, path, method):
    r = api.request(method, path, headers={"X-Request-ID": "route-404"})
    body = assert_problem(r, 404, "not_found")
    assert body["request_id"] == "route-404"


def test_404_is_judged_before_the_size(api):
    r = api.post_raw("/nope", b"x" * 20000)
    assert_problem(r, 404, "not_found")


WRONG_METHODS = [
    ("GET", "/auth/register", "POST"),
    ("PUT", "/auth/register", "POST"),
    ("GET", "/auth/login", "POST"),
    ("DELETE", "/auth/login", "POST"),
    ("GET", "/auth/password", "POST"),
    ("PATCH", "/auth/password", "POST"),
    ("POST", "/auth/me", "GET"),
    ("PUT", "/auth/me", "GET"),
    ("POST", "/health", "GET"),
    ("PUT", "/health/ready", "GET"),
]


@pytest.mark.parametrize("method,path,allowed", WRONG_METHODS)
def test_405_with_allow(api, method, path, allowed):
    r = api.request(method, path, headers={"X-Request-ID": "method-405"})
    body = assert_problem(r, 405, "method_not_allowed")
    assert body["request_id"] == "method-405"
    allow = [m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()]
    assert allowed in allow, f"Allow: {r.headers.get('Allow')!r}"
    assert method not in allow, f"Allow: {r.headers.get('Allow')!r}"


def test_405_is_judged_before_the_media_type_and_body(api):
    r = api.request("PUT", "/auth/login", data=b"{broken", headers={"Content-Type": "text/plain"})
    assert_problem(r, 405, "method_not_allowed")


def every_documented_route():
    """(template, path to ask, the methods it takes) for each path of the
    document, a sample id in place of a template's parameter."""
    out = []
    for template, item in CONTRACT.doc["paths"].items():
        methods = [m.upper() for m in ("get", "post", "put", "patch", "delete") if m in item]
        path = re.sub(r"\{[^}]+\}", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", template)
        out.append(pytest.param(template, path, methods, id=path))
    return out


@pytest.mark.parametrize("template,path,methods", every_documented_route())
def test_405_is_judged_before_the_size(api, template, path, methods):
    """nginx measures a body before any worker sees it, so it judges the
    method first itself (its copy of the routing table, checked here against
    the document route by route)."""
    wrong = next(m for m in ("PUT", "PATCH", "POST", "DELETE") if m not in methods)
    r = api.request(wrong, path, data=b"x" * 20000, headers={"Content-Type": "application/json"})
    assert_problem(r, 405, "method_not_allowed")
    allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
    if path.startswith(("/docs", "/openapi", "/apidoc", "/examples/")):  # nginx's static files
        assert allow == ["GET", "HEAD"], r.headers
        return
    assert allow == methods, r.headers
    # ...and the right method with that body is still a 413 (where the
    # operation takes a body at all).
    right = methods[0]
    if "413" not in CONTRACT.doc["paths"][template][right.lower()]["responses"]:
        return
    r = api.request(right, path, data=b"x" * 20000, headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "payload_too_large")


def test_405_is_judged_before_the_size_of_a_chunked_body(api):
    chunks = iter([b"x" * 10000, b"x" * 10000])
    r = api.request("PUT", "/auth/login", data=chunks,
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers.get("Allow") == "POST"


# --- X-Request-ID ------------------------------------------------------------------------

def test_request_id_passes_through_on_success(api):
    for rid in ("abc-123_XYZ.9", "A" * 64, "0", "req.2026-11-24_x"):
        r = api.get("/health", headers={"X-Request-ID": rid})
        assert r.status_code == 200
        assert_request_id(r, sent=rid)


def test_request_id_passes_through_on_worker_errors(api):
    r = api.post_raw("/auth/login", b"[]", headers={"X-Request-ID": "err-400"})
    assert assert_problem(r, 400, "invalid_json")["request_id"] == "err-400"
    r = api.login(unique_email(), strong_password(), headers={"X-Request-ID": "err-401"})
    assert assert_problem(r, 401, "invalid_credentials")["request_id"] == "err-401"
    r = api.me(None, headers={"X-Request-ID": "err-401-bearer"})
    assert assert_problem(r, 401, "invalid_token")["request_id"] == "err-401-bearer"


def test_request_id_is_generated_when_absent(api):
    seen = set()
    for _ in range(5):
        r = api.get("/health")
        seen.add(assert_request_id(r))
    assert len(seen) == 5, f"generated ids repeat: {seen}"
    r = api.get("/nope")
    assert assert_problem(r, 404, "not_found")["request_id"] in request_ids(r)


INVALID_IDS = ["", "has space", "A" * 65, "a/b", "a:b", "a;b", "a,b", "<script>",
               "caf\u00e9", "a\tb", "%41"]


@pytest.mark.parametrize("bad", INVALID_IDS)
def test_invalid_request_id_is_replaced(api, bad):
    r = api.get("/health", headers={"X-Request-ID": bad.encode("utf-8")})
    rid = assert_request_id(r)
    assert rid != bad and REQUEST_ID_RE.match(rid)
    r = api.post_raw("/auth/login", b"[]", headers={"X-Request-ID": bad.encode("utf-8")})
    body = assert_problem(r, 400, "invalid_json")
    assert body["request_id"] != bad


def test_request_id_on_every_kind_of_answer(api, session):
    """200, 201, 4xx from the worker, 404 and 413 from nginx: one header each."""
    answers = [
        api.get("/health"),
        api.me(session.access_token),
        api.register(unique_email(), strong_password()),
        api.post_raw("/auth/login", b"{}"),
        api.get("/nope"),
        api.post_raw("/auth/login", b"x" * 17000),
        api.request("PUT", "/auth/me"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 201, 400, 404, 413, 405]
    for a in answers:
        assert_request_id(a)


# --- problem documents ---------------------------------------------------------------

def test_problem_documents_say_nothing_internal(api):
    r = api.post_raw("/auth/register", b'{"email": 5, "password": "x"}')
    body = assert_problem(r, 400, "invalid_field", field="email")
    assert body["type"] == "about:blank" or body["type"].startswith("http"), body
    text = r.text.lower()
    for leak in ("exception", "rapidjson", "sql", "std::", "stack"):
        assert leak not in text, text


# --- HTTP nginx cannot parse -------------------------------------------------------------
# Sent over a raw socket (no HTTP library sends these): still a problem
# document with a request id, never nginx's HTML page.

MALFORMED = {
    "garbage request line": (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    "HTTP/1.1 without Host": (b"GET /health HTTP/1.1\r\n\r\n", 400, "bad_request"),
    "bad Content-Length": (b"POST /auth/login HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
                           400, "bad_request"),
    "two Content-Lengths": (b"POST /auth/login HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                            b"Content-Length: 3\r\n\r\n{}", 400, "bad_request"),
    "control byte in a header name": (b"GET /health HTTP/1.1\r\nHost: a\r\nX\x01: y\r\n\r\n",
                                      400, "bad_request"),
    "request line over 8 KiB": (b"GET /auth/me?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
                                414, "uri_too_long"),
    "header line over 8 KiB": (b"GET /health HTTP/1.1\r\nHost: a\r\nCookie: " + b"c" * 9000
                               + b"\r\n\r\n", 431, "header_too_large"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_http_is_a_problem_document(name):
    request, status, code = MALFORMED[name]
    answer = raw_exchange(request)
    assert answer.status == status, answer
    CONTRACT.check_malformed_http(answer.status, answer.headers, answer.body)
    assert answer.headers.get("content-type") == "application/problem+json", answer
    body = json.loads(answer.body)
    assert body["status"] == status and body["code"] == code, body
    assert body["title"] and body["detail"] and body["type"] == "about:blank", body
    assert REQUEST_ID_RE.match(body["request_id"]), body
    assert answer.headers.get("x-request-id") == body["request_id"], answer
    assert answer.headers.get("x-content-type-options") == "nosniff", answer
    if BASE_URL.startswith("https:"):
        assert answer.headers.get("strict-transport-security", "").startswith("max-age="), answer
    else:
        assert "strict-transport-security" not in answer.headers, answer


def test_the_error_pages_themselves_are_out_of_reach(api):
    for status in (400, 404, 414, 431):
        assert_problem(api.get(f"/.authd-error/{status}"), 404, "not_found")
