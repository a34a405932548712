"""Passkeys end to end (API.md "Passkeys (WebAuthn)") with a software
authenticator outside the server (webauthn_forge.py: python3-cryptography
keys, python3-cbor2): registration and login with EdDSA, ES256 and RS256,
each cross-checked by python3-fido2's Fido2Server; every verification step
of WebAuthn L3 §7.1 and §7.2 spoiled on its own; the challenge single use,
5 minutes, bound to its purpose and account; the counter; throttling that
cannot lock the owner out; passkeys as the second factor; the notices; the
operator's passkey-reset. The browser's side is test_passkeys_browser.py."""
import subprocess
import os
import threading

import pytest

from authd_e2e import (SECRETS, Api, assert_bearer_401, assert_json, assert_problem,
                       assert_retry_after, assert_token_answer, age_session, decode_jwt,
                       unique_email)
from passkeys_e2e import (bearer, enrol, expire_challenge, failures_of, log_in_with,
                          login_options, options_for, passkey_login, register,
                          registration_options, relying_party, stored_passkey, turn_on_totp)
from webauthn_forge import (AT, BE, BS, ED, UP, UV, SoftAuthenticator, Spoil, b64u,
                            cross_check_assertion, cross_check_registration, unb64u)

REAUTH_MAX_AGE = int(os.environ.get("E2E_REAUTH_MAX_AGE", "300"))


@pytest.fixture(scope="module")
def rp():
    return relying_party()


@pytest.fixture
def origin(rp):
    return rp[1]


@pytest.fixture
def device(session, api, origin):
    """The session's user with a device-bound ES256 passkey registered."""
    a = SoftAuthenticator("ES256")
    r, _ = enrol(api, session, a, origin)
    assert_json(r, 201)
    return a


def amr_of(body: dict) -> list[str]:
    return decode_jwt(body["access_token"])[1]["amr"]


# --- registration and login, each algorithm, cross-checked -------------------------------

@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_each_algorithm_registers_and_logs_in_as_python_fido2_agrees(api, session, rp, alg):
    rp_id, origin = rp
    a = SoftAuthenticator(alg)
    options = options_for(api, session)
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-8, -7, -257]
    assert options["rp"]["id"] == rp_id
    credential = a.create(options, origin)
    created = assert_json(register(api, session.access_token, credential, name=f"{alg} key"), 201)
    assert created["name"] == f"{alg} key" and created["last_used_at"] is None
    registered = cross_check_registration(credential, options["challenge"], rp_id, origin)

    request = login_options(api)
    assertion = a.get(request, origin)
    body = assert_token_answer(passkey_login(api, assertion), session.user.email)
    cross_check_assertion(assertion, request["challenge"], rp_id, origin, registered)
    assert amr_of(body) == ["hwk", "mfa"]
    assert decode_jwt(body["access_token"])[1]["sub"] == session.user.id
    me = assert_json(api.me(body["access_token"]), 200)
    assert me["passkeys"] == 1
    r = api.verify(body["access_token"])
    assert r.status_code == 204 and r.headers["X-Auth-AMR"] == "hwk,mfa"
    listed = assert_json(api.get("/auth/passkeys", token=session.access_token), 200)["passkeys"]
    assert [p["id"] for p in listed] == [created["id"]]
    assert listed[0]["last_used_at"] is not None


def test_a_synced_passkey_logs_in_as_swk(api, session, origin):
    a = SoftAuthenticator("EdDSA", backup_eligible=True, backed_up=True)
    created = assert_json(enrol(api, session, a, origin)[0], 201)
    assert created["backed_up"] is True
    body = assert_json(log_in_with(api, a, origin), 200)
    assert amr_of(body) == ["swk", "mfa"]


def test_options_name_no_account(api):
    first, second = login_options(api), login_options(api)
    assert first["allowCredentials"] == [] and first["userVerification"] == "required"
    assert first["challenge"] != second["challenge"]
    assert len(unb64u(first["challenge"])) == 32
    r = api.post_raw("/auth/passkeys/login/options", b"", content_type=None)
    assert assert_json(r, 200)["publicKey"]["timeout"] == 300000


# --- registration options: the password again ---------------------------------------

def test_registration_options_need_a_token_then_the_password(api, session):
    assert_bearer_401(registration_options(api, None, session.user.password), sent=False)
    r = registration_options(api, session.access_token, "not the password at all")
    assert_problem(r, 401, "invalid_credentials")
    assert "WWW-Authenticate" not in r.headers
    assert_problem(api.post_json("/auth/passkeys/register/options", {},
                                 headers=bearer(session.access_token)), 400, "missing_field",
                   field="password")
    options = assert_json(registration_options(api, session.access_token, session.user.password),
                          200)["publicKey"]
    assert options["user"]["name"] == session.user.email
    assert len(unb64u(options["user"]["id"])) == 32
    assert options["authenticatorSelection"] == {"residentKey": "required",
                                                 "userVerification": "required"}
    assert options["attestation"] == "none" and options["timeout"] == 300000
    again = options_for(api, session)
    assert again["user"]["id"] == options["user"]["id"], "one user handle per account"


def test_registration_options_need_a_code_while_totp_is_on(api, session):
    turn_on_totp(api, session)
    body = assert_problem(registration_options(api, session.access_token, session.user.password),
                          403, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code"] and "mfa_token" not in body
    assert_problem(registration_options(api, session.access_token, session.user.password,
                                        "000000"), 401, "invalid_mfa_code")


# --- registration: each step of §7.1 on its own -------------------------------------

REGISTRATION_SPOILS = {
    "client_data_type": Spoil(type="webauthn.get"),
    "origin_other_port": None,  # filled in by the test (the stack's port + 1)
    "origin_127_0_0_1": None,
    "cross_origin": Spoil(cross_origin=True),
    "top_origin": Spoil(top_origin="https://evil.example"),
    "rp_id": Spoil(rp_id="example.com"),
    "user_present": Spoil(drop_flags=UP),
    "user_verified": Spoil(drop_flags=UV),
    "backup_state_without_eligibility": Spoil(add_flags=BS),
    "trailing_bytes": Spoil(trailing=b"\x00"),
    "key_labelled_eddsa": Spoil(alg_label=-8),
    "no_attested_data": Spoil(drop_flags=AT),
    "credential_id_differs": Spoil(credential_id=b"another credential id"),
}


@pytest.mark.parametrize("case", sorted(REGISTRATION_SPOILS))
def test_registration_refuses_a_failed_step(api, session, origin, db, case):
    spoil = REGISTRATION_SPOILS[case]
    if case == "origin_other_port":
        host, port = origin.rsplit(":", 1)
        spoil = Spoil(origin=f"{host}:{int(port) + 1}")
    elif case == "origin_127_0_0_1":
        spoil = Spoil(origin=origin.replace("localhost", "127.0.0.1"))
    a = SoftAuthenticator("ES256")
    r, options = enrol(api, session, a, origin, spoil=spoil)
    body = assert_problem(r, 422, "invalid_passkey")
    assert body["detail"]
    assert stored_passkey(db, a.credential_id) is None
    # The attempt spent the challenge: the same options, unspoiled, are refused now.
    r = register(api, session.access_token, a.create(options, origin))
    assert "challenge" in assert_problem(r, 422, "invalid_passkey")["detail"]


def test_registration_refuses_an_algorithm_not_offered(api, session, origin):
    a = SoftAuthenticator("ES384")
    body = assert_problem(enrol(api, session, a, origin)[0], 422, "invalid_passkey")
    assert "algorithm" in body["detail"]


def test_a_registration_challenge_is_single_use(api, session, origin):
    options = options_for(api, session)
    a, b = SoftAuthenticator(), SoftAuthenticator()
    assert_json(register(api, session.access_token, a.create(options, origin)), 201)
    r = register(api, session.access_token, b.create(options, origin))
    assert "challenge" in assert_problem(r, 422, "invalid_passkey")["detail"]


def test_an_expired_registration_challenge_is_refused(api, session, origin, db):
    options = options_for(api, session)
    expire_challenge(db, options["challenge"])
    r = register(api, session.access_token, SoftAuthenticator().create(options, origin))
    assert "challenge" in assert_problem(r, 422, "invalid_passkey")["detail"]


def test_another_accounts_challenge_is_refused_and_spent(api, make_user, make_session, origin):
    ann, bob = make_session(make_user()), make_session(make_user())
    bobs = options_for(api, bob)
    r = register(api, ann.access_token, SoftAuthenticator().create(bobs, origin))
    assert_problem(r, 422, "invalid_passkey")
    r = register(api, bob.access_token, SoftAuthenticator().create(bobs, origin))
    assert_problem(r, 422, "invalid_passkey")


def test_a_login_challenge_does_not_register(api, session, origin):
    options = options_for(api, session)
    options["challenge"] = login_options(api)["challenge"]
    r = register(api, session.access_token, SoftAuthenticator().create(options, origin))
    assert_problem(r, 422, "invalid_passkey")


def test_registration_judges_the_token_before_the_body(api, session, origin):
    assert_bearer_401(register(api, None, "garbage"), sent=False)
    assert_bearer_401(register(api, "not.a.token", {"id": 1}))
    for bad in ["garbage", {}, {"id": "AA", "rawId": "AA", "type": "public-key",
                                "response": {"clientDataJSON": "*", "attestationObject": ""}}]:
        assert_problem(register(api, session.access_token, bad), 400, "invalid_field",
                       field="credential")


def test_malformed_cbor_or_client_data_is_400(api, session, origin):
    options = options_for(api, session)
    good = SoftAuthenticator().create(options, origin)
    for member, value in [("attestationObject", b64u(b"\xa1\x01")),
                          ("attestationObject", b64u(b"not cbor")),
                          ("clientDataJSON", b64u(b"[1, 2]")),
                          ("clientDataJSON", b64u(b'{"type": "webauthn.create"}')),
                          ("attestationObject", "a+b/")]:
        bad = dict(good, response=dict(good["response"], **{member: value}))
        assert_problem(register(api, session.access_token, bad), 400, "invalid_field",
                       field="credential")


def test_names(api, session, origin):
    r, _ = enrol(api, session, SoftAuthenticator(), origin)
    assert assert_json(r, 201)["name"] == "Passkey"
    options = options_for(api, session)
    for bad in ["", "x" * 65, "tab\there", "bell\u0007"]:
        r = register(api, session.access_token, SoftAuthenticator().create(options, origin), bad)
        assert_problem(r, 400, "invalid_field", field="name")
    r, _ = enrol(api, session, SoftAuthenticator(), origin, name="Cafe\u0301 \u2603")
    assert assert_json(r, 201)["name"] == "Caf\u00e9 \u2603", "stored in NFC"


def test_a_credential_registered_already_is_409_across_accounts(api, make_user, make_session,
                                                               origin):
    ann, bob = make_session(make_user()), make_session(make_user())
    a = SoftAuthenticator()
    assert_json(enrol(api, ann, a, origin)[0], 201)
    assert_problem(enrol(api, ann, a, origin)[0], 409, "passkey_exists")
    assert_problem(enrol(api, bob, a, origin)[0], 409, "passkey_exists")


def test_the_limit_is_judged_last(api, session, origin):
    first = SoftAuthenticator()
    assert_json(enrol(api, session, first, origin)[0], 201)
    for _ in range(9):
        assert_json(enrol(api, session, SoftAuthenticator("EdDSA"), origin)[0], 201)
    options = assert_json(registration_options(api, session.access_token, session.user.password),
                          200)["publicKey"]
    assert len(options["excludeCredentials"]) == 10, "options are answered even at the limit"
    assert options["excludeCredentials"][0]["id"] == b64u(first.credential_id)
    assert_problem(register(api, session.access_token, SoftAuthenticator().create(options, origin)),
                   409, "passkey_limit")
    # A spoiled one at the limit is still 422 (the checks come first), a
    # duplicate 409 passkey_exists (before the limit).
    assert_problem(enrol(api, session, SoftAuthenticator(), origin, spoil=Spoil(drop_flags=UV))[0],
                   422, "invalid_passkey")
    assert_problem(enrol(api, session, first, origin)[0], 409, "passkey_exists")


# --- the list and removal -----------------------------------------------------------

def test_removal_needs_your_passkey_and_a_recent_login(api, session, make_user, make_session,
                                                      origin, db):
    a = SoftAuthenticator()
    created = assert_json(enrol(api, session, a, origin)[0], 201)
    other = make_session(make_user())
    r = api.request("DELETE", f"/auth/passkeys/{created['id']}", headers=bearer(other.access_token))
    assert_problem(r, 404, "not_found")
    age_session(db, session.claims["sid"], REAUTH_MAX_AGE + 5, "auth_time")
    r = api.request("DELETE", f"/auth/passkeys/{created['id']}",
                    headers=bearer(session.access_token))
    assert_problem(r, 403, "reauthentication_required")
    fresh = make_session(session.user)
    r = api.request("DELETE", f"/auth/passkeys/{created['id']}", headers=bearer(fresh.access_token))
    assert r.status_code == 204 and r.content == b""
    assert_problem(log_in_with(api, a, origin), 401, "invalid_credentials")
    r = api.request("DELETE", f"/auth/passkeys/{created['id']}", headers=bearer(fresh.access_token))
    assert_problem(r, 404, "not_found")


@pytest.mark.once
def test_adding_and_removing_send_notices(api, session, origin, mail_dir):
    from mail_capture import wait_for_mail
    a = SoftAuthenticator()
    created = assert_json(enrol(api, session, a, origin, name="Work laptop")[0], 201)
    added = wait_for_mail(session.user.email, subject="A passkey was added to your account")
    assert "Work laptop" in added[0].text
    r = api.request("DELETE", f"/auth/passkeys/{created['id']}",
                    headers=bearer(session.access_token))
    assert r.status_code == 204
    removed = wait_for_mail(session.user.email, subject="A passkey was removed from your account")
    assert "Work laptop" in removed[0].text


# --- login: each step of §7.2 on its own --------------------------------------------

LOGIN_SPOILS = {
    "client_data_type": Spoil(type="webauthn.create"),
    "cross_origin": Spoil(cross_origin=True),
    "top_origin": Spoil(top_origin="https://evil.example"),
    "rp_id": Spoil(rp_id="example.com"),
    "user_present": Spoil(drop_flags=UP),
    "user_verified": Spoil(drop_flags=UV),
    "backup_state_without_eligibility": Spoil(add_flags=BS),
    "backup_eligibility_changed": Spoil(add_flags=BE),
    "trailing_bytes": Spoil(trailing=b"\x00"),
    "attested_data_in_an_assertion": Spoil(add_flags=AT),
    "extension_flag_without_extensions": Spoil(add_flags=ED),
    "bad_signature": Spoil(bad_signature=True),
}


@pytest.mark.parametrize("case", sorted(LOGIN_SPOILS))
def test_login_refuses_a_failed_step_as_a_failed_login(api, session, device, origin, db, case):
    before = failures_of(db, session.user.email)
    assert_problem(log_in_with(api, device, origin, LOGIN_SPOILS[case]), 401,
                   "invalid_credentials")
    assert failures_of(db, session.user.email) == before + 1, "a failed login of its owner"


def test_login_refuses_another_origin(api, session, device, origin):
    host, port = origin.rsplit(":", 1)
    for other in (f"{host}:{int(port) + 1}", origin.replace("localhost", "127.0.0.1"),
                  origin.replace("http://", "https://")):
        assert_problem(log_in_with(api, device, origin, Spoil(origin=other)), 401,
                       "invalid_credentials")


def test_a_login_challenge_is_single_use(api, session, device, origin):
    options = login_options(api)
    credential = device.get(options, origin)
    assert_json(passkey_login(api, credential), 200)
    assert_problem(passkey_login(api, device.get(options, origin)), 401, "invalid_token")


def test_an_attempt_spends_the_challenge_even_when_it_fails(api, session, device, origin):
    options = login_options(api)
    assert_problem(passkey_login(api, device.get(options, origin, Spoil(bad_signature=True))),
                   401, "invalid_credentials")
    assert_problem(passkey_login(api, device.get(options, origin)), 401, "invalid_token")


def test_an_expired_or_foreign_challenge_is_invalid_token_counting_nothing(api, session, device,
                                                                           origin, db):
    before = failures_of(db, session.user.email)
    options = login_options(api)
    expire_challenge(db, options["challenge"])
    assert_problem(passkey_login(api, device.get(options, origin)), 401, "invalid_token")
    # A registration challenge is not one issued for a login.
    options["challenge"] = options_for(api, session)["challenge"]
    assert_problem(passkey_login(api, device.get(options, origin)), 401, "invalid_token")
    options["challenge"] = b64u(os.urandom(32))
    assert_problem(passkey_login(api, device.get(options, origin)), 401, "invalid_token")
    assert failures_of(db, session.user.email) == before


def test_an_unknown_credential_counts_for_nobody(api, session, device, origin, db):
    stranger = SoftAuthenticator()
    stranger.user_handle = device.user_handle
    assert_problem(log_in_with(api, stranger, origin), 401, "invalid_credentials")
    assert failures_of(db, session.user.email) == 0


def test_the_user_handle_must_be_the_owners(api, session, device, make_user, make_session, origin):
    bob = make_session(make_user())
    bobs_handle = unb64u(options_for(api, bob)["user"]["id"])
    assert_problem(log_in_with(api, device, origin, user_handle=bobs_handle), 401,
                   "invalid_credentials")
    # Left out: a failed check, not a missing field.
    assert_problem(log_in_with(api, device, origin, user_handle=None), 401, "invalid_credentials")
    assert_json(log_in_with(api, device, origin), 200)


def test_a_counter_that_did_not_grow_refuses_a_device_bound_passkey(api, session, device, origin,
                                                                  db):
    assert_json(log_in_with(api, device, origin), 200)
    stored = stored_passkey(db, device.credential_id)["sign_count"]
    for replayed in (stored, stored - 1):
        assert_problem(log_in_with(api, device, origin, Spoil(sign_count=replayed)), 401,
                       "invalid_credentials")
    assert stored_passkey(db, device.credential_id)["sign_count"] == stored
    assert_json(log_in_with(api, device, origin, Spoil(sign_count=stored + 1)), 200)


def test_a_counter_that_did_not_grow_is_only_logged_for_a_synced_passkey(api, session, origin, db,
                                                                       log_files):
    from authd_e2e import audit_lines, request_id
    a = SoftAuthenticator("ES256", backup_eligible=True, backed_up=True)
    assert_json(enrol(api, session, a, origin)[0], 201)
    assert_json(log_in_with(api, a, origin, Spoil(sign_count=40)), 200)
    options = login_options(api)
    rid = request_id("synced-counter")
    r = api.post_json("/auth/passkeys/login",
                      {"credential": a.get(options, origin, Spoil(sign_count=12))},
                      headers={"X-Request-ID": rid})
    assert_json(r, 200)
    assert stored_passkey(db, a.credential_id)["sign_count"] == 40, "left as it was"
    lines = audit_lines(log_files, rid, "passkey_counter")
    assert lines and lines[0]["outcome"] == "not_grown_synced", lines


def test_two_workers_never_both_accept_one_counter_value(api, session, device, origin):
    """A cloned device-bound key sends the same counter on two requests at
    once (each with a challenge of its own): the compare-and-swap lets one in."""
    assert_json(log_in_with(api, device, origin), 200)
    value = device.sign_count + 1
    outcomes = []
    for _ in range(5):
        credentials = [device.get(login_options(api), origin, Spoil(sign_count=value))
                       for _ in range(2)]
        barrier = threading.Barrier(2)
        results = [None, None]

        def send(i):
            a = Api()
            try:
                barrier.wait()
                results[i] = a.post_json("/auth/passkeys/login",
                                         {"credential": credentials[i]}).status_code
            finally:
                a.close()
        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(sorted(results))
        value += 1
    assert all(o == [200, 401] for o in outcomes), outcomes


def test_failed_passwords_never_lock_the_passkey_out(api, session, device, origin):
    limited = Api(expect_throttling=True)
    try:
        for _ in range(6):
            assert_problem(limited.login(session.user.email, "wrong password, surely"), 401,
                           "invalid_credentials")
        assert_retry_after(limited.login(session.user.email, session.user.password))
        body = assert_json(log_in_with(api, device, origin), 200)
        assert amr_of(body) == ["hwk", "mfa"]
        # ...and its success cleared the counters.
        assert_json(limited.login(session.user.email, session.user.password), 200)
    finally:
        limited.close()


def test_a_disabled_account_is_403_after_the_counter_is_stored(api, session, device, origin, db,
                                                              authd_bin, operator_env):
    p = subprocess.run([authd_bin, "user", "disable", session.user.email], env=operator_env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    before = failures_of(db, session.user.email)
    assert_problem(log_in_with(api, device, origin, Spoil(sign_count=77)), 403, "account_disabled")
    assert stored_passkey(db, device.credential_id)["sign_count"] == 77
    assert failures_of(db, session.user.email) == before, "neither a failure nor a success"


def test_totp_on_needs_no_code_for_a_passkey(api, session, device, origin):
    turn_on_totp(api, session)
    assert amr_of(assert_json(log_in_with(api, device, origin), 200)) == ["hwk", "mfa"]


# --- as the second factor -------------------------------------------------------------

@pytest.fixture
def second_factor(api, session, device):
    """The session's user with TOTP on and a passkey: (pyotp.TOTP, passkey)."""
    return turn_on_totp(api, session), device


def mfa_token_of(api, user) -> str:
    body = assert_problem(api.login(user.email, user.password), 403, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code", "passkey"]
    return body["mfa_token"]


def mfa_options(api, token) -> dict:
    return assert_json(api.post_json("/auth/mfa/passkey/options", {"mfa_token": token}),
                       200)["publicKey"]


def test_a_passkey_completes_a_password_login(api, session, second_factor, origin, rp):
    _, device = second_factor
    token = mfa_token_of(api, session.user)
    options = mfa_options(api, token)
    assert options["userVerification"] == "discouraged"
    assert [c["id"] for c in options["allowCredentials"]] == [b64u(device.credential_id)]
    # User presence is enough after a password; the user handle may be left out.
    credential = device.get(options, origin, Spoil(drop_flags=UV), user_handle=None)
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token, "passkey": credential})
    body = assert_token_answer(r, session.user.email)
    assert amr_of(body) == ["pwd", "hwk"]
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token, "passkey": credential})
    assert_problem(r, 401, "invalid_token")


def test_a_failed_passkey_second_step_is_a_wrong_code(api, session, second_factor, origin, db):
    _, device = second_factor
    token = mfa_token_of(api, session.user)
    before = failures_of(db, session.user.email)
    options = mfa_options(api, token)
    r = api.post_json("/auth/mfa/verify",
                      {"mfa_token": token,
                       "passkey": device.get(options, origin, Spoil(bad_signature=True))})
    assert_problem(r, 401, "invalid_mfa_code")
    assert failures_of(db, session.user.email) == before + 1
    # That challenge is spent; the mfa_token is not.
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token,
                                           "passkey": device.get(options, origin)})
    assert_problem(r, 401, "invalid_mfa_code")
    r = api.post_json("/auth/mfa/verify", {"mfa_token": token,
                                           "passkey": device.get(mfa_options(api, token), origin)})
    assert_json(r, 200)


def test_a_second_step_challenge_belongs_to_its_mfa_token(api, session, second_factor, origin):
    _, device = second_factor
    first, second = mfa_token_of(api, session.user), mfa_token_of(api, session.user)
    r = api.post_json("/auth/mfa/verify", {"mfa_token": first,
                                           "passkey": device.get(mfa_options(api, second), origin)})
    assert_problem(r, 401, "invalid_mfa_code")


def test_mfa_verify_takes_one_of_code_recovery_code_passkey(api, session, second_factor, origin):
    totp, device = second_factor
    token = mfa_token_of(api, session.user)
    credential = device.get(mfa_options(api, token), origin)
    assert_problem(api.post_json("/auth/mfa/verify", {"mfa_token": token, "code": totp.now(),
                                                      "passkey": credential}),
                   400, "invalid_field", field="passkey")
    assert_problem(api.post_json("/auth/mfa/verify", {"mfa_token": token,
                                                      "passkey": "not an object"}),
                   400, "invalid_field", field="passkey")
    assert_problem(api.post_json("/auth/mfa/verify", {"mfa_token": token}), 400, "missing_field",
                   field="code")


def test_mfa_passkey_options(api, make_user, make_session, session, second_factor):
    assert_problem(api.post_json("/auth/mfa/passkey/options", {"mfa_token": "unknown"}), 401,
                   "invalid_token")
    # An account with TOTP and no passkey: 404, and `passkey` is not offered.
    other = make_user()
    turn_on_totp(api, make_session(other))
    body = assert_problem(api.login(other.email, other.password), 403, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code"]
    assert_problem(api.post_json("/auth/mfa/passkey/options", {"mfa_token": body["mfa_token"]}),
                   404, "not_found")


# --- behind nginx auth_request ---------------------------------------------------------

def test_passkey_logins_pass_the_second_factor_location(api, session, second_factor, origin,
                                                       auth_request_url):
    """The example's /app-otp/ asks require_amr=otp,hwk,swk: a passkey login,
    alone or as the second step, passes; a password alone does not."""
    import json
    _, device = second_factor
    gate = Api(auth_request_url)
    try:
        body = assert_problem(gate.get("/app-otp/x", token=session.access_token), 403,
                              "mfa_required")
        assert "passkey" in body["methods"]
        alone = assert_json(log_in_with(api, device, origin), 200)
        seen = json.loads(gate.get("/app-otp/x", token=alone["access_token"]).text)
        assert seen["x_auth_amr"] == "hwk,mfa" and seen["x_auth_user_id"] == session.user.id
        token = mfa_token_of(api, session.user)
        second = assert_json(api.post_json("/auth/mfa/verify", {
            "mfa_token": token, "passkey": device.get(mfa_options(api, token), origin)}), 200)
        r = gate.get("/app-otp/x", token=second["access_token"])
        assert r.status_code == 200, r.text
        assert json.loads(r.text)["x_auth_amr"] == "pwd,hwk"
    finally:
        gate.close()


# --- operators ------------------------------------------------------------------------

def test_operator_passkey_reset(api, session, device, origin, authd_bin, operator_env):
    def run(email):
        return subprocess.run([authd_bin, "user", "passkey-reset", email], env=operator_env,
                              capture_output=True, text=True, timeout=30)
    p = run(session.user.email.upper())
    assert p.returncode == 0, p.stderr
    assert "1 passkey(s) removed" in p.stdout
    assert '"event":"passkeys_reset"' in p.stderr
    for secret in SECRETS:
        assert secret not in p.stdout + p.stderr
    assert_problem(log_in_with(api, device, origin), 401, "invalid_credentials")
    assert assert_json(api.me(session.access_token), 200)["passkeys"] == 0
    p = run(unique_email())
    assert p.returncode == 1 and "no account" in p.stderr


# --- metrics ----------------------------------------------------------------------------

@pytest.mark.single_pool
def test_ceremonies_are_counted_by_outcome(api, session, origin):
    def value(name: str, labels: str) -> float:
        text = api.get("/metrics").text
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}} "):
                return float(line.split()[-1])
        raise AssertionError(f"no {name}{{{labels}}} in /metrics")
    ok = 'outcome="ok"'
    failed = 'kind="passwordless",outcome="failed"'
    before = (value("authd_passkey_registrations_total", ok),
              value("authd_passkey_logins_total", 'kind="passwordless",outcome="ok"'),
              value("authd_passkey_logins_total", failed))
    a = SoftAuthenticator()
    assert_json(enrol(api, session, a, origin)[0], 201)
    assert_json(log_in_with(api, a, origin), 200)
    assert_problem(log_in_with(api, a, origin, Spoil(bad_signature=True)), 401,
                   "invalid_credentials")
    after = (value("authd_passkey_registrations_total", ok),
             value("authd_passkey_logins_total", 'kind="passwordless",outcome="ok"'),
             value("authd_passkey_logins_total", failed))
    assert [y - x for x, y in zip(before, after)] == [1, 1, 1]
