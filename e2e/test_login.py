"""POST /auth/login: 200 and its body, 400, 401 (413/415 in test_conventions;
the access token's contents in test_tokens)."""
import secrets
import unicodedata

import pytest

from authd_e2e import (assert_problem, assert_token_answer, strong_password, unique_email,
                       now, decode_jwt)


def test_200_with_a_token_pair(api, user):
    r = api.login(user.email, user.password)
    body = assert_token_answer(r, user.email)
    assert body["user"]["id"] == user.id
    assert body["user"]["created_at"] == user.created_at


def test_each_login_is_a_new_session_and_new_tokens(api, user):
    a = assert_token_answer(api.login(user.email, user.password), user.email)
    b = assert_token_answer(api.login(user.email, user.password), user.email)
    assert a["access_token"] != b["access_token"]
    assert a["refresh_token"] != b["refresh_token"]
    assert decode_jwt(a["access_token"])[1]["sid"] != decode_jwt(b["access_token"])[1]["sid"]
    # Both sessions are live.
    assert api.me(a["access_token"]).status_code == 200
    assert api.me(b["access_token"]).status_code == 200


@pytest.mark.parametrize("variant", [
    lambda e: e.upper(),
    lambda e: f"  {e}\t",
    lambda e: f"\n{e.title()} ",
])
def test_email_is_normalised_at_login(api, user, variant):
    assert_token_answer(api.login(variant(user.email), user.password), user.email)


def test_401_for_a_wrong_password_and_for_an_unknown_email_alike(api, user):
    wrong = assert_problem(api.login(user.email, strong_password()), 401, "invalid_credentials")
    unknown = assert_problem(api.login(unique_email(), user.password), 401, "invalid_credentials")
    # Deliberately the same answer.
    assert (wrong["title"], wrong["detail"]) == (unknown["title"], unknown["detail"])
    assert set(wrong) == set(unknown)


@pytest.mark.parametrize("mangle", [
    pytest.param(lambda p: p + "\u0000", id="NUL appended"),
    pytest.param(lambda p: p + "\u0000garbage", id="NUL and more"),
    pytest.param(lambda p: p[:6] + "\u0000" + p[6:], id="NUL inside"),
    pytest.param(lambda p: p.upper(), id="other case"),
    pytest.param(lambda p: p + " ", id="trailing space"),
    pytest.param(lambda p: " " + p, id="leading space"),
    pytest.param(lambda p: p[:-1], id="one character short"),
    pytest.param(lambda p: "", id="empty"),
])
def test_401_for_near_miss_passwords(api, user, mangle):
    assert_problem(api.login(user.email, mangle(user.password)), 401, "invalid_credentials")


@pytest.mark.parametrize("template", [
    "not-an-email-{t}", "", "@{t}", "a{t}@b", "\u00e9{t}@example.com", "{t}" + "x" * 300 + "@example.com",
])
def test_401_not_422_for_malformed_emails(api, template):
    # Login does not validate the format: such an address is simply not found.
    # (Random parts keep repeated runs against one deployment clear of the
    # per-account throttle, which counts unknown emails too.)
    email = template.format(t=secrets.token_hex(4))
    assert_problem(api.login(email, strong_password()), 401, "invalid_credentials")


def test_login_401_carries_no_bearer_error(api, user):
    r = api.login(user.email, "wrong-" + secrets.token_hex(8))
    assert_problem(r, 401, "invalid_credentials")
    assert "error=" not in r.headers.get("WWW-Authenticate", "")


def test_nfkc_composed_and_decomposed_are_one_password(api, make_user):
    tag = secrets.token_hex(5)
    composed = f"Caf\u00e9-{tag}-Cr\u00e8me-Br\u00fbl\u00e9e"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    u = make_user(password=composed)
    assert_token_answer(api.login(u.email, decomposed), u.email)
    assert_token_answer(api.login(u.email, composed), u.email)
    # The other way round.
    v = make_user(password=decomposed)
    assert_token_answer(api.login(v.email, composed), v.email)


def test_nfkc_compatibility_forms_are_one_password(api, make_user):
    tag = secrets.token_hex(5)
    u = make_user(password=f"\ufb01ligree-{tag}-\uff21\uff22")  # ﬁ and fullwidth ＡＢ
    assert_token_answer(api.login(u.email, f"filigree-{tag}-AB"), u.email)


FIELD_CASES = [
    ({}, "missing_field", "email"),
    ({"password": "x"}, "missing_field", "email"),
    ({"email": "a@example.com"}, "missing_field", "password"),
    ({"password": None}, "missing_field", "email"),
    ({"email": None, "password": None}, "invalid_field", "email"),
    ({"password": "x", "email": 7}, "invalid_field", "email"),
    ({"email": ["a"], "password": "x"}, "invalid_field", "email"),
    ({"email": "a@example.com", "password": None}, "invalid_field", "password"),
    ({"email": "a@example.com", "password": 123}, "invalid_field", "password"),
    ({"email": "a@example.com", "password": {"p": "x"}}, "invalid_field", "password"),
    ({"email": "a@example.com", "password": True}, "invalid_field", "password"),
]


@pytest.mark.parametrize("body,code,field", FIELD_CASES)
def test_400_field_errors(api, body, code, field):
    assert_problem(api.post_json("/auth/login", body), 400, code, field=field)


def test_400_is_judged_before_credentials(api, user):
    # Even with the right email, a missing password is a 400, not a 401.
    r = api.post_json("/auth/login", {"email": user.email})
    assert_problem(r, 400, "missing_field", field="password")


def test_login_does_not_change_the_account(api, user):
    before = api.login(user.email, user.password).json()
    me = api.me(before["access_token"]).json()
    assert me["password_changed_at"] == me["created_at"] == user.created_at
    assert abs(now() - decode_jwt(before["access_token"])[1]["iat"]) < 120
