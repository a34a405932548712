"""GET /health (liveness) and GET /health/ready (the database answers)."""
from authd_e2e import assert_json


def test_health_200(api):
    r = api.get("/health")
    assert assert_json(r, 200) == {"status": "ok"}


def test_health_needs_no_token(api):
    # Any Authorization is ignored: no token needed, none judged.
    r = api.get("/health", headers={"Authorization": "Bearer garbage"})
    assert assert_json(r, 200) == {"status": "ok"}


def test_health_ignores_a_query_string(api):
    assert assert_json(api.get("/health?verbose=1"), 200) == {"status": "ok"}


def test_ready_200_while_the_database_answers(api):
    body = assert_json(api.get("/health/ready"), 200)
    # API.md fixes only the status; the body is a small JSON object.
    assert isinstance(body.get("status"), str) and body["status"], body


def test_ready_needs_no_token(api):
    r = api.get("/health/ready", headers={"Authorization": "Bearer garbage"})
    assert_json(r, 200)
