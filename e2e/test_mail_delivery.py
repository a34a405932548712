"""The outbox and `authd mailer` against a real SMTP server on loopback:
an SMTP outage loses nothing, a mailer killed mid-batch loses nothing (and
comes back), the per-account cap, the same answer time for unknown emails,
the message erased once sent. Transport-independent: first pass only."""
import hashlib
import os
import statistics
import subprocess
import time

import pytest

from authd_e2e import Api, remember, unique_email
from mail_capture import MAIL_DIR, RESET_SUBJECT, VERIFY_SUBJECT, mails_to, report, wait_for_mail

pytestmark = [pytest.mark.once]


@pytest.fixture(autouse=True)
def _needs_mail(mail_dir):
    pass


def run(cmd: str) -> None:
    subprocess.run(cmd, shell=True, check=True, timeout=60)


def control(name: str, value: str | None) -> None:
    path = os.path.join(MAIL_DIR, name)
    if value is None:
        if os.path.exists(path):
            os.unlink(path)
    else:
        with open(path, "w", encoding="ascii") as f:
            f.write(value)


def outbox_rows(db, emails: list[str]) -> list[tuple]:
    db.commit()
    with db.cursor() as c:
        marks = ",".join(["%s"] * len(emails))
        c.execute("SELECT u.email, o.state, o.attempts, o.message IS NULL FROM mail_outbox o"
                  f" JOIN users u ON u.id = o.user_id WHERE u.email IN ({marks})",
                  [e.encode() for e in emails])
        return [(row[0].decode(), row[1], row[2], bool(row[3])) for row in c.fetchall()]


def mailer_pid(pid_file: str) -> int:
    with open(pid_file, encoding="ascii") as f:
        return int(f.read().strip())


def test_the_mailer_is_its_own_process_and_says_so(mailer_pid_file):
    pid = mailer_pid(mailer_pid_file)
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    assert b"mailer" in argv, argv


def test_delivery_uses_starttls_and_auth(user):
    [mail] = wait_for_mail(user.email, 1)
    assert mail.envelope["tls"] is True, mail.envelope
    assert mail.envelope["auth_user"] == os.environ.get("E2E_SMTP_USER"), mail.envelope
    remember(os.environ.get("E2E_SMTP_PASSWORD"))  # the scans check no log holds it


def test_a_sent_message_is_erased_from_the_outbox_and_only_a_digest_kept(user, db):
    [mail] = wait_for_mail(user.email, 1, subject=VERIFY_SUBJECT)
    token = mail.token("/verify-email")
    deadline = time.monotonic() + 10
    while outbox_rows(db, [user.email]) != [(user.email, 1, 0, True)]:
        assert time.monotonic() < deadline, outbox_rows(db, [user.email])
        time.sleep(0.1)
    with db.cursor() as c:
        c.execute("SELECT token_hash FROM email_tokens t JOIN users u ON u.id = t.user_id"
                  " WHERE u.email = %s", (user.email.encode(),))
        hashes = [row[0] for row in c.fetchall()]
    assert hashes == [hashlib.sha256(token.encode()).digest()], "only the SHA-256 is stored"


def test_smtp_outage_loses_nothing(make_user, db, smtp_control):
    stop, start = smtp_control
    run(stop)
    try:
        users = [make_user() for _ in range(3)]
        emails = [u.email for u in users]
        # The mailer tries, fails, and keeps the messages pending.
        deadline = time.monotonic() + 20
        while True:
            rows = outbox_rows(db, emails)
            if len(rows) == 3 and all(state == 0 and attempts >= 1 for _, state, attempts, _ in rows):
                break
            assert time.monotonic() < deadline, f"no failed attempt recorded: {rows}"
            time.sleep(0.2)
        time.sleep(1)  # another failed attempt or two, backing off
        for e in emails:
            assert mails_to(e) == []
    finally:
        run(start)
    back = time.monotonic()
    for e in emails:
        wait_for_mail(e, 1, timeout=75)  # the backoff is capped at 60 s
    took = time.monotonic() - back
    rows = outbox_rows(db, emails)
    report(f"SMTP outage: 3 messages queued while it was away, all delivered "
          f"{took:.1f} s after it came back; attempts per message: {[r[2] for r in rows]}")
    for e in emails:
        assert len(mails_to(e)) == 1, f"{e}: delivered more than once"
    assert all(state == 1 and erased for _, state, _, erased in rows), rows


def test_a_temporary_refusal_is_retried(make_user, db):
    control(".refuse", "1")
    try:
        u = make_user()
        deadline = time.monotonic() + 20
        while not any(attempts >= 1 for _, _, attempts, _ in outbox_rows(db, [u.email])):
            assert time.monotonic() < deadline, outbox_rows(db, [u.email])
            time.sleep(0.2)
    finally:
        control(".refuse", None)
    wait_for_mail(u.email, 1, timeout=75)
    assert outbox_rows(db, [u.email])[0][1] == 1


def test_a_mailer_killed_mid_batch_loses_nothing_and_comes_back(api, db, mailer_pid_file):
    control(".delay", "0.4")  # each message takes 0.4 s: the batch is still going when killed
    emails = [unique_email("batch") for _ in range(6)]
    try:
        for e in emails:
            from authd_e2e import strong_password
            assert api.register(e, strong_password()).status_code == 201
        deadline = time.monotonic() + 20
        while sum(1 for e in emails if mails_to(e)) < 2:
            assert time.monotonic() < deadline, "the batch did not start"
            time.sleep(0.05)
        victim = mailer_pid(mailer_pid_file)
        os.kill(victim, 9)
        killed_at = time.monotonic()
        delivered_before = sum(1 for e in emails if mails_to(e))
    finally:
        control(".delay", None)
    # Restarted by what started it, within 5 s.
    while True:
        try:
            pid = mailer_pid(mailer_pid_file)
        except (FileNotFoundError, ValueError):
            pid = victim
        if pid != victim and os.path.exists(f"/proc/{pid}"):
            break
        assert time.monotonic() - killed_at < 5, "the mailer was not restarted within 5 s"
        time.sleep(0.05)
    restarted_in = time.monotonic() - killed_at
    # The message in flight at the kill is leased for 30 s (mail::kSendLeaseS:
    # its claim committed before the send, so no other mailer takes it sooner).
    for e in emails:
        wait_for_mail(e, 1, timeout=45)
    counts = [len(mails_to(e)) for e in emails]
    rows = outbox_rows(db, emails)
    report(f"mailer killed (SIGKILL) after {delivered_before} of 6 messages; restarted in "
          f"{restarted_in:.1f} s; deliveries per recipient: {counts} "
          f"(at least once; a message in flight at the kill may come twice)")
    assert all(c >= 1 for c in counts)
    assert sum(counts) <= len(emails) + 1, "only the message in flight may be sent twice"
    deadline = time.monotonic() + 10
    while not all(state == 1 and erased for _, state, _, erased in rows):
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)
        rows = outbox_rows(db, emails)


def test_resend_and_forgot_are_capped_per_account_per_hour(api, user, db):
    cap = int(os.environ.get("E2E_MAIL_CAP_PER_HOUR", "5"))
    wait_for_mail(user.email, 1, subject=VERIFY_SUBJECT)  # the registration's: not counted

    def pending_requests() -> int:
        db.commit()
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM mail_requests WHERE email = %s", (user.email.encode(),))
            return c.fetchone()[0]

    def until(done, what):
        deadline = time.monotonic() + 30
        while not done():
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    # One at a time: a request still pending takes no repeat (one per kind
    # and address), so each is sent once the mailer has taken the previous.
    for i in range(cap + 3):
        r = api.resend(user.email) if i % 2 else api.forgot(user.email)
        assert r.status_code == 202, r.text
        until(lambda: pending_requests() == 0, f"request {i} still pending")
    rows = []

    def all_finished():
        nonlocal rows
        rows = outbox_rows(db, [user.email])
        return all(state != 0 for _, state, _, _ in rows)

    until(all_finished, rows)
    mails = mails_to(user.email)
    report(f"mail cap: {cap + 3} resend/forgot requests -> {len(mails) - 1} messages "
          f"(cap {cap}), plus the registration's")
    assert len(rows) == cap + 1, rows
    assert len(mails) == cap + 1, [m.msg["Subject"] for m in mails]
    assert any(m.msg["Subject"] == RESET_SUBJECT for m in mails)


def test_forgot_and_resend_take_the_same_time_whether_the_account_exists(make_user):
    """Both only queue a request (one INSERT); the mailer decides later. Each
    side repeats one address, since a request still pending for an address
    takes no second row whether or not it has an account."""
    known = make_user()
    rounds = 40
    a = Api()
    try:
        for path in ("/auth/password/forgot", "/auth/email/resend"):
            timings = {"known": [], "unknown": []}
            nobody = unique_email("nobody")
            for i in range(rounds + 5):
                for kind in ("known", "unknown") if i % 2 else ("unknown", "known"):
                    email = known.email if kind == "known" else nobody
                    t0 = time.perf_counter()
                    r = a.post_json(path, {"email": email})
                    elapsed = time.perf_counter() - t0
                    assert r.status_code == 202 and r.json() == {"status": "accepted"}, r.text
                    if i >= 5:  # warm-up
                        timings[kind].append(elapsed)
            mk = statistics.median(timings["known"]) * 1000
            mu = statistics.median(timings["unknown"]) * 1000
            report(f"{path}: median {mk:.2f} ms for an existing account, {mu:.2f} ms for an "
                  f"unknown email ({rounds} each, interleaved)")
            assert abs(mk - mu) <= max(2.0, 0.3 * max(mk, mu)), (mk, mu)
    finally:
        a.close()
