"""POST /auth/register: 201, 400, 409, 422 (413 and 415 in test_conventions)."""
import secrets

import pytest

from authd_e2e import (assert_json, assert_problem, assert_timestamp, assert_uuid7,
                       strong_password, unique_email)


def test_201_with_the_account(api, new_email):
    email = new_email()
    r = api.register(email, strong_password())
    body = assert_json(r, 201)
    assert_uuid7(body.get("id"))
    assert body.get("email") == email
    assert_timestamp(body.get("created_at"))
    assert "password" not in body and "password_hash" not in body


def test_ids_are_unique_and_time_ordered(api):
    ids = [api.register(unique_email(), strong_password()).json()["id"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert ids == sorted(ids), f"UUIDv7 ids of successive registrations are not ordered: {ids}"


# --- email normalisation ---------------------------------------------------------------

def test_email_is_stored_trimmed_and_lower_case(api):
    tag = secrets.token_hex(5)
    r = api.register(f" \t Ann.{tag}@Example.COM \r\n", strong_password())
    assert assert_json(r, 201)["email"] == f"ann.{tag}@example.com"


@pytest.mark.parametrize("variant", [
    lambda e: e.upper(),
    lambda e: e.capitalize(),
    lambda e: f"  {e}  ",
    lambda e: f"\t{e.upper()}\n",
])
def test_409_for_the_same_email_in_another_spelling(api, user, variant):
    r = api.register(variant(user.email), strong_password())
    assert_problem(r, 409, "email_taken")


def test_409_email_taken(api, user):
    assert_problem(api.register(user.email, strong_password()), 409, "email_taken")


def test_mixed_case_registration_is_one_account(api):
    tag = secrets.token_hex(5)
    pw = strong_password()
    assert api.register(f"Ann{tag}@Example.com", pw).status_code == 201
    assert_problem(api.register(f"ann{tag}@example.com", strong_password()), 409, "email_taken")
    r = api.login(f"ANN{tag}@EXAMPLE.COM", pw)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == f"ann{tag}@example.com"


# --- email rules -------------------------------------------------------------------------

def label(n: int) -> str:
    """A random LDH label of n octets."""
    s = secrets.token_hex(n)[:n]
    return "a" + s[1:] if n > 1 else "a"


def email_of_length(total: int) -> str:
    """A valid-looking address of exactly `total` octets (local part 64)."""
    local = "x" + secrets.token_hex(32)[:63]
    rest = total - 64 - 1  # the domain's length
    labels = []
    while rest > 0:
        n = min(63, rest)
        if rest - n == 1:  # a last label of 0 octets is not possible: shorten this one
            n -= 2
        labels.append(label(n))
        rest -= n + 1
    domain = ".".join(labels)
    e = f"{local}@{domain}"
    assert len(e) == total, (len(e), e)
    return e


INVALID_EMAILS = {
    "empty": "",
    "spaces only": "   ",
    "no at": "ann.example.com",
    "two ats": "ann@b@example.com",
    "empty local part": "@example.com",
    "empty domain": "ann@",
    "one-label domain": "ann@localhost",
    "leading dot": ".ann@example.com",
    "trailing dot in local": "ann.@example.com",
    "double dot in local": "an..n@example.com",
    "quoted local part": '"ann smith"@example.com',
    "quoted simple local part": '"ann"@example.com',
    "space inside": "ann smith@example.com",
    "non-ASCII local part": "jos\u00e9@example.com",
    "non-ASCII domain (not xn--)": "ann@ex\u00e4mple.com",
    "leading hyphen label": "ann@-example.com",
    "trailing hyphen label": "ann@example-.com",
    "empty label": "ann@example..com",
    "trailing dot domain": "ann@example.com.",
    "leading dot domain": "ann@.example.com",
    "underscore in domain": "ann@ex_ample.com",
    "address literal": "ann@[127.0.0.1]",
    "comment": "ann(comment)@example.com",
    "parenthesis": "an(n@example.com",
    "comma": "an,n@example.com",
    "backslash": "an\\n@example.com",
    "label of 64": "ann@" + "a" * 64 + ".com",
    "local part of 65": "a" * 65 + "@example.com",
    "NUL": "ann\u0000@example.com",
    "inner tab": "ann\t@example.com",
    "angle address": "Ann <ann@example.com>",
}


@pytest.mark.parametrize("name", list(INVALID_EMAILS))
def test_422_invalid_email(api, name):
    r = api.register(INVALID_EMAILS[name], strong_password())
    assert_problem(r, 422, "invalid_email")


def test_422_for_an_address_of_255_octets(api):
    assert_problem(api.register(email_of_length(255), strong_password()), 422, "invalid_email")


VALID_EMAILS = {
    "dot-atom": lambda t: f"ann.b.{t}@example.com",
    "every special": lambda t: f"{t}!#$%&'*+-/=?^_`{{|}}~@example.com",
    "plus tag": lambda t: f"ann+{t}@example.com",
    "digits and hyphens in domain": lambda t: f"ann@{t}-1.example-2.com",
    "xn-- domain": lambda t: f"ann.{t}@xn--exmple-cua.com",
    "many labels": lambda t: f"{t}@a.b.c.d.example.com",
    "label of 63": lambda t: f"{t}@{'b' * 63}.com",
    "local part of 64": lambda t: (t + "x" * 64)[:64] + "@example.com",
}


@pytest.mark.parametrize("name", list(VALID_EMAILS))
def test_201_for_valid_email_forms(api, name):
    email = VALID_EMAILS[name](secrets.token_hex(5))
    r = api.register(email, strong_password())
    assert assert_json(r, 201)["email"] == email.lower()


def test_201_for_an_address_of_254_octets(api):
    email = email_of_length(254)
    assert assert_json(api.register(email, strong_password()), 201)["email"] == email


# --- password rules ---------------------------------------------------------------------

WEAK_PASSWORDS = {
    "too short (7)": "k#9Qz!v",
    "too short in code points (7 two-byte letters)": "\u00e9\u00df\u00f8\u00e6\u00e5\u00fe\u00f0",
    "common: password": "password",
    "common: 12345678": "12345678",
    "common: P@ssw0rd!": "P@ssw0rd!",
    "common: qwerty123456": "qwerty123456",
    "guessable: Summer2024!": "Summer2024!",
    "guessable: iloveyou2024": "iloveyou2024",
    "guessable: qwertyuiop": "qwertyuiop",
    "repeated": "aaaaaaaaaaaaaaaa",
}


@pytest.mark.parametrize("name", list(WEAK_PASSWORDS))
def test_422_weak_password(api, new_email, name):
    r = api.register(new_email(), WEAK_PASSWORDS[name])
    assert_problem(r, 422, "weak_password")


def test_422_for_a_password_with_nul(api, new_email):
    pw = strong_password()
    assert_problem(api.register(new_email(), pw + "\u0000"), 422, "weak_password")
    assert_problem(api.register(new_email(), pw[:5] + "\u0000" + pw[5:]), 422, "weak_password")


def test_password_length_is_counted_in_nfkc_code_points(api, new_email):
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789\u03b1\u03b2\u03b3\u03b4"
    base = "".join(secrets.choice(alphabet) for _ in range(255))
    # 256 code points: the longest accepted.
    assert api.register(new_email(), base + "\u03c9").status_code == 201
    # 257: too long.
    assert_problem(api.register(new_email(), base + "\u03c9Z"), 422, "weak_password")
    # 256 as typed, 257 after NFKC (the ligature U+FB01 becomes "fi").
    assert_problem(api.register(new_email(), base + "\ufb01"), 422, "weak_password")


def test_422_for_a_password_made_of_the_email(api):
    local = "quasar" + secrets.token_hex(4)
    email = f"{local}@example.com"
    for pw in (email, email.upper(), local + "2024", "!" + local.upper() + "!",
               "1234" + local, "ab" + local.capitalize() + "cd"):
        assert_problem(api.register(email, pw), 422, "weak_password")
    # The account was never created by any of these.
    assert api.register(email, strong_password()).status_code == 201


def test_weak_password_detail_says_which_rule(api, new_email):
    short = assert_problem(api.register(new_email(), "k#9Qz!v"), 422, "weak_password")
    common = assert_problem(api.register(new_email(), "password"), 422, "weak_password")
    assert short["detail"] != common["detail"], "detail does not tell the rules apart"


def test_password_unicode_is_accepted(api, make_session, make_user):
    u = make_user(password="\u65e5\u672c\u8a9e-" + strong_password() + "-\U0001f511")
    assert make_session(u).user.email == u.email


# --- judging order ---------------------------------------------------------------------

def test_invalid_email_is_judged_before_weak_password(api):
    assert_problem(api.register("not-an-email", "password"), 422, "invalid_email")


def test_weak_password_is_judged_before_email_taken(api, user):
    # A weak password on a taken email says nothing about the email.
    assert_problem(api.register(user.email, "password"), 422, "weak_password")
    assert_problem(api.register(user.email.upper(), "k#9Qz!v"), 422, "weak_password")


def test_body_shape_is_judged_before_content(api, user):
    r = api.post_json("/auth/register", {"email": user.email, "password": None})
    assert_problem(r, 400, "invalid_field", field="password")
    r = api.post_json("/auth/register", {"email": "not-an-email"})
    assert_problem(r, 400, "missing_field", field="password")


# --- fields ------------------------------------------------------------------------------

FIELD_CASES = [
    ({}, "missing_field", "email"),
    ({"password": "x"}, "missing_field", "email"),
    ({"email": "a@example.com"}, "missing_field", "password"),
    ({"password": 5}, "missing_field", "email"),
    ({"password": None, "email": None}, "invalid_field", "email"),
    ({"email": None}, "invalid_field", "email"),
    ({"email": 5, "password": "x"}, "invalid_field", "email"),
    ({"email": True, "password": "x"}, "invalid_field", "email"),
    ({"email": ["a@example.com"], "password": "x"}, "invalid_field", "email"),
    ({"email": {"v": "a@example.com"}, "password": "x"}, "invalid_field", "email"),
    ({"email": "a@example.com", "password": None}, "invalid_field", "password"),
    ({"email": "a@example.com", "password": 12345678}, "invalid_field", "password"),
    ({"email": "a@example.com", "password": ["x"]}, "invalid_field", "password"),
    ({"email": "a@example.com", "password": False}, "invalid_field", "password"),
    ({"email": 1.5}, "invalid_field", "email"),
    ({"Email": "a@example.com", "Password": "x"}, "missing_field", "email"),
]


@pytest.mark.parametrize("body,code,field", FIELD_CASES)
def test_400_field_errors_name_the_first_member_in_body_order(api, body, code, field):
    assert_problem(api.post_json("/auth/register", body), 400, code, field=field)
