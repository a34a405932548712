"""The races across nodes (issue 15, point 1): each flow that leans on a row
lock, with the two racers on two Galera nodes (row locks are node-local: the
loser learns at certification, 1213, and the transaction runner runs it
again after catching up). One racer goes through the main nginx (pools A/B,
node 1), the other through the race nginx (pool R, node 2), released
together by a barrier. Printed: rounds, outcomes, and how many conflicts the
pools' logs recorded (db_conflict)."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pyotp

from clusterstack import ROOT

sys.path.insert(0, str(ROOT / "e2e"))
from authd_e2e import Api, decode_jwt, strong_password, unique_email  # noqa: E402


def explain(cluster, *answers) -> str:
    """For a failed assertion: each answer, and what the pools logged for its
    request id (the conflicts retried, the error that ended it)."""
    lines = []
    events = cluster.events()
    for r in answers:
        rid = r.headers.get("X-Request-ID", "")
        lines.append(f"{r.request.method} {r.request.path_url} -> {r.status_code} {r.text[:200]}")
        lines += [f"  {e['_pool']}: " + json.dumps({k: v for k, v in e.items() if k != "_pool"})[:300]
                  for e in events if rid and e.get("request_id") == rid]
    return "\n".join(lines)


def together(*calls):
    """Runs each call in its own thread, released at the same moment."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        out[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def conflicts(cluster, since: dict) -> int:
    """db_conflict lines the pools logged since mark()."""
    return sum(1 for name, n in since.items() for e in cluster.events(name)[n:]
               if e.get("event") == "db_conflict")


def mark(cluster) -> dict:
    return {name: len(cluster.events(name)) for name in cluster.pools}


def test_refresh_of_one_token_on_two_nodes_rotates_once(cluster):
    main, race = Api(cluster.url("main")), Api(cluster.url("race"))
    email, password = unique_email("race-refresh"), strong_password()
    assert main.register(email, password).status_code == 201
    rounds, since = 30, mark(cluster)
    for _ in range(rounds):
        grant = main.login(email, password).json()
        token = grant["refresh_token"]
        a, b = together(lambda: main.refresh(token), lambda: race.refresh(token))
        assert (a.status_code, b.status_code) == (200, 200), explain(cluster, a, b)
        # One rotation: the loser, run again, found its token just spent
        # (inside the grace window) and got the winner's new token.
        assert a.json()["refresh_token"] == b.json()["refresh_token"], "two rotations of one token"
        sid = decode_jwt(grant["access_token"])[1]["sid"]
        with cluster.db(3) as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM refresh_token_history"
                        " WHERE session_id = UNHEX(REPLACE(%s, '-', ''))", (sid,))
            assert cur.fetchone()[0] == 1, "the token was spent more than once"
        assert main.refresh(a.json()["refresh_token"]).status_code == 200, "the family was broken"
    print(f"\n[race: refresh] {rounds} rounds of one refresh token through node 1 and node 2 at "
          f"once: one rotation each, both answers the same new token; "
          f"{conflicts(cluster, since)} certification conflicts retried")


def test_failed_logins_on_two_nodes_are_all_counted(cluster):
    main, race = Api(cluster.url("main"), expect_throttling=True), \
        Api(cluster.url("race"), expect_throttling=True)
    email, password = unique_email("race-throttle"), strong_password()
    assert main.register(email, password).status_code == 201
    since = mark(cluster)
    statuses = []
    for _ in range(8):
        statuses += [r.status_code for r in together(
            lambda: main.login(email, "wrong-Password-1"), lambda: race.login(email, "wrong-Password-1"),
            lambda: main.login(email, "wrong-Password-2"), lambda: race.login(email, "wrong-Password-2"))]
    assert set(statuses) <= {401, 429, 503}, statuses
    failures_answered = statuses.count(401)
    with cluster.db(2) as conn, conn.cursor() as cur:
        cur.execute("SELECT failures FROM login_throttle WHERE email_hash = UNHEX(SHA2(%s, 256))"
                    " AND ip = '127.0.0.1'", (email,))
        counted = cur.fetchone()[0]
    print(f"\n[race: throttle] {len(statuses)} wrong passwords, four at a time through nodes 1 "
          f"and 2: {failures_answered} x 401, {statuses.count(429)} x 429, "
          f"{statuses.count(503)} x 503; the counter says {counted}; "
          f"{conflicts(cluster, since)} conflicts retried")
    # No lost failure: every 401 was counted (a failure that could not be
    # recorded would have answered 503, never 401).
    assert counted == failures_answered


def test_one_email_signed_up_on_two_nodes_at_once_is_one_account(cluster):
    main, race = Api(cluster.url("main")), Api(cluster.url("race"))
    rounds, since, emails = 20, mark(cluster), []
    for _ in range(rounds):
        email = unique_email("race-signup")
        emails.append(email)
        a, b = together(lambda: main.register(email, strong_password()),
                        lambda: race.register(email, strong_password()))
        assert sorted((a.status_code, b.status_code)) == [201, 409], explain(cluster, a, b)
    for node in (1, 2, 3):
        with cluster.db(node) as conn, conn.cursor() as cur:
            cur.execute("SELECT email, COUNT(*) FROM users WHERE email LIKE 'race-signup%%'"
                        " GROUP BY email")
            rows = dict((e.decode() if isinstance(e, bytes) else e, n) for e, n in cur.fetchall())
        assert set(rows) == set(emails) and set(rows.values()) == {1}, (node, rows)
    print(f"\n[race: sign-up] {rounds} emails each signed up through nodes 1 and 2 at once: "
          f"one 201 and one 409 each, one account each on every node; "
          f"{conflicts(cluster, since)} conflicts retried")


def test_one_totp_code_used_on_two_nodes_at_once_wins_once(cluster):
    main, race = Api(cluster.url("main")), Api(cluster.url("race"))
    # A code is good once per account (a step is taken only after the last
    # one used): one race per account, ten accounts.
    enrolled = []
    for _ in range(10):
        email, password = unique_email("race-totp"), strong_password()
        assert main.register(email, password).status_code == 201
        token = main.login(email, password).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        setup = main.post_json("/auth/mfa/totp/setup", {"password": password}, headers=auth)
        totp = pyotp.TOTP(setup.json()["secret"])
        step = int(time.time()) // 30
        assert main.post_json("/auth/mfa/totp/confirm", {"code": totp.at(step * 30)},
                              headers=auth).status_code == 200
        enrolled.append((email, password, totp, step))
    since, outcomes = mark(cluster), []
    for email, password, totp, step in enrolled:
        # The step after the one used, within the one step of drift allowed.
        code = totp.at((step + 1) * 30)
        t1 = main.login(email, password).json()["mfa_token"]
        t2 = race.login(email, password).json()["mfa_token"]
        a, b = together(lambda: main.post_json("/auth/mfa/verify", {"mfa_token": t1, "code": code}),
                        lambda: race.post_json("/auth/mfa/verify", {"mfa_token": t2, "code": code}))
        outcomes.append((a.status_code, b.status_code))
        assert sorted((a.status_code, b.status_code)) == [200, 401], explain(cluster, a, b)
        loser = a if a.status_code == 401 else b
        assert loser.json()["code"] == "invalid_mfa_code"
    print(f"\n[race: TOTP replay] {len(enrolled)} codes, each sent through nodes 1 and 2 at once: "
          f"one success each (node 1 won {sum(1 for a, _ in outcomes if a == 200)}, node 2 "
          f"{sum(1 for _, b in outcomes if b == 200)}); {conflicts(cluster, since)} conflicts "
          f"retried")


def test_two_mailers_on_two_nodes_send_each_message_once(cluster):
    main = Api(cluster.url("main"))
    since_m = {n: _lines(cluster.tmp / "log" / f"mailer-{n}.log") for n in ("M1", "M2")}
    emails = [unique_email("race-mail") for _ in range(30)]
    # Both mailers held while the messages queue up, then let go at once:
    # each then claims from the same queue at the same moments.
    mailers = [cluster.mailer_pid("M1"), cluster.mailer_pid("M2")]
    for pid in mailers:
        os.kill(pid, signal.SIGSTOP)
    try:
        for email in emails:
            assert main.register(email, strong_password()).status_code == 201
    finally:
        for pid in mailers:
            os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 60
    counts = {}
    while time.monotonic() < deadline:
        counts = _deliveries(cluster.tmp / "mail", set(emails))
        if len(counts) == len(emails):
            break
        time.sleep(0.2)
    time.sleep(2)  # a second send, if any, would show by now
    counts = _deliveries(cluster.tmp / "mail", set(emails))
    sent_by = {n: sum(1 for e in _events(cluster.tmp / "log" / f"mailer-{n}.log", since_m[n])
                      if e.get("event") == "mail_sent") for n in ("M1", "M2")}
    conflicts_m = sum(1 for n in ("M1", "M2")
                      for e in _events(cluster.tmp / "log" / f"mailer-{n}.log", since_m[n])
                      if e.get("event") == "db_conflict")
    print(f"\n[race: outbox] {len(emails)} messages queued, then mailer M1 on node 1 and M2 on "
          f"node 2 let go at once: sent by M1 {sent_by['M1']}, by M2 {sent_by['M2']}; "
          f"deliveries per recipient {sorted(set(counts.values()))}; "
          f"{conflicts_m} claim conflicts retried")
    assert set(counts) == set(emails), "a message was not delivered"
    assert set(counts.values()) == {1}, {e: n for e, n in counts.items() if n != 1}


def _lines(path: Path) -> int:
    try:
        return len(path.read_bytes().splitlines())
    except OSError:
        return 0


def _events(path: Path, since: int) -> list[dict]:
    out = []
    for line in path.read_bytes().splitlines()[since:]:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _deliveries(mail_dir: Path, wanted: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in mail_dir.glob("*.json"):
        try:
            envelope = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        for rcpt in envelope.get("rcpt_tos", []):
            if rcpt in wanted:
                counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts
