"""Operator commands against the stack's database (API.md "Operator
commands"): `authd user disable|enable|revoke-sessions|unlock EMAIL`."""
import json
import os
import subprocess

import pytest

from authd_e2e import (SECRETS, Api, assert_bearer_401, assert_problem, assert_retry_after,
                       strong_password, unique_email)


@pytest.fixture
def authd_user(authd_bin, operator_env):
    def run(action: str, email: str, *extra: str) -> subprocess.CompletedProcess:
        p = subprocess.run([authd_bin, "user", action, email, *extra], env=operator_env,
                           capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        # Nothing secret, ever: no hash, no token, no database password.
        assert "$argon2" not in out
        for secret in list(SECRETS) + [operator_env["MYSQL_PASSWORD"],
                                       os.environ.get("E2E_SECRET_KEY", "")]:
            if secret and len(secret) >= 8:
                assert secret not in out, f"`authd user {action}` printed a secret"
        return p
    return run


def audit_of(p: subprocess.CompletedProcess, event: str) -> list[dict]:
    lines = []
    for line in p.stderr.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            if rec.get("audit") is True and rec.get("event") == event:
                lines.append(rec)
    return lines


def test_disable_ends_every_session_at_once_and_refuses_logins(api, user, make_session, authd_user):
    one, two = make_session(user), make_session(user)
    p = authd_user("disable", "  " + user.email.upper() + " ")  # normalised as at login
    assert p.returncode == 0, p.stderr
    assert user.email in p.stdout and "2 session(s) ended" in p.stdout, p.stdout
    (line,) = audit_of(p, "account_disabled")
    assert line["user_id"] == user.id and line["outcome"] == "ok" and line["sessions_ended"] == 2
    assert line["ts"].endswith("Z")
    for s in (one, two):
        assert_bearer_401(api.me(s.access_token))
        assert api.verify(s.access_token).status_code == 401
        assert_problem(api.refresh(s.refresh_token), 401, "invalid_token")
    # 403 only with the right password; a wrong one says nothing.
    assert_problem(api.login(user.email, user.password), 403, "account_disabled")
    assert_problem(api.login(user.email, "wrong-" + strong_password()), 401, "invalid_credentials")
    assert_problem(api.change_password(user.email, user.password, strong_password()), 403,
                   "account_disabled")


def test_enable_lets_the_user_in_again_but_revives_no_session(api, user, make_session, authd_user):
    old = make_session(user)
    assert authd_user("disable", user.email).returncode == 0
    p = authd_user("enable", user.email)
    assert p.returncode == 0, p.stderr
    assert len(audit_of(p, "account_enabled")) == 1
    assert_bearer_401(api.me(old.access_token))
    assert_problem(api.refresh(old.refresh_token), 401, "invalid_token")
    fresh = make_session(user)
    assert api.me(fresh.access_token).status_code == 200


def test_revoke_sessions_ends_them_and_the_user_may_log_in(api, user, make_session, authd_user):
    sessions = [make_session(user) for _ in range(3)]
    p = authd_user("revoke-sessions", user.email)
    assert p.returncode == 0, p.stderr
    assert "ended 3 session(s)" in p.stdout, p.stdout
    (line,) = audit_of(p, "session_ended")
    assert line["user_id"] == user.id and line["outcome"] == "ok"
    for s in sessions:
        assert_bearer_401(api.me(s.access_token))
    assert api.me(make_session(user).access_token).status_code == 200


def test_unlock_clears_the_failed_login_counters(user, authd_user):
    a = Api(expect_throttling=True)
    try:
        for _ in range(6):
            assert a.login(user.email, "wrong-password-x").status_code == 401
        assert_retry_after(a.login(user.email, user.password))
        p = authd_user("unlock", user.email)
        assert p.returncode == 0, p.stderr
        assert "unlocked" in p.stdout and "2 counter(s) cleared" in p.stdout, p.stdout
        assert len(audit_of(p, "account_unlocked")) == 1
        assert a.login(user.email, user.password).status_code == 200
    finally:
        a.close()


@pytest.mark.parametrize("action", ["disable", "enable", "revoke-sessions", "unlock"])
def test_unknown_email_exits_non_zero_names_it_and_changes_nothing(action, authd_user, db):
    def snapshot():
        with db.cursor() as c:
            c.execute("SELECT (SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL),"
                      " (SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL),"
                      " (SELECT COUNT(*) FROM login_throttle)")
            row = c.fetchone()
        db.commit()
        return row
    email = unique_email("nobody")
    before = snapshot()
    p = authd_user(action, email.upper())
    assert p.returncode != 0
    assert email in p.stderr, p.stderr
    assert p.stdout == ""
    assert snapshot() == before


def test_usage_errors(authd_bin, operator_env):
    for argv in (["user"], ["user", "disable"], ["user", "explode", "a@example.com"]):
        p = subprocess.run([authd_bin, *argv], env=operator_env, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode != 0, argv
        assert "usage" in p.stderr, p.stderr
