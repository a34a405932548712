"""After the other tests: no cleartext password or token in any table, and
no secret in any log line (the stack runs the worker at LOGLEVEL=DEBUG).

Each test also runs its own register / login / change / failed-login flow,
so it is meaningful when run alone; then it looks for every secret the
whole session used (authd_e2e.SECRETS)."""
import json
import os
import secrets
import time
import unicodedata

import pytest

from authd_e2e import SECRETS, Api, remember, strong_password, unique_email

pytestmark = pytest.mark.late(2)


def own_flow() -> dict:
    """Register, log in, fail a login, change the password, use the token."""
    a = Api()
    try:
        email = unique_email("scan")
        pw1 = "Sc\u00e4n-" + strong_password()  # non-ASCII: escaped forms are checked too
        pw2 = strong_password()
        wrong = strong_password()
        rid = "scan-" + secrets.token_hex(8)
        assert a.register(email, pw1, headers={"X-Request-ID": rid}).status_code == 201
        r1 = a.login(email, pw1)
        assert r1.status_code == 200, r1.text
        assert a.login(email, wrong).status_code == 401
        r2 = a.change_password(email, pw1, pw2)
        assert r2.status_code == 200, r2.text
        assert a.me(r2.json()["access_token"]).status_code == 200
        assert a.me(r1.json()["access_token"]).status_code == 401
        remember(pw1, pw2, wrong)
        return {"email": email, "passwords": [pw1, pw2, wrong], "request_id": rid,
                "tokens": [r1.json()["access_token"], r1.json()["refresh_token"],
                           r2.json()["access_token"], r2.json()["refresh_token"]]}
    finally:
        a.close()


def needles(values) -> dict[bytes, str]:
    """Every byte form a secret could take in a file: raw UTF-8, NFKC/NFD,
    JSON-escaped."""
    out = {}
    for v in values:
        forms = {v, unicodedata.normalize("NFKC", v), unicodedata.normalize("NFD", v)}
        for f in list(forms):
            forms.add(json.dumps(f)[1:-1])  # \\u00e4 escapes
        for f in forms:
            out[f.encode("utf-8")] = v
    return out


# --- database --------------------------------------------------------------------------

def test_no_cleartext_password_or_token_in_any_table(db):
    flow = own_flow()
    search = needles(SECRETS | set(flow["passwords"]) | set(flow["tokens"]))
    with db.cursor() as c:
        c.execute("SHOW TABLES")
        tables = [row[0] for row in c.fetchall()]
        assert "users" in tables and "sessions" in tables, tables
        cells = 0
        for t in tables:
            c.execute(f"SELECT * FROM `{t}`")
            for row in c.fetchall():
                for cell in row:
                    if cell is None:
                        continue
                    data = cell if isinstance(cell, bytes) else str(cell).encode("utf-8")
                    cells += 1
                    for needle, secret in search.items():
                        assert needle not in data, \
                            f"table {t} holds a secret in clear: {secret[:6]}…"
        assert cells > 0
        # The one row of our flow: a normalised email and an Argon2id PHC string.
        c.execute("SELECT password_hash FROM users WHERE email = %s", (flow["email"].encode(),))
        rows = c.fetchall()
        assert len(rows) == 1, rows
        assert bytes(rows[0][0]).startswith(b"$argon2id$"), "password_hash is not Argon2id"


# --- logs ------------------------------------------------------------------------------

def test_no_secret_in_the_logs(log_files):
    flow = own_flow()
    time.sleep(0.5)  # let the processes write their lines
    values = set(SECRETS) | set(flow["passwords"]) | set(flow["tokens"])
    for name in ("E2E_SECRET_KEY", "E2E_MFA_ENCRYPTION_KEY", "E2E_MYSQL_PASSWORD",
                 "E2E_MYSQL_MIGRATE_PASSWORD"):
        if os.environ.get(name):
            values.add(os.environ[name])
    search = needles(values)
    search[b"$argon2id$"] = "a password hash"
    contents = {f: open(f, "rb").read() for f in log_files}
    # The logs are the right ones and being written: our request is in them.
    rid = flow["request_id"].encode()
    assert any(rid in data for data in contents.values()), \
        f"request id {flow['request_id']} is in none of {log_files}"
    for f, data in contents.items():
        for needle, secret in search.items():
            assert needle not in data, f"{f} holds a secret: {secret[:6]}…"


def test_request_id_is_in_the_worker_and_nginx_log_lines(log_files):
    """The request id appears in the worker's lines about that request, and
    in nginx's access log line."""
    a = Api()
    rid = "trace-" + secrets.token_hex(8)
    try:
        assert a.login(unique_email(), strong_password(),
                       headers={"X-Request-ID": rid}).status_code == 401
    finally:
        a.close()
    time.sleep(0.5)
    found = []
    for f in log_files:
        for line in open(f, "rb").read().splitlines():
            if rid.encode() in line:
                rec = json.loads(line)
                assert rec.get("request_id") == rid, f"{f}: {line[:200]!r}"
                found.append(f)
    assert len(set(found)) >= 2, f"request id {rid} found only in {set(found)} " \
        "(want the worker log and nginx's access log)"
