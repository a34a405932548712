"""The faults (issue 15, point 5): under a mixed load through the main nginx
(sign-ups, logins, refreshes, token checks), the node the writers use
(node 1) is SIGKILLed and later restarted; then pool A (one of the two
"hosts") is SIGKILLed. The invariants, printed with their figures:

- every 2xx write is on every node (the accounts of the 201s, the sessions
  of the logins and refreshes);
- no row without an attempt: every account row is a 201, or a request
  answered 503 with an unknown outcome, or one cut off by a kill (each is
  whole or absent: its account and its verification link and message);
- only contract status codes (every answer checked against the OpenAPI
  document: no 500, no 502);
- writes served again within 10 s of the kill;
- a dead pool skipped within 1 s (no request started a second after the
  pool's death fails for it);
- every worker back on the preferred node within MYSQL_FAILBACK_S + 3 s of
  the node's return (Synced);
- the killed node back in the cluster by IST, with the same data: the
  tables' checksums equal on the three nodes.
"""
from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import datetime

from requests.structures import CaseInsensitiveDict

from clusterstack import FAILBACK_S, ROOT

sys.path.insert(0, str(ROOT / "tests" / "faults"))
sys.path.insert(0, str(ROOT / "e2e"))
import load  # noqa: E402
from authd_e2e import Api, decode_jwt, strong_password, unique_email  # noqa: E402
from openapi_check import CONTRACT  # noqa: E402

WRITES_BACK_WITHIN_S = 10.0
POOL_SKIPPED_WITHIN_S = 1.0
FAILBACK_WITHIN_S = FAILBACK_S + 3.0
NODE_DOWN_S = 8.0
SYNCED_WITHIN_S = 120.0  # a node restarted by IST is Synced in seconds here
# README "Running on several machines": after a node stops or starts,
# requests may fail (503) for at most this long.
WINDOW_S = 10.0
PREFIX = "fo-signup-"  # the accounts made under load (the others are fo-acct-…)


def wall(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def test_node_and_pool_killed_under_mixed_load(cluster):
    port = cluster.port("main")
    api = Api(cluster.url("main"))
    # Accounts for the logins, refresh chains and token checks.
    accounts = []
    for _ in range(8):
        email, password = unique_email("fo-acct"), strong_password()
        assert api.register(email, password).status_code == 201
        accounts.append((email, password))
    # Apart: logins beyond the session cap end the oldest sessions of their
    # account, which must not be the ones checked or refreshed.
    chains = [api.login(e, p).json()["refresh_token"] for e, p in accounts[:3]]
    bearer = [api.login(e, p).json()["access_token"] for e, p in accounts[3:5]]
    login_accounts = accounts[5:]
    results: list[load.Result] = []
    sessions_granted: set[str] = set()
    timeline: dict[str, float] = {}

    async def sign_ups(until):
        while time.monotonic() < until:
            results.append(await load.register(port, PREFIX, timeout=60))

    async def logins(until):
        while time.monotonic() < until:
            email, password = random.choice(login_accounts)
            r = await load.request(port, "POST", "/auth/login",
                                   {"email": email, "password": password}, kind="login",
                                   timeout=60)
            results.append(r)
            if r.status == 200:
                sessions_granted.add(decode_jwt(r.json()["access_token"])[1]["sid"])

    async def refreshes(i, until):
        while time.monotonic() < until:
            r = await load.request(port, "POST", "/auth/refresh", {"refresh_token": chains[i]},
                                   kind="refresh", timeout=60)
            results.append(r)
            if r.status == 200:
                chains[i] = r.json()["refresh_token"]
                sessions_granted.add(decode_jwt(r.json()["access_token"])[1]["sid"])
            elif r.status == 401:  # reuse after a lost answer beyond the grace window
                email, password = accounts[i]
                chains[i] = (await asyncio.to_thread(api.login, email, password)).json()[
                    "refresh_token"]
            await asyncio.sleep(0.05)

    async def token_checks(i, until):
        while time.monotonic() < until:
            results.append(await load.request(port, "GET", "/auth/verify",
                                              headers={"Authorization": f"Bearer {bearer[i]}"},
                                              kind="verify", timeout=60))
            await asyncio.sleep(0.01)

    async def scenario():
        total = 5 + NODE_DOWN_S + 30 + FAILBACK_S + 10
        until = time.monotonic() + total
        work = [sign_ups(until), sign_ups(until), logins(until), token_checks(0, until),
                token_checks(1, until)] + [refreshes(i, until) for i in range(len(chains))]
        tasks = [asyncio.ensure_future(w) for w in work]
        await asyncio.sleep(5)
        timeline["kill_sent_wall"] = time.time()
        await asyncio.to_thread(cluster.kill_node, 1)
        # From its death (galera.sh returns once the process is gone).
        timeline["node_killed"] = time.monotonic()
        timeline["node_killed_wall"] = time.time()
        await asyncio.sleep(NODE_DOWN_S)
        await asyncio.to_thread(cluster.start_node, 1)
        timeline["node_started"] = time.monotonic()
        synced_by = time.monotonic() + SYNCED_WITHIN_S
        while await asyncio.to_thread(cluster.node_status, 1) != "Synced":
            assert time.monotonic() < synced_by, f"node 1 not Synced {SYNCED_WITHIN_S} s after its start"
            await asyncio.sleep(0.1)
        timeline["node_synced"] = time.monotonic()
        timeline["node_synced_wall"] = time.time()
        await asyncio.sleep(FAILBACK_S + 5)
        await asyncio.to_thread(cluster.kill_pool, "A")
        timeline["pool_killed"] = time.monotonic()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    kill, synced, pool_kill = (timeline["node_killed"], timeline["node_synced"],
                               timeline["pool_killed"])

    # Only contract status codes: each answer as the OpenAPI document says.
    undocumented = []
    for r in results:
        if not r.status:
            undocumented.append((r.kind, "no answer", r.error))
            continue
        _, problems = CONTRACT.problems(_method(r.kind), _path(r.kind), r.status,
                                        CaseInsensitiveDict(r.headers), r.body)
        if problems:
            undocumented.append((r.kind, r.status, problems))
    counts = {k: load.status_counts([r for r in results if r.kind == k])
              for k in ("register", "login", "refresh", "verify")}

    # Writes served again within 10 s of the kill.
    writes = [r for r in results if r.kind in ("register", "login", "refresh")]
    first_ok_after = min((r.ended for r in writes if r.started >= kill and r.status in (200, 201)),
                         default=float("inf"))
    # The writes that failed while node 1 was away (before the pool kill).
    failed_writes = [r for r in writes if kill <= r.started < timeline["node_started"]
                     and r.status not in (200, 201)]
    last_failed = max((r.ended for r in failed_writes), default=kill)
    during = [r.latency for r in writes if kill <= r.started < kill + WRITES_BACK_WITHIN_S]
    writes_back = first_ok_after - kill

    # A dead pool skipped within 1 s: nothing started a second after fails
    # for it (nginx's own 503: no pool took the request; a pool's own 503,
    # admission refusing what waited too long now that one pool carries the
    # load, is the contract's answer to overload, counted apart).
    nginx_own = _nginx_own_errors(cluster)
    late = [r for r in results if r.started >= pool_kill + POOL_SKIPPED_WITHIN_S]
    late_failures = [r for r in late if not r.status or r.request_id in nginx_own]
    late_refused = [r for r in late if r.status == 503 and r.request_id not in nginx_own]
    cut_by_pool = [r for r in results if pool_kill - 1 <= r.started < pool_kill + 1
                   and r.status == 503]
    # Requests nginx found pool A dead for and passed on to pool B (the
    # client never knew): nginx tries A again once a second.
    passed_on = sum(1 for e in cluster.nginx_access("main")
                    if str(e.get("upstream_status", "")).count(",") >= 1)

    # Back on the preferred node after its return.
    switches = [e for e in cluster.events("A", "B")
                if e.get("event") == "db_node_switch" and wall(e["ts"]) >= timeline["kill_sent_wall"]]
    away = [e for e in switches if not e.get("preferred")]
    back = [e for e in switches if e.get("preferred")]
    back_after = [wall(e["ts"]) - timeline["node_synced_wall"] for e in back]
    workers_away = {e["pid"] for e in away}
    workers_back = {e["pid"] for e in back}
    on_node1 = cluster.app_connections(1)
    on_node2 = cluster.app_connections(2)

    # Every 2xx write on every node; no row without an attempt.
    created = {r.email for r in results if r.kind == "register" and r.status == 201}
    unknown = {e.get("request_id") for e in cluster.events()
               if e.get("event") == "commit_outcome_unknown"}
    cut_ids = _cut_off(cluster)
    by_email = {r.email: r for r in results if r.kind == "register"}
    per_node = {}
    for node in (1, 2, 3):
        rows = cluster.emails_on(node, PREFIX)
        missing = created - rows
        phantom = {e for e in rows - created if by_email.get(e) is None
                   or by_email[e].request_id not in unknown | cut_ids}
        per_node[node] = (len(rows), missing, phantom)
        with cluster.db(node) as conn, conn.cursor() as cur:
            cur.execute("SELECT LOWER(HEX(id)) FROM sessions")
            stored = {row[0] for row in cur.fetchall()}
        lost_sessions = {s for s in sessions_granted if s.replace("-", "") not in stored}
        per_node[node] += (lost_sessions,)
        with cluster.db(node) as conn, conn.cursor() as cur:
            # Whole or absent: each account with its verification link and message.
            cur.execute("SELECT COUNT(*) FROM users u WHERE u.email LIKE %s AND (NOT EXISTS"
                        " (SELECT 1 FROM email_tokens t WHERE t.user_id = u.id) OR NOT EXISTS"
                        " (SELECT 1 FROM mail_outbox m WHERE m.user_id = u.id))", (PREFIX + "%",))
            per_node[node] += (cur.fetchone()[0],)

    # The node rejoined by IST, and every node holds the same data.
    log = cluster.node_log(1).read_text(errors="replace")
    ist = "IST received" in log or "Receiving IST" in log
    with cluster.mail_held():
        sums = {node: cluster.checksums(node) for node in (1, 2, 3)}
    differ = sorted(t for t in sums[1] if len({sums[n].get(t) for n in (1, 2, 3)}) != 1)

    print(f"\n[failover] {len(results)} requests over {timeline['pool_killed'] - kill + 5:.0f} s "
          f"of load; statuses: {counts}")
    print(f"[failover] node 1 SIGKILLed: first write served {writes_back:.2f} s after the kill; "
          f"{len(failed_writes)} writes failed while it was away, the last answered "
          f"{last_failed - kill:.2f} s after the kill; writes started in the 10 s after it: "
          f"p50 {load.percentile(during, 50) * 1000:.0f} ms, max {max(during, default=0):.2f} s; "
          f"node 1 restarted "
          f"{timeline['node_started'] - kill:.1f} s after the kill, Synced "
          f"{synced - timeline['node_started']:.1f} s later ({'IST' if ist else 'NOT by IST'})")
    print(f"[failover] workers moved away: {len(workers_away)}, back on node 1: "
          f"{len(workers_back)}, the last {max(back_after, default=float('nan')):.1f} s after "
          f"node 1 was Synced (MYSQL_FAILBACK_S={FAILBACK_S}); app connections now node 1: "
          f"{on_node1}, node 2: {on_node2}")
    print(f"[failover] pool A SIGKILLed: {len(cut_by_pool)} requests cut off around the kill, "
          f"{len(late_failures)} failed for the dead pool among those started later than "
          f"{POOL_SKIPPED_WITHIN_S} s after it; {passed_on} requests found it dead and went "
          f"on to pool B ({len(late_refused)} refused by pool B's "
          f"admission, now carrying the load alone: {_codes(late_refused)})")
    for node, (n, missing, phantom, lost_sessions, partial) in per_node.items():
        for e in sorted(phantom)[:5]:
            r = by_email.get(e)
            print(f"[failover] node {node}: unexplained row {e}: "
                  f"{(r.status, r.body[:200], r.request_id) if r else 'never sent'}; log: "
                  f"{[x.get('event') for x in cluster.events() if r and x.get('request_id') == r.request_id]}")
    for node, (n, missing, phantom, lost_sessions, partial) in per_node.items():
        print(f"[failover] node {node}: {n} accounts = {len(created)} answered 201 + "
              f"{n - len(created)} of unknown outcome or cut off; missing {len(missing)}, "
              f"unexplained {len(phantom)}, partial {partial}; sessions granted {len(sessions_granted)}, "
              f"missing {len(lost_sessions)}")
    print(f"[failover] table checksums on nodes 1, 2, 3: {'equal' if not differ else differ} "
          f"({len(sums[1])} tables)")

    assert not undocumented, undocumented[:5]
    assert writes_back <= WRITES_BACK_WITHIN_S, f"writes back only after {writes_back:.1f} s"
    assert not late_failures, [(r.kind, r.status, round(r.started - pool_kill, 2))
                               for r in late_failures[:5]]
    assert workers_away, "no worker moved off the killed node"
    assert workers_away <= workers_back | _pids_of(cluster, "A"), \
        f"workers never back on node 1: {workers_away - workers_back}"
    assert back_after and max(back_after) <= FAILBACK_WITHIN_S, back_after
    for node, (n, missing, phantom, lost_sessions, partial) in per_node.items():
        assert not missing, f"node {node}: 201s without their row: {sorted(missing)[:3]}"
        assert not phantom, f"node {node}: rows without an attempt: {sorted(phantom)[:3]}"
        assert not lost_sessions, f"node {node}: granted sessions missing: {sorted(lost_sessions)[:3]}"
        assert partial == 0, f"node {node}: accounts without their link or message"
    assert ist, "node 1 did not rejoin by IST"
    assert not differ, f"tables differ between nodes: {differ}"


def _method(kind: str) -> str:
    return "GET" if kind == "verify" else "POST"


def _path(kind: str) -> str:
    return {"register": "/auth/register", "login": "/auth/login", "refresh": "/auth/refresh",
            "verify": "/auth/verify"}[kind]


def _pids_of(cluster, name: str) -> set[int]:
    """Pool A's workers. It is killed FAILBACK_S + 5 s after node 1 is Synced,
    and a worker fails back on its next statement: one that served no request
    in that time had none, and died before it could."""
    return {e.get("pid") for e in cluster.events(name)}


def _cut_off(cluster) -> set[str]:
    """Request ids nginx answered 503 because the pool holding them died
    (it had connected, then the connection broke)."""
    out = set()
    for e in cluster.nginx_access("main"):
        if e.get("status") == 503 and e.get("upstream_connect_time", "-") not in ("-", ""):
            out.add(e.get("request_id", ""))
    return out


def _nginx_own_errors(cluster) -> set[str]:
    """Request ids nginx answered itself with an error: no pool gave an
    answer (connect refused or timed out everywhere, or the connection broke)."""
    out = set()
    for e in cluster.nginx_access("main"):
        if e.get("status", 0) >= 500 and not str(e.get("upstream_status", "")).endswith("503"):
            out.add(e.get("request_id", ""))
    return out


def _codes(results) -> dict:
    out: dict = {}
    for r in results:
        out[r.code] = out.get(r.code, 0) + 1
    return out


def test_node_stopped_cleanly_and_started_again_under_load(cluster):
    """What an operator does (a restart for an upgrade): node 1 stopped with
    SIGTERM (it leaves the cluster cleanly) and started again, under logins
    and token checks. Requests may fail only in the 10 s after each, as
    README "Running on several machines" says."""
    port = cluster.port("main")
    api = Api(cluster.url("main"))
    # Two accounts: logins beyond the session cap end the oldest sessions.
    checked, password = unique_email("fo-stop"), strong_password()
    assert api.register(checked, password).status_code == 201
    token = api.login(checked, password).json()["access_token"]
    email = unique_email("fo-stop")
    assert api.register(email, password).status_code == 201
    results: list[load.Result] = []
    marks: dict[str, float] = {}

    async def logins(until):
        while time.monotonic() < until:
            results.append(await load.request(port, "POST", "/auth/login",
                                              {"email": email, "password": password},
                                              kind="login", timeout=60))

    async def checks(until):
        while time.monotonic() < until:
            results.append(await load.request(port, "GET", "/auth/verify",
                                              headers={"Authorization": f"Bearer {token}"},
                                              kind="verify", timeout=60))
            await asyncio.sleep(0.01)

    async def scenario():
        until = time.monotonic() + 45
        tasks = [asyncio.ensure_future(w) for w in (logins(until), checks(until), checks(until))]
        await asyncio.sleep(5)
        marks["stop"] = time.monotonic()
        await asyncio.to_thread(cluster.galera, "stop-node", "1")
        marks["stopped"] = time.monotonic()
        await asyncio.sleep(8)
        marks["start"] = time.monotonic()
        await asyncio.to_thread(cluster.start_node, 1)
        synced_by = time.monotonic() + SYNCED_WITHIN_S
        while await asyncio.to_thread(cluster.node_status, 1) != "Synced":
            assert time.monotonic() < synced_by, f"node 1 not Synced {SYNCED_WITHIN_S} s after its start"
            await asyncio.sleep(0.1)
        marks["synced"] = time.monotonic()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    failed = [r for r in results if r.status not in (200, 204)]
    outside = [r for r in failed if not (marks["stop"] <= r.started <= marks["stop"] + WINDOW_S
                                         or marks["start"] <= r.started <= marks["start"] + WINDOW_S)]
    phases = {
        "before": (0, marks["stop"]),
        "stopping": (marks["stop"], marks["stopped"] + 2),
        "node 1 away": (marks["stopped"] + 2, marks["start"]),
        "rejoining": (marks["start"], marks["synced"] + 2),
        "after": (marks["synced"] + 2, float("inf")),
    }
    lines = []
    for name, (a, b) in phases.items():
        rs = [r for r in results if a <= r.started < b]
        lat = [r.latency for r in rs if r.status]
        lines.append(f"{name}: {len(rs)} requests, {sum(1 for r in rs if r.status not in (200, 204))}"
                     f" failed, p50 {load.percentile(lat, 50) * 1000:.0f} ms, max "
                     f"{max(lat, default=0):.2f} s")
    slow = sorted((r for r in results if r.latency > 0.5), key=lambda r: r.started)
    lines.append("slowest: " + ", ".join(
        f"{r.kind} {r.latency:.2f} s at start{r.started - marks['start']:+.1f} s"
        for r in sorted(slow, key=lambda r: -r.latency)[:4]) if slow else "none over 0.5 s")
    print(f"\n[clean stop] node 1 stopped in {marks['stopped'] - marks['stop']:.1f} s, started "
          f"again, Synced {marks['synced'] - marks['start']:.1f} s later; {len(results)} requests, "
          f"{len(failed)} failed ({_codes(failed)}), {len(outside)} outside the {WINDOW_S:.0f} s "
          f"windows\n[clean stop] " + "\n[clean stop] ".join(lines))
    assert not outside, [(r.kind, r.status, r.code, round(r.started - marks["stop"], 2))
                         for r in outside[:5]]
