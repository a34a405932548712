"""/docs in a real browser (headless Debian Chromium over the DevTools
protocol, e2e/cdp.py): Swagger UI renders under the page's strict
Content-Security-Policy with no error and no CSP violation, lists every
operation of the document, expands one, and "Try it out" registers and logs
in a user against this same server. Screenshots go to E2E_ARTIFACT_DIR
(the e2e stack: $BUILD_DIR/e2e/). A browser that cannot start fails the
test with the reason; it is never skipped."""
import json
import os
import time

import pytest

from authd_e2e import BASE_URL, remember, strong_password, unique_email
from cdp import Browser
from openapi_check import CONTRACT

ARTIFACTS = os.environ.get("E2E_ARTIFACT_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "build", "e2e")

# Records every CSP violation, from before the page's own scripts run
# (injected by DevTools, so the CSP does not apply to it).
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI +
                              ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def js(value) -> str:
    return json.dumps(value)


def set_request_body(page, op_id: str, body: dict) -> None:
    """Types a JSON body into an operation's editor the way React notices."""
    page.evaluate(f"""(() => {{
      const ta = document.querySelector('#{op_id} textarea.body-param__text');
      const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
      set.call(ta, {js(json.dumps(body, indent=2))});
      ta.dispatchEvent(new Event('input', {{bubbles: true}}));
      return true;
    }})()""")


def open_operation(page, op_id: str) -> None:
    page.evaluate(f"document.querySelector('#{op_id} .opblock-summary-control').click()")
    page.wait_for(f"!!document.querySelector('#{op_id}.is-open .opblock-body')",
                  what=f"{op_id} to expand")


def try_it_out(page, op_id: str, body: dict | None = None) -> tuple[str, str]:
    """Try it out → (optionally a body) → Execute: the live status and body."""
    # The button is rendered a moment after the operation opens.
    page.wait_for(f"!!document.querySelector('#{op_id} .try-out__btn')",
                  what=f"{op_id}: the Try it out button")
    page.evaluate(f"document.querySelector('#{op_id} .try-out__btn').click()")
    page.wait_for(f"!!document.querySelector('#{op_id} .execute')", what=f"{op_id}: Execute")
    if body is not None:
        page.wait_for(f"!!document.querySelector('#{op_id} textarea.body-param__text')",
                      what=f"{op_id}: the body editor")
        set_request_body(page, op_id, body)
    page.evaluate(f"document.querySelector('#{op_id} .execute').click()")
    status = page.wait_for(
        f"(document.querySelector('#{op_id} .live-responses-table tbody .response-col_status') || "
        f"{{}}).textContent", what=f"{op_id}: the live response")
    text = page.evaluate(
        f"(document.querySelector('#{op_id} .live-responses-table tbody .response-col_description') "
        f"|| {{}}).textContent || ''")
    return status.strip(), text


def test_swagger_ui_renders_lists_everything_and_tries_it_out():
    os.makedirs(ARTIFACTS, exist_ok=True)
    expected = {(m, t) for m, t, _ in CONTRACT.operations()}
    started = time.monotonic()
    with Browser.launch() as browser:
        page = browser.page()
        page.call("Page.addScriptToEvaluateOnNewDocument", source=CSP_RECORDER)
        page.navigate(BASE_URL + "/docs")
        page.wait_for(f"document.querySelectorAll('.opblock').length >= {len(expected)}",
                      timeout=45, what=f"Swagger UI to render {len(expected)} operations")
        rendered_after = time.monotonic() - started

        title = page.evaluate("(document.querySelector('.info .title') || {}).textContent")
        assert title and title.startswith("authd"), title
        listed = page.evaluate("""[...document.querySelectorAll('.opblock')].map(b => [
            b.querySelector('.opblock-summary-method').textContent.trim(),
            b.querySelector('.opblock-summary-path').getAttribute('data-path')])""")
        listed = {(m.upper(), p) for m, p in listed}
        assert listed == expected, (f"missing: {sorted(expected - listed)}, "
                                    f"unexpected: {sorted(listed - expected)}")
        shot = os.path.join(ARTIFACTS, "docs.png")
        size = page.screenshot(shot)

        # One operation expands and runs against this server.
        open_operation(page, "operations-Operations-health")
        status, text = try_it_out(page, "operations-Operations-health")
        assert status == "200", (status, text)
        assert '"status": "ok"' in text, text

        # A login from the page, as a new user would try it.
        email, password = unique_email("docs"), strong_password()
        remember(password)
        open_operation(page, "operations-Accounts-register")
        status, text = try_it_out(page, "operations-Accounts-register",
                                  {"email": email, "password": password})
        assert status == "201", (status, text[:500])
        assert email in text
        open_operation(page, "operations-Accounts-login")
        status, text = try_it_out(page, "operations-Accounts-login",
                                  {"email": email, "password": password})
        assert status == "200", (status, text[:500])
        assert '"access_token"' in text and '"token_type": "Bearer"' in text, text[:500]
        page.evaluate("document.querySelector('#operations-Accounts-login "
                      ".live-responses-table').scrollIntoView()")
        login_shot = os.path.join(ARTIFACTS, "docs-login.png")
        page.screenshot(login_shot)

        violations = page.evaluate("window.__cspViolations")
        problems = page.problems()
    print(f"Swagger UI rendered {len(listed)} operations {rendered_after:.1f} s after the "
          f"browser started; screenshots {shot} ({size} bytes) and {login_shot}")
    assert violations == [], f"Content-Security-Policy violations: {violations}"
    assert problems == [], f"browser errors: {problems}"
    if size < 20_000:
        pytest.fail(f"the screenshot is suspiciously small ({size} bytes): {shot}")
