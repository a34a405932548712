#!/usr/bin/python3
"""A capturing SMTP server for the mail tests (Debian's python3-aiosmtpd).

    scripts/smtp-capture.py --port PORT --dir DIR [--tls-cert PEM --tls-key PEM]
                            [--auth-user USER --auth-password PASSWORD]
                            [--pidfile FILE] [--daemon [--log FILE]]

Listens on 127.0.0.1:PORT. Each accepted message becomes two files in DIR:
NNN.json (envelope: mail_from, rcpt_tos, tls, auth_user, received_at) and
then NNN.eml (the message as received, dot-unstuffed), both written under
a temporary name and renamed, so a reader that sees the .eml sees both.
With --tls-cert/--tls-key it offers STARTTLS; with --auth-user it requires
AUTH (over TLS only, as a real relay would).

Test controls, read at each DATA (so a running server can be steered):
  DIR/.delay    a number of seconds to wait before accepting a message
  DIR/.refuse   present: answer "451 4.3.0" (a temporary refusal)
--daemon: returns once the port accepts connections (the server keeps
running in the background, in its own session); SIGTERM stops it.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import itertools
import json
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Capture:
    def __init__(self, directory: str):
        self.directory = directory
        self.counter = itertools.count(1)

    def control(self, name: str) -> str | None:
        try:
            with open(os.path.join(self.directory, name), encoding="ascii") as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.directory, name))

    async def handle_DATA(self, server, session, envelope):
        delay = self.control(".delay")
        if delay:
            await asyncio.sleep(float(delay))
        if self.control(".refuse") is not None:
            return "451 4.3.0 Try again later (test refusal)"
        stem = f"{time.time_ns()}-{next(self.counter):06d}"
        auth = session.auth_data
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": session.ssl is not None,
            "auth_user": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "received_at": time.time(),
        }
        self.write(stem + ".json", json.dumps(meta).encode())
        self.write(stem + ".eml", envelope.original_content)
        return "250 2.0.0 Message accepted"


def make_authenticator(user: str, password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, auth_data=auth_data if ok else None)
    return authenticate


def serve(args, ready: threading.Event | None = None) -> None:
    # aiosmtpd itself touches its deprecated Session.login_data at each AUTH.
    logging.getLogger("mail.log").addFilter(
        lambda record: "login_data is deprecated" not in record.getMessage())
    os.makedirs(args.dir, exist_ok=True)
    kwargs = {}
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = ctx
    if args.auth_user:
        kwargs.update(auth_required=True, auth_require_tls=bool(args.tls_cert),
                      authenticator=make_authenticator(args.auth_user, args.auth_password))
    controller = Controller(Capture(args.dir), hostname="127.0.0.1", port=args.port,
                            server_hostname="localhost", **kwargs)
    controller.start()
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(args.pidfile + ".tmp", args.pidfile)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if ready is not None:
        ready.set()
    print(f"smtp-capture: listening on 127.0.0.1:{args.port}, writing to {args.dir}",
          file=sys.stderr, flush=True)
    stop.wait()
    controller.stop()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password")
    p.add_argument("--pidfile")
    p.add_argument("--daemon", action="store_true")
    p.add_argument("--log", help="with --daemon: where its stderr goes [/dev/null]")
    args = p.parse_args()
    if args.auth_user and not args.auth_password:
        p.error("--auth-user needs --auth-password")
    if not args.daemon:
        serve(args)
        return 0
    # Daemon: the child serves; the parent returns once it listens.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        log = os.open(args.log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        ready = threading.Event()
        threading.Thread(target=lambda: (ready.wait(), os.write(write_end, b"ok"),
                                         os.close(write_end)), daemon=True).start()
        try:
            serve(args, ready)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as r:
        if r.read() != b"ok":
            print("smtp-capture: the server did not start", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
