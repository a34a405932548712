"""POST /auth/password: 200 with a fresh pair, every older token dead;
400, 401, 422 and the judging order."""
import secrets
import time
import unicodedata

import pytest

from authd_e2e import (assert_problem, assert_token_answer, decode_jwt, strong_password,
                       unique_email)


def test_200_with_a_fresh_pair_that_works(api, user):
    new = strong_password()
    r = api.change_password(user.email, user.password, new)
    body = assert_token_answer(r, user.email)
    assert body["user"]["id"] == user.id
    me = api.me(body["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["email"] == user.email


def test_the_new_password_logs_in_and_the_old_one_does_not(api, user):
    new = strong_password()
    assert api.change_password(user.email, user.password, new).status_code == 200
    assert_problem(api.login(user.email, user.password), 401, "invalid_credentials")
    assert_token_answer(api.login(user.email, new), user.email)


def test_every_older_token_dies(api, user, make_session):
    a = make_session(user)
    b = make_session(user)
    assert api.me(a.access_token).status_code == 200
    r = api.change_password(user.email, user.password, strong_password())
    fresh = assert_token_answer(r, user.email)
    for old in (a, b):
        rr = api.me(old.access_token)
        assert_problem(rr, 401, "invalid_token")
        assert rr.headers.get("WWW-Authenticate") == 'Bearer realm="auth", error="invalid_token"'
    assert api.me(fresh["access_token"]).status_code == 200


def test_a_login_in_the_same_second_as_the_change_dies_too(api, make_user, make_session):
    """Revocation is by session, never by comparing iat."""
    same_second = False
    for _ in range(5):
        u = make_user()
        # Start just after a second boundary so login and change share it.
        time.sleep(1.02 - (time.time() % 1.0))
        s = make_session(u)
        r = api.change_password(u.email, u.password, strong_password())
        fresh = assert_token_answer(r, u.email)
        assert_problem(api.me(s.access_token), 401, "invalid_token")
        assert api.me(fresh["access_token"]).status_code == 200
        if s.claims["iat"] == decode_jwt(fresh["access_token"])[1]["iat"]:
            same_second = True
            break
    if not same_second:
        pytest.skip("could not get a login and a password change into the same second "
                    "in 5 tries (the old token was refused every time)")


def test_password_changed_at_moves(api, user):
    r = api.change_password(user.email, user.password, strong_password())
    me = api.me(r.json()["access_token"]).json()
    assert me["created_at"] == user.created_at
    assert me["password_changed_at"] >= me["created_at"]  # RFC 3339 Z strings sort by time


def test_email_is_normalised(api, user):
    r = api.change_password(f"  {user.email.upper()} ", user.password, strong_password())
    assert_token_answer(r, user.email)


def test_nfkc_on_current_password(api, make_user):
    composed = "S\u00e9same-" + strong_password()
    u = make_user(password=composed)
    r = api.change_password(u.email, unicodedata.normalize("NFD", composed), strong_password())
    assert_token_answer(r, u.email)


# --- 401 ---------------------------------------------------------------------------------

def test_401_wrong_current_password(api, user):
    r = api.change_password(user.email, strong_password(), strong_password())
    assert_problem(r, 401, "invalid_credentials")
    assert "error=" not in r.headers.get("WWW-Authenticate", "")
    # Nothing changed.
    assert_token_answer(api.login(user.email, user.password), user.email)


def test_401_unknown_email(api):
    r = api.change_password(unique_email(), strong_password(), strong_password())
    assert_problem(r, 401, "invalid_credentials")


def test_401_not_422_for_a_malformed_email(api):
    r = api.change_password("not an email " + secrets.token_hex(4), strong_password(), strong_password())
    assert_problem(r, 401, "invalid_credentials")


def test_401_for_a_current_password_with_nul(api, user):
    r = api.change_password(user.email, user.password + "\u0000", strong_password())
    assert_problem(r, 401, "invalid_credentials")


# --- judging order -----------------------------------------------------------------------

def test_wrong_current_password_with_a_weak_new_one_is_401(api, user):
    # Nothing is said about password rules to someone without credentials.
    assert_problem(api.change_password(user.email, strong_password(), "password"),
                   401, "invalid_credentials")
    assert_problem(api.change_password(user.email, strong_password(), "\u0000"),
                   401, "invalid_credentials")
    assert_problem(api.change_password(user.email, strong_password(), user.password),
                   401, "invalid_credentials")


def test_unknown_email_with_a_weak_new_password_is_401(api):
    assert_problem(api.change_password(unique_email(), "whatever-1", "password"),
                   401, "invalid_credentials")


def test_400_is_judged_before_credentials(api, user):
    r = api.post_json("/auth/password", {"email": user.email, "current_password": "wrong"})
    assert_problem(r, 400, "missing_field", field="new_password")


# --- 422 -----------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["password", "12345678", "k#9Qz!v", "Summer2024!"])
def test_422_weak_new_password(api, user, weak):
    assert_problem(api.change_password(user.email, user.password, weak), 422, "weak_password")
    # Refused: the old password still works.
    assert_token_answer(api.login(user.email, user.password), user.email)


def test_422_new_password_with_nul(api, user):
    r = api.change_password(user.email, user.password, strong_password() + "\u0000")
    assert_problem(r, 422, "weak_password")


def test_422_new_password_made_of_the_email(api, make_user):
    u = make_user()
    local = u.email.split("@")[0]
    assert_problem(api.change_password(u.email, u.password, local + "!!"), 422, "weak_password")
    assert_problem(api.change_password(u.email, u.password, u.email.upper()), 422, "weak_password")


def test_422_password_unchanged(api, user):
    assert_problem(api.change_password(user.email, user.password, user.password),
                   422, "password_unchanged")


def test_422_password_unchanged_after_nfkc(api, make_user):
    composed = "Cr\u00e8me-" + strong_password()
    u = make_user(password=composed)
    r = api.change_password(u.email, composed, unicodedata.normalize("NFD", composed))
    assert_problem(r, 422, "password_unchanged")


def test_a_refused_change_leaves_sessions_alive(api, session):
    u = session.user
    assert_problem(api.change_password(u.email, u.password, "password"), 422, "weak_password")
    assert_problem(api.change_password(u.email, strong_password(), strong_password()),
                   401, "invalid_credentials")
    assert api.me(session.access_token).status_code == 200


# --- fields ---------------------------------------------------------------------------

FIELD_CASES = [
    ({}, "missing_field", "email"),
    ({"new_password": "x", "current_password": "y"}, "missing_field", "email"),
    ({"email": "a@example.com", "new_password": "x"}, "missing_field", "current_password"),
    ({"email": "a@example.com", "current_password": "x"}, "missing_field", "new_password"),
    ({"new_password": 1, "current_password": 2}, "missing_field", "email"),
    ({"email": None, "current_password": None, "new_password": None}, "invalid_field", "email"),
    ({"email": "a@example.com", "current_password": None, "new_password": None},
     "invalid_field", "current_password"),
    ({"email": "a@example.com", "current_password": 5}, "invalid_field", "current_password"),
    ({"email": "a@example.com", "current_password": "x", "new_password": None},
     "invalid_field", "new_password"),
    ({"email": "a@example.com", "current_password": "x", "new_password": ["y"]},
     "invalid_field", "new_password"),
    ({"email": 3, "current_password": "x", "new_password": "y"}, "invalid_field", "email"),
    ({"email": "a@example.com", "password": "x", "new_password": "y"},
     "missing_field", "current_password"),
]


@pytest.mark.parametrize("body,code,field", FIELD_CASES)
def test_400_field_errors(api, body, code, field):
    assert_problem(api.post_json("/auth/password", body), 400, code, field=field)
