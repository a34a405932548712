"""The two lanes (README "Reliability"): nginx sends each route to the lane
the worker's routing table names for it. The fast lane's own processes and
socket serve the routes that never compute Argon2id, so token checks never
wait behind hashes; everything else goes to the hashing lane. Every route
of the OpenAPI document is sent once through nginx, and the worker's request
log line says which lane served it."""
import time
import uuid
from pathlib import Path

import pytest
import yaml

from authd_e2e import Api, log_records, request_id

ROOT = Path(__file__).resolve().parent.parent

# The README's list ("Reliability", the lanes), which the routing table
# (worker/http/handlers/routes.cpp, checked by tests/unit/http/lanes_test.cpp)
# and nginx's template must both follow.
FAST_LANE = {
    "/auth/me", "/auth/verify", "/auth/refresh", "/auth/logout", "/auth/sessions",
    "/auth/sessions/{id}", "/auth/passkeys", "/auth/passkeys/{id}", "/.well-known/jwks.json",
    "/health", "/health/ready", "/metrics",
}
# The one path laned by method: DELETE /auth/me closes the account and asks
# the password again, so it goes to the hashing lane while GET /auth/me
# stays in the fast lane (nginx's location chooses by method).
HASHING_BY_METHOD = {("DELETE", "/auth/me")}
# Answered by nginx from files, never by a worker.
STATIC = {"/docs", "/docs/{file}", "/apidoc", "/openapi.json", "/openapi.yaml", "/examples/{file}"}

pytestmark = pytest.mark.single_pool


def worker_routes():
    doc = yaml.safe_load((ROOT / "api" / "openapi.yaml").read_text())
    for path, item in doc["paths"].items():
        if path in STATIC:
            continue
        for method in item:
            if method in ("get", "post", "put", "delete", "patch"):
                yield method.upper(), path


def served_by(log_files, rid: str, wait_s: float = 2.0) -> dict:
    deadline = time.monotonic() + wait_s
    while True:
        found = [r for r in log_records(log_files)
                 if r.get("event") == "request" and r.get("request_id") == rid]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{rid}: want one request line, got {found}"
            return found[0]
        time.sleep(0.05)


def test_every_route_is_served_by_its_lane(api: Api, log_files):
    worker_logs = [f for f in log_files if "worker" in f.rsplit("/", 1)[-1]]
    routes = sorted(worker_routes())
    assert {p for _, p in routes} >= FAST_LANE, "a fast-lane route is missing from the document"
    seen = {}
    for method, path in routes:
        rid = request_id("lane")
        url = path.replace("{id}", str(uuid.uuid4()))
        # No credentials and an empty object: every route answers (a 4xx
        # mostly), and the worker that answered logs its lane.
        kwargs = {"json": {}} if method in ("POST", "DELETE") else {}
        r = api.request(method, url, headers={"X-Request-ID": rid}, **kwargs)
        assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
        line = served_by(worker_logs, rid)
        seen[(method, path)] = line["lane"]
        assert line["route"] == path, line
    wrong = {k: lane for k, lane in seen.items()
             if lane != ("fast" if k[1] in FAST_LANE and k not in HASHING_BY_METHOD
                         else "hashing")}
    print(f"lanes: {sum(1 for v in seen.values() if v == 'fast')} routes in the fast lane, "
          f"{sum(1 for v in seen.values() if v == 'hashing')} in the hashing lane")
    assert not wrong, f"routes served by the wrong lane: {wrong}"


def test_auth_me_is_laned_by_method(api: Api, log_files):
    """GET and any method /auth/me does not take go to the fast lane (its
    405 included); DELETE, which hashes the password, to the hashing lane."""
    worker_logs = [f for f in log_files if "worker" in f.rsplit("/", 1)[-1]]
    for method, status, lane in (("GET", 401, "fast"), ("PUT", 405, "fast"),
                                 ("DELETE", 401, "hashing")):
        rid = request_id("melane")
        kwargs = {"json": {}} if method != "GET" else {}
        r = api.request(method, "/auth/me", headers={"X-Request-ID": rid}, **kwargs)
        assert r.status_code == status, (method, r.status_code, r.text[:200])
        line = served_by(worker_logs, rid)
        assert (line["route"], line["lane"]) == ("/auth/me", lane), (method, line)
