"""Email verification: registration queues a message whose link's token
verifies the address; resend; the shape of the messages (MIME parts,
Date, From, the link with the token only in the fragment)."""
import email.utils
import re
import time

import pytest

from authd_e2e import assert_json, assert_problem, assert_timestamp, assert_token_answer, \
    unique_email
from mail_capture import PUBLIC_BASE_URL, VERIFY_SUBJECT, verification_token, wait_for_mail


@pytest.fixture(autouse=True)
def _needs_mail(mail_dir):
    pass


def test_registration_emails_a_link_whose_token_verifies(api, user, make_session):
    before = make_session(user)
    assert before.body["user"]["email_verified_at"] is None
    assert api.me(before.access_token).json()["email_verified_at"] is None

    token = verification_token(user.email)
    r = api.verify_email(token)
    body = assert_json(r, 200)
    assert body["id"] == user.id and body["email"] == user.email, body
    assert_timestamp(body["email_verified_at"])

    me = assert_json(api.me(before.access_token), 200)
    assert me["email_verified_at"] == body["email_verified_at"]
    after = api.login(user.email, user.password)
    assert_token_answer(after, user.email, verified=True)
    assert after.json()["user"]["email_verified_at"] == body["email_verified_at"]


@pytest.mark.once
def test_the_message_is_multipart_with_date_from_and_the_link_in_the_fragment(user):
    [mail] = wait_for_mail(user.email, 1, subject=VERIFY_SUBJECT)
    msg = mail.msg
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"], parts
    assert msg["From"] == "authd e2e <noreply@authd.test>", msg["From"]
    assert msg["To"] == user.email
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@authd.test>")
    sent = email.utils.parsedate_to_datetime(msg["Date"])
    assert sent.utcoffset() is not None, msg["Date"]
    assert abs(sent.timestamp() - time.time()) < 300, msg["Date"]
    assert mail.envelope["mail_from"] == "noreply@authd.test", mail.envelope
    assert mail.envelope["rcpt_tos"] == [user.email], mail.envelope

    link = mail.link("/verify-email")
    assert link.startswith(PUBLIC_BASE_URL + "/verify-email#token="), link
    token = link.split("#token=", 1)[1]
    assert len(token) >= 22  # >= 128 bits of base64url
    # The same link in the HTML part, as an href (HTML-escaped: nothing to escape).
    assert f'href="{link}"' in mail.html, mail.html
    # The token appears only after a '#': never in a path or a query string.
    raw = mail.raw.decode("ascii")
    assert raw.count(token) == 3, "once in the text part, twice in the HTML part"
    for m in re.finditer(re.escape(token), raw):
        assert raw[m.start() - len("#token="):m.start()] == "#token=", raw[m.start() - 40:m.end()]
    assert "?token" not in raw


@pytest.mark.once
def test_a_token_verifies_once(api, user):
    token = verification_token(user.email)
    assert_json(api.verify_email(token), 200)
    assert_problem(api.verify_email(token), 401, "invalid_token")


@pytest.mark.once
def test_resend_supersedes_the_older_link(api, user):
    first = verification_token(user.email, 1)
    r = api.resend(user.email)
    assert r.status_code == 202, r.text
    second = verification_token(user.email, 2)
    assert second != first
    assert_problem(api.verify_email(first), 401, "invalid_token")
    assert_json(api.verify_email(second), 200)


@pytest.mark.once
def test_resend_normalises_the_email_like_login(api, user):
    verification_token(user.email, 1)
    assert api.resend("  " + user.email.upper() + " ").status_code == 202
    verification_token(user.email, 2)


@pytest.mark.once
def test_nothing_is_sent_to_a_verified_account(api, user, db):
    assert_json(api.verify_email(verification_token(user.email)), 200)
    assert api.resend(user.email).status_code == 202
    wait_until_requests_handled(db, user.email)
    with db.cursor() as c:
        c.execute("SELECT COUNT(*) FROM mail_outbox o JOIN users u ON u.id = o.user_id"
                  " WHERE u.email = %s", (user.email.encode(),))
        assert c.fetchone()[0] == 1, "only the registration's message"


def wait_until_requests_handled(db, email_address: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        db.commit()  # a fresh snapshot
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM mail_requests WHERE email = %s",
                      (email_address.encode(),))
            if c.fetchone()[0] == 0:
                return
        assert time.monotonic() < deadline, f"the mailer left requests of {email_address} queued"
        time.sleep(0.1)


@pytest.mark.parametrize("path", ["/auth/email/resend", "/auth/password/forgot"])
@pytest.mark.parametrize("value", [
    "nobody-{r}@example.com", "not an email {r}", "x" * 300, "", "  ", "\u00e9{r}@example.com"])
def test_resend_and_forgot_answer_202_whatever_the_email(api, path, value):
    email_value = value.format(r=unique_email())
    r = api.post_json(path, {"email": email_value})
    body = assert_json(r, 202)
    assert body == {"status": "accepted"}, body


@pytest.mark.parametrize("path", ["/auth/email/resend", "/auth/password/forgot"])
def test_resend_and_forgot_bodies_are_judged(api, path):
    assert_problem(api.post_json(path, {}), 400, "missing_field", field="email")
    assert_problem(api.post_json(path, {"email": 7}), 400, "invalid_field", field="email")
    assert_problem(api.post_json(path, {"email": None}), 400, "invalid_field", field="email")
    assert_problem(api.post_raw(path, b'{"email": "a@b.c"}', content_type=None), 415,
                   "unsupported_media_type")
    assert_problem(api.post_raw(path, b'{"email": '), 400, "invalid_json")
    assert_problem(api.get(path), 405, "method_not_allowed")


def test_verify_judges_the_body_then_the_token(api):
    path = "/auth/email/verify"
    assert_problem(api.post_json(path, {}), 400, "missing_field", field="token")
    assert_problem(api.post_json(path, {"token": 12}), 400, "invalid_field", field="token")
    for bad in ["", "x", "A" * 43, "A" * 44, "../../etc", "\u00e9" * 43]:
        assert_problem(api.verify_email(bad), 401, "invalid_token")
    assert_problem(api.get(path), 405, "method_not_allowed")
