"""Passkeys in a real browser: headless Debian Chromium over the DevTools
protocol (cdp.py) with the WebAuthn domain's virtual authenticator (CTAP2.1,
internal transport, resident keys, user verification). The example page
/examples/passkeys.html registers a passkey and logs in with it under its
strict Content-Security-Policy; EdDSA, ES256 and RS256 are each offered
alone and used end to end (python3-fido2 verifying what the server
accepted); the authenticator's own knobs make a bogus signature, UV or UP
unset, BS without BE and a counter that went back; its exported private key
forges what the browser will not send. Browsers allow WebAuthn over plain
HTTP on localhost only: the page is opened at http://localhost:PORT (the
first of E2E_WEBAUTHN_ORIGINS). A browser that cannot start fails the test;
it is never skipped."""
import base64
import json
import os

import pytest

from authd_e2e import assert_json, assert_problem, remember, strong_password, unique_email
from cdp import Browser
from passkeys_e2e import (login_options, options_for, passkey_login, register, relying_party,
                          turn_on_totp)
from webauthn_forge import SoftAuthenticator, Spoil, cross_check_assertion, \
    cross_check_registration, unb64u

ARTIFACTS = os.environ.get("E2E_ARTIFACT_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "build", "e2e")

CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI);
});
"""


def js(value) -> str:
    return json.dumps(value)


class Chromium:
    """One page on the example's origin, one virtual authenticator at a time."""

    def __init__(self, browser: Browser, origin: str):
        self.page = browser.page()
        self.origin = origin
        self.page.call("Page.addScriptToEvaluateOnNewDocument", source=CSP_RECORDER)
        self.page.call("WebAuthn.enable")
        self.authenticator = None

    def open_example(self) -> None:
        self.page.navigate(self.origin + "/examples/passkeys.html")
        self.page.wait_for("document.readyState === 'complete' && !!document.getElementById('status')",
                           what="the example page")

    def fresh_authenticator(self, synced: bool = False) -> str:
        if self.authenticator:
            self.page.call("WebAuthn.removeVirtualAuthenticator", authenticatorId=self.authenticator)
        options = dict(protocol="ctap2", ctap2Version="ctap2_1", transport="internal",
                       hasResidentKey=True, hasUserVerification=True, isUserVerified=True,
                       automaticPresenceSimulation=True)
        if synced:
            options.update(defaultBackupEligibility=True, defaultBackupState=True)
        self.authenticator = self.page.call("WebAuthn.addVirtualAuthenticator",
                                            options=options)["authenticatorId"]
        return self.authenticator

    def create(self, public_key: dict):
        """navigator.credentials.create() with the server's options: toJSON(), or the error."""
        return self.page.evaluate(f"""(async () => {{
          try {{
            const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON({js(public_key)});
            return (await navigator.credentials.create({{publicKey}})).toJSON();
          }} catch (e) {{ return 'error: ' + e.name; }}
        }})()""")

    def get(self, public_key: dict):
        return self.page.evaluate(f"""(async () => {{
          try {{
            const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON({js(public_key)});
            return (await navigator.credentials.get({{publicKey}})).toJSON();
          }} catch (e) {{ return 'error: ' + e.name; }}
        }})()""")

    def credentials(self) -> list[dict]:
        return self.page.call("WebAuthn.getCredentials",
                              authenticatorId=self.authenticator)["credentials"]

    def override(self, **bits) -> None:
        self.page.call("WebAuthn.setResponseOverrideBits", authenticatorId=self.authenticator,
                       **bits)


@pytest.fixture(scope="module")
def chromium():
    _, origin = relying_party()
    with Browser.launch() as browser:
        c = Chromium(browser, origin)
        c.open_example()
        yield c
        violations = c.page.evaluate("window.__cspViolations")
        problems = [p for p in c.page.problems()
                    # A refused ceremony or API call is logged by the page's own fetch.
                    if "Failed to load resource" not in p]
    assert violations == [], f"Content-Security-Policy violations: {violations}"
    assert problems == [], f"browser errors: {problems}"


@pytest.fixture
def browser(chromium):
    chromium.fresh_authenticator()
    return chromium


def test_the_example_page_registers_a_passkey_and_logs_in_with_it(chromium, api):
    os.makedirs(ARTIFACTS, exist_ok=True)
    c = chromium
    c.fresh_authenticator()
    c.open_example()
    email, password = unique_email("page"), strong_password()
    remember(password)
    page = c.page

    def click_and_wait(button: str, condition: str, what: str):
        page.evaluate(f"document.getElementById({js(button)}).click()")
        page.wait_for(condition, timeout=20, what=what)

    page.evaluate(f"document.getElementById('email').value = {js(email)};"
                  f"document.getElementById('password').value = {js(password)}; true")
    status = "document.getElementById('status').textContent"
    click_and_wait("register", f"{status}.includes('Account created')", "the account")
    click_and_wait("login", "document.getElementById('session').dataset.amr === 'pwd'",
                   "the password login")
    page.evaluate("document.getElementById('passkey-name').value = 'Headless Chromium'; true")
    click_and_wait("add-passkey", f"{status}.includes('added')", "the passkey to be added")
    assert page.evaluate("document.getElementById('passkeys').dataset.count") == "1"
    click_and_wait("logout", f"{status}.includes('Logged out')", "the logout")
    click_and_wait("passkey-login", "document.getElementById('session').dataset.amr === 'hwk,mfa'",
                   "the passkey login")
    assert page.evaluate("document.getElementById('session').dataset.email") == email
    assert "error" not in page.evaluate("document.getElementById('status').className")
    shot = os.path.join(ARTIFACTS, "passkeys-example.png")
    assert page.screenshot(shot) > 10_000
    print(f"example page screenshot: {shot}")
    # What the server holds for it.
    token = assert_json(api.login(email, password), 200)["access_token"]
    listed = assert_json(api.get("/auth/passkeys", token=token), 200)["passkeys"]
    assert [p["name"] for p in listed] == ["Headless Chromium"]
    assert listed[0]["transports"] == ["internal"] and listed[0]["last_used_at"]


@pytest.mark.parametrize("alg,cose", [("EdDSA", -8), ("ES256", -7), ("RS256", -257)])
def test_each_algorithm_offered_alone_is_registered_and_used(browser, api, session, alg, cose):
    rp_id, origin = relying_party()
    options = options_for(api, session)
    # The virtual authenticator takes the first algorithm offered: offer one.
    options["pubKeyCredParams"] = [{"type": "public-key", "alg": cose}]
    credential = browser.create(options)
    assert isinstance(credential, dict), credential
    assert credential["response"]["publicKeyAlgorithm"] == cose
    assert_json(register(api, session.access_token, credential, name=alg), 201)
    registered = cross_check_registration(credential, options["challenge"], rp_id, origin)

    request = login_options(api)
    assertion = browser.get(request)
    assert isinstance(assertion, dict), assertion
    body = assert_json(passkey_login(api, assertion), 200)
    cross_check_assertion(assertion, request["challenge"], rp_id, origin, registered)
    claims = json.loads(unb64u(body["access_token"].split(".")[1]))
    assert claims["amr"] == ["hwk", "mfa"] and claims["sub"] == session.user.id


def test_an_algorithm_not_offered_by_the_server_is_not_made(browser, api, session):
    options = options_for(api, session)
    options["pubKeyCredParams"] = [{"type": "public-key", "alg": -35}]  # ES384
    assert browser.create(options) == "error: NotAllowedError"


def registered_in(browser, api, session) -> dict:
    credential = browser.create(options_for(api, session))
    assert isinstance(credential, dict), credential
    assert_json(register(api, session.access_token, credential), 201)
    return credential


@pytest.mark.parametrize("bit", ["isBogusSignature", "isBadUV", "isBadUP"])
def test_the_authenticators_spoiled_responses_are_refused(browser, api, session, bit):
    registered_in(browser, api, session)
    browser.override(**{bit: True})
    try:
        assertion = browser.get(login_options(api))
    finally:
        browser.override(isBogusSignature=False, isBadUV=False, isBadUP=False)
    assert isinstance(assertion, dict), assertion
    assert_problem(passkey_login(api, assertion), 401, "invalid_credentials")
    assert_json(passkey_login(api, browser.get(login_options(api))), 200)


def test_backed_up_without_eligibility_is_refused(browser, api, session):
    credential = registered_in(browser, api, session)
    browser.page.call("WebAuthn.setCredentialProperties", authenticatorId=browser.authenticator,
                      credentialId=base64.b64encode(unb64u(credential["rawId"])).decode(),
                      backupEligibility=False, backupState=True)
    assertion = browser.get(login_options(api))
    assert isinstance(assertion, dict), assertion
    flags = unb64u(assertion["response"]["authenticatorData"])[32]
    assert flags & 0x10 and not flags & 0x08, "BS without BE, as asked"
    assert_problem(passkey_login(api, assertion), 401, "invalid_credentials")


def test_a_synced_passkey_from_the_browser_logs_in_as_swk(chromium, api, session):
    chromium.fresh_authenticator(synced=True)
    registered_in(chromium, api, session)
    body = assert_json(passkey_login(api, chromium.get(login_options(api))), 200)
    claims = json.loads(unb64u(body["access_token"].split(".")[1]))
    assert claims["amr"] == ["swk", "mfa"]


def test_a_counter_that_went_back_is_refused_for_a_device_bound_passkey(browser, api, session):
    registered_in(browser, api, session)
    assert_json(passkey_login(api, browser.get(login_options(api))), 200)
    assert_json(passkey_login(api, browser.get(login_options(api))), 200)
    (stored,) = browser.credentials()
    assert stored["signCount"] >= 2
    # The same key put back with a lower counter: a clone.
    browser.page.call("WebAuthn.removeCredential", authenticatorId=browser.authenticator,
                      credentialId=stored["credentialId"])
    clone = {k: stored[k] for k in ("credentialId", "isResidentCredential", "rpId", "privateKey",
                                    "userHandle")}
    clone["signCount"] = 0
    browser.page.call("WebAuthn.addCredential", authenticatorId=browser.authenticator,
                      credential=clone)
    assertion = browser.get(login_options(api))
    assert isinstance(assertion, dict), assertion
    assert_problem(passkey_login(api, assertion), 401, "invalid_credentials")


def test_the_exported_key_forges_what_the_browser_will_not_send(browser, api, session):
    """WebAuthn.getCredentials hands out the private key: signed with it, a
    crossOrigin assertion and one of another origin are refused, while an
    honest one made outside the browser is accepted (the key is the one the
    browser registered)."""
    rp_id, origin = relying_party()
    registered_in(browser, api, session)
    (stored,) = browser.credentials()
    forged = SoftAuthenticator.from_pkcs8(stored["privateKey"],
                                          base64.b64decode(stored["credentialId"]), rp_id,
                                          stored["signCount"])
    forged.user_handle = base64.b64decode(stored["userHandle"])
    for spoil in (Spoil(cross_origin=True), Spoil(top_origin="https://evil.example"),
                  Spoil(origin=origin.replace("localhost", "127.0.0.1")),
                  Spoil(trailing=b"\x00")):
        assert_problem(passkey_login(api, forged.get(login_options(api), origin, spoil)), 401,
                       "invalid_credentials")
    assert_json(passkey_login(api, forged.get(login_options(api), origin)), 200)


def test_a_passkey_from_the_browser_completes_a_password_login(browser, api, session):
    registered_in(browser, api, session)
    turn_on_totp(api, session)
    challenge = assert_problem(api.login(session.user.email, session.user.password), 403,
                               "mfa_required")
    assert "passkey" in challenge["methods"]
    options = assert_json(api.post_json("/auth/mfa/passkey/options",
                                        {"mfa_token": challenge["mfa_token"]}), 200)["publicKey"]
    assertion = browser.get(options)
    assert isinstance(assertion, dict), assertion
    body = assert_json(api.post_json("/auth/mfa/verify", {"mfa_token": challenge["mfa_token"],
                                                          "passkey": assertion}), 200)
    claims = json.loads(unb64u(body["access_token"].split(".")[1]))
    assert claims["amr"] == ["pwd", "hwk"]
