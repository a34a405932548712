"""The messages the stack's capturing SMTP server received (E2E_MAIL_DIR,
written by scripts/smtp-capture.py: NNN.eml plus NNN.json with the
envelope), parsed as MIME, and the links in them."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import os
import re
import time
from email.message import EmailMessage

from authd_e2e import remember

MAIL_DIR = os.environ.get("E2E_MAIL_DIR", "")
PUBLIC_BASE_URL = os.environ.get("E2E_PUBLIC_BASE_URL", "")
TOKEN_RE = r"[A-Za-z0-9_-]{43}"


@dataclasses.dataclass
class Mail:
    path: str
    raw: bytes
    envelope: dict
    msg: EmailMessage

    @property
    def recipient(self) -> str:
        return self.envelope["rcpt_tos"][0]

    @property
    def text(self) -> str:
        return self.msg.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.msg.get_body(preferencelist=("html",)).get_content()

    def link(self, path: str) -> str:
        """The one link to PUBLIC_BASE_URL + path in the plain-text part."""
        found = re.findall(re.escape(PUBLIC_BASE_URL + path) + "#token=" + TOKEN_RE, self.text)
        assert len(set(found)) == 1, f"want one {path} link in the text part, got {found}"
        return found[0]

    def token(self, path: str) -> str:
        t = self.link(path).rsplit("#token=", 1)[1]
        remember(t)
        return t


PYTEST_CONFIG = None  # set by conftest.py's pytest_configure


def report(line: str) -> None:
    """A measurement, shown in the run's output even when the test passes
    (pytest captures the output of passing tests)."""
    capture = PYTEST_CONFIG.pluginmanager.getplugin("capturemanager") if PYTEST_CONFIG else None
    if capture is None:
        print(f"measured: {line}")
        return
    with capture.global_and_fixture_disabled():
        print(f"\n    measured: {line}", flush=True)


def read_all() -> list[Mail]:
    out = []
    for name in sorted(os.listdir(MAIL_DIR)):
        if not name.endswith(".eml"):
            continue
        path = os.path.join(MAIL_DIR, name)
        with open(path, "rb") as f:
            raw = f.read()
        with open(path[:-4] + ".json", encoding="utf-8") as f:
            envelope = json.load(f)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        out.append(Mail(path, raw, envelope, msg))
    return out


def mails_to(address: str) -> list[Mail]:
    return [m for m in read_all() if address in m.envelope["rcpt_tos"]]


def wait_for_mail(address: str, count: int = 1, timeout: float = 20.0,
                  subject: str | None = None) -> list[Mail]:
    """Waits until `address` has received at least `count` messages (with
    that subject, if given); returns them, oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        got = [m for m in mails_to(address) if subject is None or m.msg["Subject"] == subject]
        if len(got) >= count:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{address}: {len(got)} message(s) after {timeout} s, "
                                 f"want {count} (subject {subject!r})")
        time.sleep(0.1)


VERIFY_SUBJECT = "Verify your email address"
RESET_SUBJECT = "Reset your password"


def verification_token(address: str, nth: int = 1, timeout: float = 20.0) -> str:
    return wait_for_mail(address, nth, timeout, VERIFY_SUBJECT)[nth - 1].token("/verify-email")


def reset_token(address: str, nth: int = 1, timeout: float = 20.0) -> str:
    return wait_for_mail(address, nth, timeout, RESET_SUBJECT)[nth - 1].token("/reset-password")
