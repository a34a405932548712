"""Closing an account (API.md "Closing an account: DELETE /auth/me"), end to
end: every token dies at once, the email is free again, a notice goes out
naming no account, the order of judging, the second factor, throttling; a
scan of every table of the database (the list read from information_schema,
so a table added later is scanned too) shows that nothing of the closed
account is left and that other accounts' rows are untouched; and closing
races a login, a refresh and a password change of the same account with
every answer either before or after it."""
import hashlib
import threading
import time
import uuid

import pytest

from authd_e2e import (Api, assert_bearer_401, assert_no_body, assert_problem, assert_retry_after,
                       audit_lines, bearer, next_step_code, remember, request_id, start_setup,
                       strong_password)

CLOSED_SUBJECT = "Your account was closed"


def test_closing_ends_every_token_frees_the_email_and_sends_a_notice(
        api, user, make_session, mail_dir, log_files):
    from mail_capture import wait_for_mail
    one, two = make_session(user), make_session(user)
    rid = request_id("close")
    assert_no_body(api.close_account(one.access_token, user.password,
                                     headers={"X-Request-ID": rid}), 204)
    # At once, on every worker: both sessions' tokens, access and refresh.
    for s in (one, two):
        for _ in range(3):
            assert_bearer_401(api.me(s.access_token))
        assert api.verify(s.access_token).status_code == 401
        assert_problem(api.refresh(s.refresh_token), 401, "invalid_token")
    assert_problem(api.login(user.email, user.password), 401, "invalid_credentials")
    # The email is free again: a new account with a new id.
    r = api.register(user.email, strong_password())
    assert r.status_code == 201, r.text
    assert r.json()["id"] != user.id
    # The notice, to the address, with no link in it.
    notice = wait_for_mail(user.email, subject=CLOSED_SUBJECT)[0]
    assert user.email in notice.text and "http" not in notice.text
    # The audit line keeps the account id, never the email.
    (line,) = audit_lines(log_files, rid, "account_closed")
    assert line["user_id"] == user.id and line["outcome"] == "ok" and line["actor"] == "self"
    for rec in audit_lines(log_files, rid):
        assert user.email not in str(rec), rec


def test_judged_in_order_body_then_token_then_password(api, user, make_session):
    s = make_session(user)
    # Body shape first (with or without a token), then the token.
    r = api.request("DELETE", "/auth/me", data=b'{"password": 1}',
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "invalid_field", field="password")
    r = api.request("DELETE", "/auth/me", data=b"{}",
                    headers={"Content-Type": "application/json",
                             "Authorization": f"Bearer {s.access_token}"})
    assert_problem(r, 400, "missing_field", field="password")
    r = api.request("DELETE", "/auth/me", data=b'{"password": "x"}',
                    headers={"Authorization": f"Bearer {s.access_token}"})
    assert_problem(r, 415, "unsupported_media_type")
    assert_bearer_401(api.close_account(None, user.password), sent=False)
    assert_bearer_401(api.close_account("not.a.token", user.password))
    # A wrong password: 401 without a bearer challenge; the account stays.
    r = assert_problem(api.close_account(s.access_token, "wrong-" + strong_password()), 401,
                       "invalid_credentials")
    assert api.me(s.access_token).status_code == 200


def test_with_the_second_factor_on_a_code_is_needed(api, enrolled):
    user, totp, codes, s, step = enrolled
    body = assert_problem(api.close_account(s.access_token, user.password), 403, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code"] and "mfa_token" not in body
    assert_problem(api.close_account(s.access_token, user.password, "zzzz-zzzz-zzzz"), 401,
                   "invalid_mfa_code")
    # The password is judged before the code: a wrong one spends no code.
    assert_problem(api.close_account(s.access_token, "wrong-" + strong_password(), codes[0]), 401,
                   "invalid_credentials")
    assert api.me(s.access_token).status_code == 200
    code, _ = next_step_code(totp, not_step=step)
    assert_no_body(api.close_account(s.access_token, user.password, code), 204)
    assert_bearer_401(api.me(s.access_token))


def test_a_wrong_password_or_code_counts_as_a_failed_login(api, user, make_session):
    """Failures 1 to 5 are free, the 6th rests the (email, address) pair: the
    7th attempt is refused, here and at login alike."""
    s = make_session(user)
    throttled = Api(expect_throttling=True)
    try:
        for _ in range(6):
            assert_problem(throttled.close_account(s.access_token, "wrong-" + strong_password()),
                           401, "invalid_credentials")
        assert_retry_after(throttled.close_account(s.access_token, user.password))
        assert_retry_after(throttled.login(user.email, user.password))
    finally:
        throttled.close()
    assert api.me(s.access_token).status_code == 200, "refused attempts closed nothing"


# --- every table ------------------------------------------------------------------


def table_columns(db) -> dict[str, list[tuple[str, str]]]:
    """Every base table of the database and its columns (name, column type),
    from information_schema: a table added later is scanned too."""
    with db.cursor() as c:
        c.execute("SELECT table_name, column_name, column_type FROM information_schema.columns"
                  " WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position")
        out: dict[str, list[tuple[str, str]]] = {}
        for table, column, ctype in c.fetchall():
            out.setdefault(table, []).append((column, ctype.decode() if isinstance(ctype, bytes)
                                              else ctype))
        c.execute("SELECT table_name FROM information_schema.tables"
                  " WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")
        base = {row[0] for row in c.fetchall()}
    db.commit()
    return {t: cols for t, cols in out.items() if t in base}


def snapshot(db, tables) -> dict[str, list[tuple]]:
    rows = {}
    with db.cursor() as c:
        for t in tables:
            c.execute(f"SELECT * FROM `{t}`")
            rows[t] = [tuple(r) for r in c.fetchall()]
    db.commit()  # the next snapshot sees what was committed since
    return rows


def as_bytes(cell) -> bytes:
    return cell if isinstance(cell, (bytes, bytearray)) else str(cell).encode()


# BINARY columns that name no row: a passkey's AAGUID is its authenticator
# model's, shared by every passkey of that model (all zeros for many).
NOT_IDS = {("passkeys", "aaguid")}


def rows_of(account_id: str, email: str, tables, rows) -> tuple[set[bytes], dict[str, list[tuple]]]:
    """The rows that belong to an account: those holding its id, its email or
    the SHA-256 of its email (the throttle's key), and, to a fixed point, those
    holding an id or digest (a BINARY column) of such a row (a session's
    refresh history names the session, not the account)."""
    needles = {uuid.UUID(account_id).bytes, account_id.encode(), email.encode(),
               hashlib.sha256(email.encode()).digest()}
    binary_columns = {t: [i for i, (name, ctype) in enumerate(cols)
                          if ctype.startswith("binary(") and (t, name) not in NOT_IDS]
                      for t, cols in tables.items()}
    while True:
        found = {t: [r for r in rows[t] if any(n in as_bytes(cell) for cell in r if cell is not None
                                                 for n in needles)]
                 for t in tables}
        more = {bytes(r[i]) for t, rs in found.items() for r in rs for i in binary_columns[t]
                if r[i] is not None}
        if more <= needles:
            return needles, found
        needles |= more


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def give_everything(api, make_user, make_session) -> tuple:
    """An account with a row in every table there is: sessions (one of them
    refreshed: refresh history), a passkey (and the account's user handle),
    the challenges of a passkey registration and of a passkey second step
    under way, a second factor with recovery codes, a pending second step,
    email links and their messages, failed-login counters of its email.
    Returns (user, session, its recovery codes)."""
    import pyotp
    from mail_capture import wait_for_mail
    from passkeys_e2e import enrol, options_for, relying_party
    from webauthn_forge import SoftAuthenticator
    u = make_user()
    s = make_session(u)
    rp_id, origin = relying_party()
    r, _ = enrol(api, s, SoftAuthenticator("ES256", rp_id=rp_id), origin)
    assert r.status_code == 201, r.text
    options_for(api, s)  # a registration under way: its challenge waits
    r = start_setup(api, s, u.password)
    totp = pyotp.TOTP(r.json()["secret"])
    remember(r.json()["secret"])
    code, step = next_step_code(totp)
    r = api.post_json("/auth/mfa/totp/confirm", {"code": code}, headers=bearer(s.access_token))
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    for c in codes:
        remember(c)
    # A pending second step, with a passkey's challenge bound to it.
    pending = assert_problem(api.login(u.email, u.password), 403, "mfa_required")
    r = api.post_json("/auth/mfa/passkey/options", {"mfa_token": pending["mfa_token"]})
    assert r.status_code == 200, r.text
    refresh_token, _ = make_session_after_mfa(api, u, totp, step)
    assert api.refresh(refresh_token).status_code == 200  # refresh history
    assert api.login(u.email, "wrong-" + strong_password()).status_code == 401  # throttle rows
    assert api.forgot(u.email).status_code == 202  # a reset link, made by the mailer
    wait_for_mail(u.email, subject="Reset your password")
    return u, s, codes


def make_session_after_mfa(api, u, totp, step) -> tuple[str, int]:
    """A login completed with a TOTP code: (its refresh token, the step used)."""
    r = api.login(u.email, u.password)
    body = assert_problem(r, 403, "mfa_required")
    code, step = next_step_code(totp, not_step=step)
    r = api.post_json("/auth/mfa/verify", {"mfa_token": body["mfa_token"], "code": code})
    assert r.status_code == 200, r.text
    remember(r.json()["access_token"], r.json()["refresh_token"])
    return r.json()["refresh_token"], step


def test_closing_leaves_no_row_of_the_account_and_touches_no_other(
        api, db, make_user, make_session, mail_dir):
    from mail_capture import wait_for_mail
    closing, closing_session, codes = give_everything(api, make_user, make_session)
    other, _, _ = give_everything(api, make_user, make_session)
    tables = table_columns(db)
    assert {"users", "sessions", "mail_outbox", "admin_keys"} <= set(tables), sorted(tables)

    def mailer_idle():
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM mail_outbox WHERE state = 0 AND recipient IN (%s, %s)",
                      (closing.email.encode(), other.email.encode()))
            (n,) = c.fetchone()
        db.commit()
        return n == 0
    wait_until(mailer_idle, what="both accounts' messages to leave")
    before = snapshot(db, tables)
    needles, closing_rows = rows_of(closing.id, closing.email, tables, before)
    _, other_rows = rows_of(other.id, other.email, tables, before)
    # The setup did give both accounts a row wherever an account can have one.
    for t in ("users", "sessions", "refresh_token_history", "mfa_recovery_codes",
              "mfa_challenges", "email_tokens", "mail_outbox", "login_throttle", "passkeys",
              "passkey_user_handles", "webauthn_challenges"):
        assert closing_rows.get(t) and other_rows.get(t), f"no {t} row to check"

    # A forgot request still pending for its email: removed with the account
    # (or, should the mailer take it first, answered with nothing once the
    # account is gone).
    with db.cursor() as c:
        c.execute("INSERT INTO mail_requests (kind, email, requested_at)"
                  " VALUES ('reset_password', %s, UTC_TIMESTAMP())", (closing.email.encode(),))
    db.commit()
    # A recovery code (a third TOTP code could mean waiting for the clock).
    assert_no_body(api.close_account(closing_session.access_token, closing.password, codes[0]),
                   204)
    wait_for_mail(closing.email, subject=CLOSED_SUBJECT)

    def notice_gone():  # deleted once sent
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM mail_outbox WHERE recipient = %s",
                      (closing.email.encode(),))
            (n,) = c.fetchone()
        db.commit()
        return n == 0
    wait_until(notice_gone, what="the sent notice's outbox row to go")
    time.sleep(0.5)  # a pending request the mailer had taken is settled too
    after = snapshot(db, tables)

    # Nothing of the closed account is left, in any table.
    left = {t: [r for r in after[t] if any(n in as_bytes(cell) for cell in r if cell is not None
                                            for n in needles)]
            for t in tables}
    assert not any(left.values()), {t: len(rs) for t, rs in left.items() if rs}
    # The other account's rows are all there, unchanged.
    for t, rows in other_rows.items():
        for row in rows:
            assert row in after[t], f"{t}: a row of another account changed or went: {row!r}"
    # Every row that was nobody's business is there too, except where the
    # mailer moves on its own (its queue and what it sends).
    for t in tables:
        if t in ("mail_outbox", "mail_requests", "email_tokens"):
            continue
        mine = closing_rows.get(t, [])
        for row in before[t]:
            if row not in mine:
                assert row in after[t], f"{t}: a row that was not the closed account's went"


# --- races ----------------------------------------------------------------------------


def run_together(calls: dict) -> dict:
    """Runs the calls at once (a barrier), each on its own connection;
    answers shed with 503 (a pool busier than its queue) are retried."""
    barrier = threading.Barrier(len(calls))
    results = {}

    def one(name, fn):
        a = Api()
        try:
            barrier.wait(timeout=30)
            deadline = time.monotonic() + 60
            while True:
                r = fn(a)
                if r.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            results[name] = r
        finally:
            a.close()

    threads = [threading.Thread(target=one, args=item) for item in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert set(results) == set(calls), f"no answer for {set(calls) - set(results)}"
    return results


@pytest.mark.parametrize("round_", range(6))
def test_closing_races_a_login_a_refresh_and_a_password_change(
        api, db, make_user, make_session, round_):
    """Every answer is either before or after the closing: whatever a racing
    request was handed is dead afterwards, and nothing of the account is
    left; or the closing came after the password change and was refused."""
    user = make_user()
    closer = make_session(user)
    refresher = make_session(user)
    new_password = strong_password()
    r = run_together({
        "close": lambda a: a.close_account(closer.access_token, user.password),
        "login": lambda a: a.login(user.email, user.password),
        "refresh": lambda a: a.refresh(refresher.refresh_token),
        "change": lambda a: a.change_password(user.email, user.password, new_password),
    })
    statuses = {k: v.status_code for k, v in r.items()}
    handed_out = [v.json() for k, v in r.items() if k != "close" and v.status_code == 200]
    if statuses["close"] == 204:
        for body in handed_out:
            assert_bearer_401(api.me(body["access_token"]))
            assert_problem(api.refresh(body["refresh_token"]), 401, "invalid_token")
        for k in ("login", "refresh"):
            assert statuses[k] in (200, 401), statuses
        # A change before the closing would have refused it: it came after.
        assert_problem(r["change"], 401, "invalid_credentials")
        for pw in (user.password, new_password):
            assert_problem(api.login(user.email, pw), 401, "invalid_credentials")
        with db.cursor() as c:
            for table, column in (("users", "id"), ("sessions", "user_id")):
                c.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = %s",
                          (uuid.UUID(user.id).bytes,))
                assert c.fetchone()[0] == 0, f"{table} still holds the closed account"
        db.commit()
        assert api.register(user.email, strong_password()).status_code == 201
    else:
        # Refused: the password change came first (its new password, or the
        # end of the closing token's session, is what the closing met).
        assert statuses["change"] == 200, statuses
        body = r["close"].json()
        assert body["code"] in ("invalid_credentials", "invalid_token"), body
        assert api.login(user.email, new_password).status_code == 200
    print(f"round {round_}: {statuses}")
