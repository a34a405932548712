"""The OpenAPI document: complete (every endpoint of docs/api.md, its problem codes
as enums), served as the source says (/openapi.json, /openapi.yaml), the
docs pages (/docs, /apidoc) with their Content-Security-Policy; and the
checker that holds every response of the suite to the document, shown to
catch what it must."""
import json
import re

import pytest
import yaml

from authd_e2e import assert_problem, assert_request_id, media_type, strong_password
from api_reference import contract_codes, pending_routes, read_reference, reference_routes
from openapi_check import CONTRACT, DOC_PATH, OpenApiContract, problem_code_enums

# Every endpoint of the contract: the project's API reference (docs/api.md),
# less what other work brings to it before it reaches the document.
CONTRACT_ENDPOINTS = reference_routes(read_reference()) - pending_routes()


def operations():
    return {(m, t): op for m, t, op in CONTRACT.operations()}


# --- the document -----------------------------------------------------------------------

def test_every_endpoint_of_the_contract_is_documented():
    documented = set(operations())
    assert CONTRACT_ENDPOINTS <= documented, f"missing: {sorted(CONTRACT_ENDPOINTS - documented)}"
    assert documented <= CONTRACT_ENDPOINTS, \
        f"not in docs/api.md: {sorted(documented - CONTRACT_ENDPOINTS)}"


def test_every_problem_response_lists_its_codes():
    """Each error status of each operation names its `code` values (an enum),
    and only codes the contract's table has."""
    contract = contract_codes(read_reference())
    checked = 0
    for (method, path), op in operations().items():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            response = CONTRACT.resolve(response)
            if not response.get("content"):
                continue  # /auth/verify's 401 has no body, by the contract
            codes = set(problem_code_enums(CONTRACT, response))
            assert codes, f"{method} {path} {status}: no code enum"
            assert codes <= contract, f"{method} {path} {status}: {codes - contract}"
            checked += 1
    print(f"{checked} problem responses, each with its code enum")
    assert checked > 100


def test_every_operation_documents_the_answers_nginx_may_give():
    """nginx answers 503 for any route when the pool is gone, and 413 / 429
    for every POST under /auth/: the document must not be surprised by them."""
    for (method, path), op in operations().items():
        statuses = set(op["responses"])
        served_by_nginx_alone = path in ("/docs", "/docs/{file}", "/apidoc", "/openapi.json",
                                         "/openapi.yaml", "/examples/{file}")
        if not served_by_nginx_alone:
            assert {"500", "503"} <= statuses, f"{method} {path}: {sorted(statuses)}"
        if method == "POST" and path.startswith("/auth/"):
            assert {"413", "429"} <= statuses, f"{method} {path}: {sorted(statuses)}"
        for status, response in op["responses"].items():
            headers = CONTRACT.resolve(response).get("headers", {})
            assert "X-Request-ID" in headers, f"{method} {path} {status}: no X-Request-ID"


def test_every_body_has_an_example():
    missing = []
    for (method, path), op in operations().items():
        bodies = []
        if "requestBody" in op:
            bodies += [(f"{method} {path} request", m)
                       for m in CONTRACT.resolve(op["requestBody"])["content"].values()]
        for status, response in op["responses"].items():
            bodies += [(f"{method} {path} {status}", m)
                       for m in (CONTRACT.resolve(response).get("content") or {}).values()]
        missing += [where for where, media in bodies
                    if "example" not in media and "examples" not in media]
    assert not missing, missing


def test_the_bearer_scheme_guards_the_token_endpoints():
    scheme = CONTRACT.doc["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for key in [("GET", "/auth/me"), ("GET", "/auth/verify"), ("POST", "/auth/logout"),
                ("GET", "/auth/sessions"), ("DELETE", "/auth/sessions/{id}"),
                ("POST", "/auth/mfa/totp/setup")]:
        assert operations()[key].get("security") == [{"bearer": []}], key
    assert "security" not in operations()[("POST", "/auth/login")]


# --- served as the source says --------------------------------------------------------------

def test_openapi_json_is_the_document(api):
    r = api.get("/openapi.json")
    assert r.status_code == 200
    assert media_type(r) == "application/json"
    with open(DOC_PATH, encoding="utf-8") as f:
        assert r.json() == yaml.safe_load(f)
    assert r.json()["openapi"].startswith("3.1.")


def test_openapi_yaml_is_the_source_file(api):
    r = api.get("/openapi.yaml")
    assert r.status_code == 200
    assert media_type(r) == "application/yaml"
    assert r.content == DOC_PATH.read_bytes()


# --- the docs pages -----------------------------------------------------------------------

def csp_directives(header: str) -> dict:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def test_docs_page_is_local_and_strictly_confined(api):
    r = api.get("/docs")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    html = r.text
    assert '<meta charset="utf-8">' in html
    # No inline script at all: every <script> has a src, on this origin.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, html
    for attrs, inline in scripts:
        assert inline.strip() == "", f"inline script: {inline[:80]!r}"
        src = re.search(r'src="([^"]+)"', attrs).group(1)
        assert src.startswith("/docs/"), f"script from elsewhere: {src}"
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', html)), \
        "every asset is on this origin (no CDN)"

    csp = csp_directives(r.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    for directive, sources in csp.items():
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"):
            assert bad not in sources, f"{directive} allows {bad}"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert_request_id(r)


@pytest.mark.parametrize("asset,ctype", [
    ("/docs/swagger-ui-bundle.js", "application/javascript; charset=utf-8"),
    ("/docs/init.js", "application/javascript; charset=utf-8"),
    ("/docs/swagger-ui.css", "text/css; charset=utf-8"),
    ("/docs/docs.css", "text/css; charset=utf-8"),
    ("/docs/favicon-32x32.png", "image/png"),
])
def test_docs_assets_are_served_with_their_types(api, asset, ctype):
    r = api.s.get(api.base_url + asset, timeout=30)
    assert r.status_code == 200, asset
    assert r.headers["Content-Type"] == ctype
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert_request_id(r)


def test_init_script_loads_the_served_document_and_calls_nothing_else(api):
    js = api.s.get(api.base_url + "/docs/init.js", timeout=30).text
    assert 'url: "/openapi.json"' in js
    assert "validatorUrl: null" in js


def test_apidoc_redirects_to_docs(api):
    r = api.get("/apidoc")
    assert r.status_code == 301
    assert r.headers["Location"] == "/docs"
    assert_request_id(r)


def test_docs_paths_take_get_only(api):
    for path in ("/docs", "/docs/init.js", "/openapi.json", "/apidoc"):
        r = api.post_json(path, {})
        assert_problem(r, 405, "method_not_allowed")
        assert r.headers["Allow"] == "GET, HEAD"


def test_a_missing_docs_file_is_the_usual_404(api):
    for path in ("/docs/nope.js", "/docs/../secret_key", "/docsx"):
        assert_problem(api.get(path), 404, "not_found")


def test_try_it_out_targets_this_server():
    assert [s["url"] for s in CONTRACT.doc["servers"]] == ["/"]


# --- the checker, on made-up answers --------------------------------------------------------

PROBLEM_401 = {"type": "about:blank", "title": "Invalid credentials", "status": 401,
               "code": "invalid_credentials", "detail": "x", "request_id": "r1"}
JSON_HEADERS = {"Content-Type": "application/problem+json", "X-Request-ID": "r1",
                "Cache-Control": "no-store"}


def judge(method, path, status, headers, body):
    contract = OpenApiContract(CONTRACT.doc)  # a fresh one: counts nothing of the suite's
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return contract.problems(method, path, status, headers, raw)[1]


def test_checker_accepts_a_documented_answer():
    assert judge("POST", "/auth/login", 401, JSON_HEADERS, PROBLEM_401) == []


def test_checker_refuses_an_undocumented_status():
    found = judge("POST", "/auth/login", 409, JSON_HEADERS, {**PROBLEM_401, "status": 409})
    assert any("status 409 is not documented" in f for f in found), found


def test_checker_refuses_a_code_the_endpoint_does_not_give():
    found = judge("POST", "/auth/login", 401, JSON_HEADERS, {**PROBLEM_401, "code": "invalid_token"})
    assert any("code" in f for f in found), found


def test_checker_refuses_an_undocumented_member():
    found = judge("POST", "/auth/login", 401, JSON_HEADERS, {**PROBLEM_401, "stack": "x"})
    assert any("stack" in f for f in found), found


def test_checker_refuses_a_missing_required_header():
    headers = {k: v for k, v in JSON_HEADERS.items() if k != "X-Request-ID"}
    found = judge("POST", "/auth/login", 401, headers, PROBLEM_401)
    assert any("X-Request-ID is missing" in f for f in found), found
    found = judge("GET", "/auth/me", 401, JSON_HEADERS,
                  {**PROBLEM_401, "code": "invalid_token"})
    assert any("WWW-Authenticate is missing" in f for f in found), found


def test_checker_refuses_a_bad_header_value():
    found = judge("POST", "/auth/login", 429, {**JSON_HEADERS, "Retry-After": "soon"},
                  {**PROBLEM_401, "status": 429, "code": "too_many_attempts", "retry_after": 1})
    assert any("Retry-After" in f for f in found), found


def test_checker_refuses_a_wrong_media_type_or_a_body_where_none_is_documented():
    found = judge("POST", "/auth/login", 401, {**JSON_HEADERS, "Content-Type": "text/html"},
                  b"<html>")
    assert any("Content-Type" in f for f in found), found
    found = judge("GET", "/auth/verify", 401,
                  {**JSON_HEADERS, "WWW-Authenticate": 'Bearer realm="auth"'}, PROBLEM_401)
    assert any("no body" in f for f in found), found


def test_checker_refuses_a_problem_whose_request_id_is_not_the_header():
    found = judge("POST", "/auth/login", 401, JSON_HEADERS, {**PROBLEM_401, "request_id": "r2"})
    assert any("request_id" in f for f in found), found


def test_checker_judges_unknown_paths_and_methods_by_the_fallbacks():
    not_found = {**PROBLEM_401, "status": 404, "code": "not_found"}
    assert judge("GET", "/nope", 404, JSON_HEADERS, not_found) == []
    assert judge("GET", "/nope", 200, JSON_HEADERS, not_found) != []
    not_allowed = {**PROBLEM_401, "status": 405, "code": "method_not_allowed"}
    assert judge("PUT", "/auth/login", 405, {**JSON_HEADERS, "Allow": "POST"}, not_allowed) == []
    found = judge("PUT", "/auth/login", 405, JSON_HEADERS, not_allowed)
    assert any("Allow is missing" in f for f in found), found
    assert judge("PUT", "/auth/login", 200, JSON_HEADERS, not_allowed) != []


def test_checker_reads_paths_as_nginx_routes_them():
    from openapi_check import nginx_path
    assert nginx_path("/auth/sessions/%2e%2e") == "/auth/"
    assert nginx_path("/auth//me?x=1") == "/auth/me"
    assert nginx_path("/docs/./init.js") == "/docs/init.js"
    assert nginx_path("/a/b/../c") == "/a/c"
    assert nginx_path("/auth/sessions/%41") == "/auth/sessions/A"
    # nginx's own 404 for what normalises to an unknown path: no Cache-Control.
    not_found = {**PROBLEM_401, "status": 404, "code": "not_found"}
    assert judge("DELETE", "/auth/sessions/%2e%2e", 404, {"Content-Type": "application/problem+json",
                 "X-Request-ID": "r1"}, not_found) == []


def test_checker_reads_templated_paths():
    assert judge("DELETE", "/auth/sessions/0193a1f3-0b2c-7d4e-8f90-a1b2c3d4e5f6", 204,
                 {"X-Request-ID": "r1", "Cache-Control": "no-store"}, b"") == []
    found = judge("DELETE", "/auth/sessions/x/y", 204, {"X-Request-ID": "r1"}, b"")
    assert found, "a path beyond the template is no such path"


def test_checker_raises_through_the_client(api):
    """The hook is live: an answer that breaks the document fails the
    request itself. Simulated by a contract that documents nothing for
    /health."""
    import openapi_check
    doc = json.loads(json.dumps(CONTRACT.doc))
    doc["paths"]["/health"]["get"]["responses"].pop("200")
    strict = OpenApiContract(doc)
    api.s.hooks["response"] = [lambda r, *a, **k: strict.check_requests_response(r)]
    with pytest.raises(openapi_check.ContractViolation, match="status 200 is not documented"):
        api.get("/health")
    assert len(strict.violations) == 1


def test_unknown_members_in_a_register_answer_would_be_caught(api, new_email):
    """A real answer, re-judged with one member added: the closed schemas
    catch a field the server might add without documenting it."""
    r = api.register(new_email(), strong_password())
    assert r.status_code == 201
    body = {**r.json(), "password_hash": "x"}
    found = judge("POST", "/auth/register", 201, r.headers, body)
    assert any("password_hash" in f for f in found), found


# --- the document against the endpoints no other test file reaches yet -------------------

def test_session_and_gateway_endpoints_answer_as_documented(api, session, make_session):
    """Each answer here goes through the checker (the client's hook): the
    shapes of verify, sessions, logout, refresh and the JWKS are the
    document's."""
    token = session.access_token
    r = api.get("/auth/verify", token=token)
    assert r.status_code == 204
    assert r.headers["X-Auth-User-Id"] == session.user.id
    assert r.headers["X-Auth-Email"] == session.user.email
    assert api.get("/auth/verify").status_code == 401
    assert api.get("/auth/verify", token="x.y.z").status_code == 401

    listed = api.get("/auth/sessions", token=token)
    assert listed.status_code == 200
    assert [s["current"] for s in listed.json()["sessions"]] == [True]
    other = make_session(session.user)
    r = api.request("DELETE", f"/auth/sessions/{other.claims['sid']}",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    r = api.request("DELETE", "/auth/sessions/not-a-session",
                    headers={"Authorization": f"Bearer {token}"})
    assert_problem(r, 404, "not_found")

    refreshed = api.post_json("/auth/refresh", {"refresh_token": session.refresh_token})
    assert refreshed.status_code == 200
    assert_problem(api.post_json("/auth/refresh", {"refresh_token": "nope"}), 401, "invalid_token")
    assert_problem(api.post_json("/auth/refresh", {}), 400, "missing_field", field="refresh_token")

    r = api.post_raw("/auth/logout", b"", content_type=None,
                     headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert r.status_code == 204
    assert_problem(api.post_json("/auth/logout", {"all": "yes"},
                                 headers={"Authorization": "Bearer x"}), 400, "invalid_field",
                   field="all")

    # HS256 in the e2e stack: no public key to publish.
    assert_problem(api.get("/.well-known/jwks.json"), 404, "not_found")
