"""The admin API (API.md "Admin API: /admin/… with API keys") end to end,
with keys made by `authd admin-key create`: every route and scope, keys
refused at once when revoked and never shown anywhere but once on stdout,
an access token and an admin key each refused where the other belongs,
ADMIN_ALLOW judged before anything else, searches and a pagination that
stays stable while accounts are added and deleted, the invitation's link
setting the first password, audit lines and metrics."""
import hashlib
import json
import secrets
import time
import uuid

import pytest

from authd_e2e import (Api, assert_bearer_401, assert_json, assert_no_body, assert_problem,
                       assert_timestamp, assert_uuid7, audit_lines, log_records, request_id,
                       strong_password, unique_email)

USER_FIELDS = {"id", "email", "created_at", "email_verified_at", "disabled_at", "mfa_enabled",
               "passkeys", "last_login_at"}
INVITE_SUBJECT = "You have been invited: choose your password"


def get_user(api, key, user_id):
    return api.admin("GET", f"/admin/users/{user_id}", key.key)


def list_users(api, key, **query):
    return api.admin("GET", "/admin/users", key.key, params=query)


# --- keys ----------------------------------------------------------------------------


def test_a_key_is_printed_once_and_kept_only_as_its_sha256(admin_key_cli, make_admin_key, api,
                                                             db):
    key = make_admin_key("users:read")
    assert key.key.startswith("authd_admin_") and len(key.key) >= len("authd_admin_") + 43
    with db.cursor() as c:
        c.execute("SELECT name, key_hash, scopes FROM admin_keys WHERE name = %s AND"
                  " revoked_at IS NULL", (key.name.encode(),))
        rows = c.fetchall()
    db.commit()
    assert len(rows) == 1
    name, key_hash, scopes = rows[0]
    assert bytes(key_hash) == hashlib.sha256(key.key.encode()).digest()
    assert bytes(scopes) == b"users:read"
    # `list`: names, scopes, times; never the key.
    p = admin_key_cli("list")
    assert p.returncode == 0, p.stderr
    assert key.name in p.stdout and key.key not in p.stdout + p.stderr
    assert key.key[len("authd_admin_"):][:20] not in p.stdout
    # A second active key of that name is refused; an unknown scope exits 2.
    p = admin_key_cli("create", "--name", key.name, "--scopes", "users:read")
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    p = admin_key_cli("create", "--name", "e2e-" + secrets.token_hex(4), "--scopes", "users:root")
    assert p.returncode == 2 and p.stdout == ""
    p = admin_key_cli("create", "--name", "Not Valid", "--scopes", "users:read")
    assert p.returncode == 2 and p.stdout == ""


def test_a_revoked_key_is_refused_at_once_by_every_worker(admin_key_cli, make_admin_key, api):
    key = make_admin_key("users:read")
    for _ in range(4):  # both workers of the pool have seen it
        assert list_users(api, key, limit=1).status_code == 200
    p = admin_key_cli("revoke", key.name)
    assert p.returncode == 0, p.stderr
    for _ in range(6):
        assert_bearer_401(list_users(api, key, limit=1))
    p = admin_key_cli("revoke", key.name)
    assert p.returncode == 1, "no active key of that name any more"


def test_last_used_is_written_at_most_once_a_minute(make_admin_key, api, db):
    key = make_admin_key("users:read")

    def last_used():
        with db.cursor() as c:
            c.execute("SELECT last_used_at FROM admin_keys WHERE name = %s AND revoked_at IS NULL",
                      (key.name.encode(),))
            (value,) = c.fetchone()
        db.commit()
        return value
    assert last_used() is None
    assert list_users(api, key, limit=1).status_code == 200
    first = last_used()
    assert first is not None
    time.sleep(1.1)
    for _ in range(3):
        assert list_users(api, key, limit=1).status_code == 200
    assert last_used() == first, "a second use within the minute wrote nothing"


def test_scopes_write_includes_read(make_admin_key, api, user):
    reader = make_admin_key("users:read")
    writer = make_admin_key("users:write")
    assert get_user(api, reader, user.id).status_code == 200
    assert get_user(api, writer, user.id).status_code == 200
    for method, path in (("POST", f"/admin/users/{user.id}/disable"),
                         ("POST", f"/admin/users/{user.id}/enable"),
                         ("DELETE", f"/admin/users/{user.id}/sessions"),
                         ("DELETE", f"/admin/users/{user.id}")):
        assert_problem(api.admin(method, path, reader.key), 403, "insufficient_scope")
    assert_problem(api.admin("POST", "/admin/users", reader.key, {"email": unique_email()}), 403,
                   "insufficient_scope")
    assert get_user(api, reader, user.id).json()["disabled_at"] is None, "nothing was done"


def test_an_access_token_is_no_admin_key_and_an_admin_key_no_access_token(admin_key, api,
                                                                            session):
    assert_bearer_401(api.admin("GET", "/admin/users", session.access_token))
    assert_bearer_401(api.admin("GET", "/admin/users", None), sent=False)
    assert_bearer_401(api.admin("GET", "/admin/users", "authd_admin_" + "A" * 43))
    assert_bearer_401(api.me(admin_key.key))
    assert api.verify(admin_key.key).status_code == 401
    r = api.request("POST", "/auth/logout", headers={"Authorization": f"Bearer {admin_key.key}"})
    assert_bearer_401(r)
    # Never echoed back in an error.
    for r in (api.me(admin_key.key), api.admin("GET", "/admin/users/nope", admin_key.key)):
        assert admin_key.key not in r.text and admin_key.key not in str(r.headers)


# --- ADMIN_ALLOW ------------------------------------------------------------------------


@pytest.mark.single_pool
def test_addresses_outside_admin_allow_get_the_404_of_no_route(admin_key):
    """127.0.0.2 is loopback, but not 127.0.0.1/32: the routes are not even
    revealed (not by 405, 413 or 401), whatever the key."""
    outsider = Api(source_address="127.0.0.2")
    try:
        for method, path, data in (("GET", "/admin/users", None),
                                   ("PUT", "/admin/users", b"x" * 20000),
                                   ("POST", "/admin/users", b"x" * 20000),
                                   ("DELETE", f"/admin/users/{uuid.uuid4()}", None),
                                   ("POST", f"/admin/users/{uuid.uuid4()}/disable", None)):
            r = outsider.request(method, path, data=data,
                                 headers={"Authorization": f"Bearer {admin_key.key}",
                                          "Content-Type": "application/json"})
            assert_problem(r, 404, "not_found")
            assert "Allow" not in r.headers
        assert outsider.get("/health").status_code == 200, "the address is otherwise served"
    finally:
        outsider.close()


def test_the_per_address_limit_covers_admin_writes_and_the_worker_judges_the_address_again(
        rate_limited_url, admin_key):
    """The stack's rate-limited nginx lets 127.0.0.0/8 reach /admin/ (the
    pool itself allows 127.0.0.1 only): from another loopback address the
    admin API's writes count toward IP_RATE_LIMIT as the POSTs under /auth/
    do (its reads do not), and what gets through meets the worker's own
    ADMIN_ALLOW check: the same 404 as no route."""
    me = Api(rate_limited_url, expect_throttling=True,
             source_address=f"127.3.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}")
    target = f"/admin/users/{uuid.uuid4()}"
    try:
        for _ in range(25):  # reads are not counted
            assert_problem(me.admin("GET", target, admin_key.key), 404, "not_found")
        statuses = []
        for i in range(30):
            method, path = ("POST", target + "/disable") if i % 2 else ("DELETE", target)
            r = me.admin(method, path, admin_key.key)
            statuses.append(r.status_code)
            if r.status_code == 404:
                assert_problem(r, 404, "not_found")
        assert set(statuses) <= {404, 429}, statuses
        assert 20 <= statuses.count(404) <= 22, statuses
        assert statuses[-5:] == [429] * 5, statuses
    finally:
        me.close()


# --- the routes -----------------------------------------------------------------------------


def test_one_account_with_its_live_sessions(admin_key, api, user, make_session):
    r = get_user(api, admin_key, user.id)
    body = assert_json(r, 200)
    assert set(body) == USER_FIELDS | {"sessions"}
    assert body["last_login_at"] is None and body["sessions"] == []
    assert body["passkeys"] == 0 and body["mfa_enabled"] is False and body["disabled_at"] is None
    one, two = make_session(user), make_session(user)
    assert api.logout(one.access_token).status_code == 204
    body = assert_json(get_user(api, admin_key, user.id), 200)
    assert_timestamp(body["last_login_at"])
    assert [s["id"] for s in body["sessions"]] == [two.claims["sid"]]
    assert "current" not in body["sessions"][0]
    for bad in ("nope", str(uuid.uuid4()), user.id.upper() + "x"):
        assert_problem(get_user(api, admin_key, bad), 404, "not_found")


def test_disable_enable_and_end_sessions(admin_key, api, user, make_session):
    s = make_session(user)
    body = assert_json(api.admin("POST", f"/admin/users/{user.id}/disable", admin_key.key), 200)
    assert set(body) == USER_FIELDS
    assert_timestamp(body["disabled_at"])
    assert_bearer_401(api.me(s.access_token))
    assert_problem(api.login(user.email, user.password), 403, "account_disabled")
    # An empty JSON body is fine too; another media type is not.
    r = api.admin("POST", f"/admin/users/{user.id}/enable", admin_key.key, {})
    assert assert_json(r, 200)["disabled_at"] is None
    r = api.admin("POST", f"/admin/users/{user.id}/enable", admin_key.key, data=b"x",
                  headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")
    assert_bearer_401(api.me(s.access_token))  # enabling brings no session back
    fresh, other = make_session(user), make_session(user)
    assert_no_body(api.admin("DELETE", f"/admin/users/{user.id}/sessions", admin_key.key), 204)
    for t in (fresh, other):
        assert_bearer_401(api.me(t.access_token))
    assert api.login(user.email, user.password).status_code == 200, "the account may log in"


def test_delete_closes_the_account_as_the_owner_would(admin_key, api, user, make_session,
                                                      mail_dir, log_files):
    from mail_capture import wait_for_mail
    s = make_session(user)
    rid = request_id("admin-delete")
    r = api.admin("DELETE", f"/admin/users/{user.id}", admin_key.key,
                  headers={"X-Request-ID": rid})
    assert_no_body(r, 204)
    assert_bearer_401(api.me(s.access_token))
    assert_problem(get_user(api, admin_key, user.id), 404, "not_found")
    assert_problem(api.admin("DELETE", f"/admin/users/{user.id}", admin_key.key), 404, "not_found")
    wait_for_mail(user.email, subject="Your account was closed")
    assert api.register(user.email, strong_password()).status_code == 201
    # One audit line per request, naming the key (never the key), the
    # action and the account; the closing's own line has no email.
    (line,) = audit_lines(log_files, rid, "admin_request")
    assert line["admin_key"] == admin_key.name and line["action"] == "delete_user"
    assert line["user_id"] == user.id and line["status"] == 204
    (closed,) = audit_lines(log_files, rid, "account_closed")
    assert closed["admin_key"] == admin_key.name and closed["user_id"] == user.id
    for rec in audit_lines(log_files, rid):
        assert admin_key.key not in json.dumps(rec) and user.email not in json.dumps(rec)


def test_an_invitation_sets_the_first_password_through_its_link(admin_key, api, mail_dir):
    from mail_capture import wait_for_mail
    email = unique_email("invited")
    r = api.admin("POST", "/admin/users", admin_key.key, {"email": "  " + email.upper()})
    body = assert_json(r, 201)
    assert set(body) == USER_FIELDS and body["email"] == email
    assert_uuid7(body["id"])
    assert r.headers["Location"] == f"/admin/users/{body['id']}"
    # Nobody knows its password: a login is an ordinary 401.
    assert_problem(api.login(email, strong_password()), 401, "invalid_credentials")
    invite = wait_for_mail(email, subject=INVITE_SUBJECT)[0]
    assert "7 days" in invite.text
    token = invite.token("/reset-password")
    password = strong_password()
    r = api.reset(token, password)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email_verified_at"] is not None, "the link proved the mailbox"
    assert api.login(email, password).status_code == 200
    assert_problem(api.reset(token, strong_password()), 401, "invalid_token")  # spent
    # Taken, invalid, and the order: body, key, then content.
    assert_problem(api.admin("POST", "/admin/users", admin_key.key, {"email": email}), 409,
                   "email_taken")
    assert_problem(api.admin("POST", "/admin/users", admin_key.key, {"email": "not an email"}),
                   422, "invalid_email")
    assert_problem(api.admin("POST", "/admin/users", admin_key.key, {}), 400, "missing_field",
                   field="email")
    assert_problem(api.admin("POST", "/admin/users", "authd_admin_" + "B" * 43,
                             {"email": "not an email"}), 401, "invalid_token")


# --- search and pages ---------------------------------------------------------------------


def test_search_exact_and_by_prefix(admin_key, api, make_user):
    tag = secrets.token_hex(4)
    ann = make_user(f"ann.{tag}@example.com")
    make_user(f"ann.{tag}+x@example.com")
    make_user(f"annie.{tag}@example.com")
    # Trimmed and lower-cased (the space sent as %20: a `+` would be a plus).
    r = api.admin("GET", f"/admin/users?email=%20{ann.email.upper()}%20", admin_key.key)
    body = assert_json(r, 200)
    assert [u["email"] for u in body["users"]] == [ann.email] and body["next_cursor"] is None
    assert set(body["users"][0]) == USER_FIELDS
    body = assert_json(list_users(api, admin_key, email=f"ann.{tag}*"), 200)
    assert sorted(u["email"] for u in body["users"]) == sorted(
        [f"ann.{tag}@example.com", f"ann.{tag}+x@example.com"])
    # `+` is a plus sign; `%` and `_` are literal, not wildcards.
    r = api.admin("GET", f"/admin/users?email=ann.{tag}+x@example.com", admin_key.key)
    assert [u["email"] for u in assert_json(r, 200)["users"]] == [f"ann.{tag}+x@example.com"]
    for literal in (f"ann%{tag}*", f"ann_{tag}*", f"%.{tag}*"):
        assert assert_json(list_users(api, admin_key, email=literal), 200)["users"] == []
    newest_first = assert_json(list_users(api, admin_key, email="*"), 200)["users"]
    ids = [u["id"] for u in newest_first]
    assert ids == sorted(ids, reverse=True)


def test_bad_queries_name_the_parameter(admin_key, api):
    for query, field in (("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
                         ("limit=-1", "limit"), ("cursor=abc", "cursor"),
                         ("limit=5&limit=6", "limit"), ("email=a&email=b", "email")):
        r = api.admin("GET", f"/admin/users?{query}", admin_key.key)
        assert_problem(r, 400, "invalid_field", field=field)
    # A cursor is good only for the search that made it.
    r = assert_json(list_users(api, admin_key, limit=1), 200)
    assert r["next_cursor"]
    assert_problem(list_users(api, admin_key, limit=1, cursor=r["next_cursor"], email="a*"), 400,
                   "invalid_field", field="cursor")
    tampered = r["next_cursor"][:-2] + ("AA" if not r["next_cursor"].endswith("AA") else "BB")
    assert_problem(list_users(api, admin_key, limit=1, cursor=tampered), 400, "invalid_field",
                   field="cursor")
    # The query's shape is judged before the key.
    assert_problem(api.admin("GET", "/admin/users?limit=0", None), 400, "invalid_field")


def test_paging_never_repeats_or_skips_an_account_that_exists_throughout(admin_key, api,
                                                                         make_user):
    tag = secrets.token_hex(4)
    prefix = f"page.{tag}."
    throughout = {make_user(f"{prefix}{i:02}@example.com").id for i in range(24)}
    doomed = {make_user(f"{prefix}d{i:02}@example.com").id for i in range(6)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"email": prefix + "*", "limit": 5}
        if cursor:
            query["cursor"] = cursor
        body = assert_json(list_users(api, admin_key, **query), 200)
        seen += [u["id"] for u in body["users"]]
        pages += 1
        # Meanwhile: new accounts, and some deleted, seen or not.
        make_user(f"{prefix}n{pages:02}@example.com")
        if doomed:
            victim = doomed.pop()
            assert_no_body(api.admin("DELETE", f"/admin/users/{victim}", admin_key.key), 204)
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 20, "paging does not end"
    assert len(seen) == len(set(seen)), "an account was listed twice"
    assert throughout <= set(seen), f"{len(throughout - set(seen))} skipped"
    assert seen == sorted(seen, reverse=True), "newest first, by id"


# --- observability ------------------------------------------------------------------------


@pytest.mark.single_pool
def test_metrics_count_admin_requests_by_route_and_outcome(admin_key, make_admin_key, api):
    from prometheus_client.parser import text_string_to_metric_families

    def counts():
        out = {}
        for family in text_string_to_metric_families(api.get("/metrics").text):
            for s in family.samples:
                if s.name == "authd_admin_requests_total":
                    out[(s.labels["route"], s.labels["outcome"])] = s.value
        return out
    reader = make_admin_key("users:read")
    before = counts()
    assert list_users(api, admin_key, limit=1).status_code == 200
    assert_bearer_401(api.admin("GET", "/admin/users", "not-a-key", params={"limit": 1}))
    assert_problem(api.admin("DELETE", f"/admin/users/{uuid.uuid4()}", reader.key), 403,
                   "insufficient_scope")
    assert_problem(get_user(api, admin_key, str(uuid.uuid4())), 404, "not_found")
    after = counts()

    def moved(route, outcome):
        return after.get((route, outcome), 0) - before.get((route, outcome), 0)
    assert moved("/admin/users", "ok") == 1
    assert moved("/admin/users", "invalid_key") == 1
    assert moved("/admin/users/{id}", "insufficient_scope") == 1
    assert moved("/admin/users/{id}", "not_found") == 1


def test_keys_are_in_no_log_line(make_admin_key, api, log_files):
    key = make_admin_key("users:read")
    rid = request_id("admin-log")
    assert list_users(api, key, limit=1).status_code == 200
    assert_bearer_401(api.me(key.key, headers={"X-Request-ID": rid}))
    time.sleep(0.3)
    for f in log_files:
        data = open(f, "rb").read()
        assert key.key.encode() not in data, f"{f} holds an admin key"
        assert key.key[len("authd_admin_"):].encode() not in data
    named = [r for r in log_records(log_files)
             if r.get("event") == "admin_request" and r.get("admin_key") == key.name]
    assert named, "its uses are audited by name"
