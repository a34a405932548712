"""Password reset: forgot → email → reset: a fresh pair, every older
session dead, the new password works, the token spent; the judging order
(token before password rules); a refused password leaves the token usable."""
import pytest

from authd_e2e import assert_problem, assert_token_answer, strong_password
from mail_capture import RESET_SUBJECT, reset_token, verification_token, wait_for_mail


@pytest.fixture(autouse=True)
def _needs_mail(mail_dir):
    pass


def test_forgot_then_reset_ends_every_session_and_sets_the_password(api, user, make_session):
    a = make_session(user)
    b = make_session(user)
    assert api.forgot(user.email).status_code == 202
    token = reset_token(user.email)
    new = strong_password()

    r = api.reset(token, new)
    body = assert_token_answer(r, user.email, verified=True)  # the link proved the mailbox
    assert body["user"]["id"] == user.id

    for old in (a, b):
        assert_problem(api.me(old.access_token), 401, "invalid_token")
        rr = api.post_json("/auth/refresh", {"refresh_token": old.refresh_token})
        assert_problem(rr, 401, "invalid_token")
    assert api.me(body["access_token"]).status_code == 200
    assert_problem(api.login(user.email, user.password), 401, "invalid_credentials")
    assert_token_answer(api.login(user.email, new), user.email, verified=True)
    # Spent.
    assert_problem(api.reset(token, strong_password()), 401, "invalid_token")


@pytest.mark.once
def test_the_reset_message_carries_a_reset_password_link(user, api):
    assert api.forgot(user.email).status_code == 202
    [mail] = wait_for_mail(user.email, 1, subject=RESET_SUBJECT)
    assert [p.get_content_type() for p in mail.msg.iter_parts()] == ["text/plain", "text/html"]
    link = mail.link("/reset-password")
    assert f'href="{link}"' in mail.html
    assert "30 minutes" in mail.text  # RESET_TOKEN_TTL's default, in words


@pytest.mark.once
def test_a_weak_password_leaves_the_token_usable(api, user):
    assert api.forgot(user.email).status_code == 202
    token = reset_token(user.email)
    assert_problem(api.reset(token, "password"), 422, "weak_password")
    assert_problem(api.reset(token, user.email), 422, "weak_password")
    assert_problem(api.reset(token, "nul\u0000-violet-Harbor-92"), 422, "weak_password")
    assert_token_answer(api.reset(token, strong_password()), user.email, verified=True)


@pytest.mark.once
def test_the_token_is_judged_before_the_password(api, user):
    assert_problem(api.reset("A" * 43, "password"), 401, "invalid_token")
    assert_problem(api.reset("not-a-token", strong_password()), 401, "invalid_token")
    # A verification token is not a reset token.
    verify_token = verification_token(user.email)
    assert_problem(api.reset(verify_token, strong_password()), 401, "invalid_token")


@pytest.mark.once
def test_a_reset_token_does_not_verify_an_email(api, user):
    assert api.forgot(user.email).status_code == 202
    token = reset_token(user.email)
    assert_problem(api.verify_email(token), 401, "invalid_token")
    # ...and was not spent by that attempt.
    assert api.reset(token, strong_password()).status_code == 200


@pytest.mark.once
def test_a_new_reset_link_supersedes_the_older(api, user):
    assert api.forgot(user.email).status_code == 202
    first = reset_token(user.email, 1)
    assert api.forgot(user.email).status_code == 202
    second = reset_token(user.email, 2)
    assert_problem(api.reset(first, strong_password()), 401, "invalid_token")
    assert api.reset(second, strong_password()).status_code == 200


@pytest.mark.once
def test_a_password_change_voids_a_pending_reset_link(api, user):
    assert api.forgot(user.email).status_code == 202
    token = reset_token(user.email)
    changed = strong_password()
    assert api.change_password(user.email, user.password, changed).status_code == 200
    # Whoever holds the mailed link cannot set a password over the new one.
    assert_problem(api.reset(token, strong_password()), 401, "invalid_token")
    assert_token_answer(api.login(user.email, changed), user.email, verified=False)


def test_reset_bodies_are_judged_in_order(api):
    path = "/auth/password/reset"
    assert_problem(api.post_json(path, {}), 400, "missing_field", field="token")
    assert_problem(api.post_json(path, {"new_password": "x"}), 400, "missing_field", field="token")
    assert_problem(api.post_json(path, {"token": "x"}), 400, "missing_field", field="new_password")
    assert_problem(api.post_json(path, {"token": 1, "new_password": 2}), 400, "invalid_field",
                   field="token")
    assert_problem(api.post_json(path, {"token": "x", "new_password": None}), 400,
                   "invalid_field", field="new_password")
    assert_problem(api.get(path), 405, "method_not_allowed")


@pytest.mark.once
def test_reset_outcomes_are_audit_lines(api, user, log_files):
    import json
    assert api.forgot(user.email).status_code == 202
    token = reset_token(user.email)
    assert api.reset("B" * 43, strong_password()).status_code == 401
    assert api.reset(token, "password").status_code == 422
    assert api.reset(token, strong_password()).status_code == 200
    outcomes, reasons = [], []
    for f in log_files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if '"password_reset"' not in line:
                    continue
                event = json.loads(line)
                if event.get("event") == "password_reset" and event.get("audit") is True:
                    outcomes.append((event.get("outcome"), event.get("user_id")))
                    if event.get("outcome") == "invalid_token":
                        reasons.append(event.get("reason"))
    assert ("ok", user.id) in outcomes, outcomes
    assert ("weak_password", user.id) in outcomes, outcomes
    assert any(o == "invalid_token" for o, _ in outcomes), outcomes
    # The one 401 says nothing; its audit line says why (a link never issued).
    assert "unknown" in reasons, reasons
