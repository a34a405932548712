"""The second factor end to end (API.md "Second factor: TOTP and recovery
codes"), with an authenticator outside this codebase: Debian's pyotp makes
the codes, and the QR SVG is rendered (rsvg-convert) and read back (zbarimg)
to show apps would scan the right URI."""
import shutil
import subprocess
import urllib.parse

import pyotp
import pytest

from authd_e2e import (Api, assert_json, assert_problem, assert_token_answer, bearer, decode_jwt,
                       next_step_code, remember, start_setup, strong_password)


def test_setup_answers_secret_uri_and_a_scannable_qr(api, user, make_session):
    s = make_session(user)
    body = assert_json(start_setup(api, s, user.password), 200)
    remember(body["secret"])
    secret = body["secret"]
    assert len(secret) == 32 and secret == secret.upper() and "=" not in secret, secret
    uri = body["otpauth_uri"]
    parsed = urllib.parse.urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert urllib.parse.unquote(parsed.path) == f"/auth:{user.email}"
    q = dict(urllib.parse.parse_qsl(parsed.query))
    assert q == {"secret": secret, "issuer": "auth", "algorithm": "SHA1", "digits": "6",
                 "period": "30"}, q
    assert body["qr_svg"].startswith("<svg")
    if not (shutil.which("rsvg-convert") and shutil.which("zbarimg")):
        pytest.fail("rsvg-convert and zbarimg are needed (scripts/install-deps.sh installs them)")
    png = subprocess.run(["rsvg-convert", "-w", "400", "-f", "png"], input=body["qr_svg"].encode(),
                         capture_output=True, check=True).stdout
    scanned = subprocess.run(["zbarimg", "--quiet", "--raw", "-"], input=png,
                             capture_output=True, check=True).stdout.decode().strip()
    assert scanned == uri


def test_setup_needs_the_password_and_a_token(api, user, make_session):
    s = make_session(user)
    assert_problem(start_setup(api, s, "wrong password!"), 401, "invalid_credentials")
    r = api.post_json("/auth/mfa/totp/setup", {"password": user.password})
    assert_problem(r, 401, "invalid_token")
    assert_problem(api.post_json("/auth/mfa/totp/setup", {},
                                 headers=bearer(s.access_token)), 400, "missing_field", "password")


def test_confirm_states_and_wrong_codes(api, user, make_session):
    s = make_session(user)
    r = api.post_json("/auth/mfa/totp/confirm", {"code": "123456"}, headers=bearer(s.access_token))
    assert_problem(r, 422, "invalid_mfa_code")  # nothing pending
    body = assert_json(start_setup(api, s, user.password), 200)
    remember(body["secret"])
    totp = pyotp.TOTP(body["secret"])
    wrong = "000000" if totp.now() != "000000" else "000001"
    r = api.post_json("/auth/mfa/totp/confirm", {"code": wrong}, headers=bearer(s.access_token))
    assert_problem(r, 422, "invalid_mfa_code")
    me = assert_json(api.me(s.access_token), 200)
    assert me["mfa_enabled"] is False


def test_enrolment_ends_other_sessions_and_me_says_it(api, user, make_session):
    other = make_session(user)
    s = make_session(user)
    body = assert_json(start_setup(api, s, user.password), 200)
    remember(body["secret"])
    totp = pyotp.TOTP(body["secret"])
    r = api.post_json("/auth/mfa/totp/confirm", {"code": totp.now()}, headers=bearer(s.access_token))
    codes = assert_json(r, 200)["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert_problem(api.me(other.access_token), 401, "invalid_token")
    assert assert_json(api.me(s.access_token), 200)["mfa_enabled"] is True
    assert_problem(start_setup(api, s, user.password), 409, "mfa_already_enabled")
    r = api.post_json("/auth/mfa/totp/confirm", {"code": totp.now()}, headers=bearer(s.access_token))
    assert_problem(r, 409, "mfa_already_enabled")


def test_login_in_two_steps(api, enrolled):
    user, totp, codes, s, step = enrolled
    r = api.login(user.email, user.password)
    body = assert_problem(r, 403, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code"]
    assert isinstance(body["mfa_token"], str) and len(body["mfa_token"]) >= 22
    remember(body["mfa_token"])
    assert "access_token" not in body
    code, step = next_step_code(totp, step)
    r = api.post_json("/auth/mfa/verify", {"mfa_token": body["mfa_token"], "code": code})
    answer = assert_token_answer(r, user.email)
    assert decode_jwt(answer["access_token"])[1]["amr"] == ["pwd", "otp"]
    # Spent by the success.
    r = api.post_json("/auth/mfa/verify", {"mfa_token": body["mfa_token"], "code": code})
    assert_problem(r, 401, "invalid_token")


def test_a_code_is_accepted_once(api, enrolled):
    user, totp, codes, s, step = enrolled
    code, step = next_step_code(totp, step)
    t1 = api.login(user.email, user.password).json()["mfa_token"]
    t2 = api.login(user.email, user.password).json()["mfa_token"]
    assert api.post_json("/auth/mfa/verify", {"mfa_token": t1, "code": code}).status_code == 200
    r = api.post_json("/auth/mfa/verify", {"mfa_token": t2, "code": code})
    assert_problem(r, 401, "invalid_mfa_code")


def test_verify_judges_the_body_then_the_token(api, enrolled):
    user, totp, codes, s, step = enrolled
    token = api.login(user.email, user.password).json()["mfa_token"]
    assert_problem(api.post_json("/auth/mfa/verify", {"mfa_token": token}), 400,
                   "missing_field", "code")
    assert_problem(api.post_json("/auth/mfa/verify", {"mfa_token": token, "code": "123456",
                                                      "recovery_code": codes[0]}),
                   400, "invalid_field")
    assert_problem(api.post_json("/auth/mfa/verify", {"mfa_token": "nope", "code": "123456"}),
                   401, "invalid_token")
    other_address = {"X-Forwarded-For": "198.51.100.77"}  # ignored unless the peer is trusted
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token, "code": "000000"},
                      headers=other_address)
    assert r.status_code in (401,), r.text


def test_recovery_codes_once_ignoring_case_and_hyphens(api, enrolled):
    user, totp, codes, s, step = enrolled
    token = api.login(user.email, user.password).json()["mfa_token"]
    typed = codes[0].upper().replace("-", " ")
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token, "recovery_code": typed})
    answer = assert_token_answer(r, user.email)
    assert decode_jwt(answer["access_token"])[1]["amr"] == ["pwd", "otp"]
    token = api.login(user.email, user.password).json()["mfa_token"]
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token, "recovery_code": codes[0]})
    assert_problem(r, 401, "invalid_mfa_code")
    # New codes void the old ones.
    assert_problem(api.post_json("/auth/mfa/recovery-codes", {"password": "wrong password!"},
                                 headers=bearer(answer["access_token"])), 401,
                   "invalid_credentials")
    fresh = assert_json(api.post_json("/auth/mfa/recovery-codes", {"password": user.password},
                                      headers=bearer(answer["access_token"])), 200)
    for c in fresh["recovery_codes"]:
        remember(c)
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token, "recovery_code": codes[1]})
    assert_problem(r, 401, "invalid_mfa_code")
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token,
                                           "recovery_code": fresh["recovery_codes"][0]})
    assert r.status_code == 200


def test_wrong_codes_are_throttled(api, enrolled):
    user, totp, codes, s, step = enrolled
    token = api.login(user.email, user.password).json()["mfa_token"]
    good = totp.now()
    wrong = [c for c in ("000000", "111111", "222222") if c != good][0]
    statuses = []
    patient = Api(expect_throttling=True)
    for _ in range(7):
        r = patient.request("POST", "/auth/mfa/verify", json={"mfa_token": token, "code": wrong})
        statuses.append(r.status_code)
        if r.status_code == 429:
            break
    patient.close()
    print(f"wrong codes: {statuses}")
    assert statuses[:6] == [401] * 6, statuses
    assert_problem(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) >= 1


def test_password_change_needs_a_code(api, enrolled):
    user, totp, codes, s, step = enrolled
    new = strong_password()
    r = api.change_password(user.email, user.password, new)
    body = assert_problem(r, 403, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code"] and "mfa_token" not in body
    r = api.post_json("/auth/password", {"email": user.email, "current_password": user.password,
                                         "new_password": new, "code": codes[2]})
    answer = assert_token_answer(r, user.email)
    assert decode_jwt(answer["access_token"])[1]["amr"] == ["pwd", "otp"]


def test_disable_needs_password_then_code(api, enrolled):
    user, totp, codes, s, step = enrolled
    h = bearer(s.access_token)
    r = api.request("DELETE", "/auth/mfa/totp", json={"password": "wrong password!",
                                                       "code": codes[3]}, headers=h)
    assert_problem(r, 401, "invalid_credentials")
    r = api.request("DELETE", "/auth/mfa/totp", json={"password": user.password,
                                                       "code": "zzzz-zzzz-zzzz"}, headers=h)
    assert_problem(r, 401, "invalid_mfa_code")
    r = api.request("DELETE", "/auth/mfa/totp", json={"password": user.password,
                                                       "code": codes[3]}, headers=h)
    assert r.status_code == 204, r.text
    assert assert_json(api.me(s.access_token), 200)["mfa_enabled"] is False
    r = api.request("DELETE", "/auth/mfa/totp", json={"password": user.password,
                                                       "code": codes[4]}, headers=h)
    assert_problem(r, 409, "mfa_not_enabled")
    assert_problem(api.post_json("/auth/mfa/recovery-codes", {"password": user.password},
                                 headers=h), 409, "mfa_not_enabled")
    assert api.login(user.email, user.password).status_code == 200


def test_no_cleartext_secret_or_code_in_the_database(api, enrolled, db):
    user, totp, codes, s, step = enrolled
    with db.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = [row[0] for row in cur.fetchall()]
        dump = b""
        for t in tables:
            cur.execute(f"SELECT * FROM `{t}`")
            for row in cur.fetchall():
                for v in row:
                    if isinstance(v, (bytes, bytearray)):
                        dump += bytes(v) + b"\n"
                    elif v is not None:
                        dump += str(v).encode() + b"\n"
    assert totp.secret.encode() not in dump
    import base64
    assert base64.b32decode(totp.secret) not in dump, "the raw secret is stored"
    for c in codes:
        assert c.encode() not in dump and c.replace("-", "").encode() not in dump


def test_a_location_that_admits_only_second_factor_logins(api, enrolled, auth_request_url):
    """nginx's auth_request example gains /app-otp/ (require_amr=otp,hwk,swk):
    a password-only token is refused (403 mfa_required), a token from a
    completed second step passes, its amr handed on as X-Auth-AMR. (Passkey
    logins passing it: test_passkeys.py.)"""
    import json

    from authd_e2e import Api
    user, totp, codes, s, step = enrolled
    gate = Api(auth_request_url)
    try:
        r = gate.get("/app-otp/reports", token=s.access_token)  # the enrolling login: pwd only
        body = assert_problem(r, 403, "mfa_required")
        assert body["methods"] == ["totp", "recovery_code", "passkey"]
        assert "x_auth_user_id" not in r.text
        token = api.login(user.email, user.password).json()["mfa_token"]
        code, _ = next_step_code(totp, step)
        otp_login = assert_json(api.post_json("/auth/mfa/verify",
                                              {"mfa_token": token, "code": code}), 200)
        r = gate.get("/app-otp/reports", token=otp_login["access_token"])
        assert r.status_code == 200, r.text
        seen = json.loads(r.text)
        assert seen["x_auth_amr"] == "pwd,otp" and seen["x_auth_user_id"] == user.id
        r = gate.get("/app-otp/reports")
        assert_problem(r, 401, "invalid_token")
    finally:
        gate.close()
