"""Read your writes across nodes (issue 15, point 2): a token issued through
one node is accepted at once through another; a logout, a password change
or a disabling through one node is refused at once through the others.
The main pools write through node 1, the race pool reads through node 2,
the operator command goes to node 3. Every answer is checked against the
OpenAPI document (e2e's Api)."""
from __future__ import annotations

import subprocess
import sys
import time

from clusterstack import ROOT

sys.path.insert(0, str(ROOT / "e2e"))
from authd_e2e import Api, decode_jwt, strong_password, unique_email  # noqa: E402

ROUNDS = 40


def test_tokens_issued_and_revoked_through_node1_are_seen_at_once_through_node2(cluster):
    main, race = Api(cluster.url("main")), Api(cluster.url("race"))
    stale_without_causal = 0
    plain_node2 = cluster.db(2, causal=False)
    started = time.monotonic()
    for _ in range(ROUNDS):
        email, password = unique_email("ryw"), strong_password()
        assert main.register(email, password).status_code == 201
        login = main.login(email, password)
        assert login.status_code == 200, login.text
        grant = login.json()
        token = grant["access_token"]
        # What a read without wsrep_sync_wait on node 2 sees at this moment.
        with plain_node2.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM sessions WHERE id = UNHEX(REPLACE(%s, '-', ''))",
                        (decode_jwt(token)[1]["sid"],))
            stale_without_causal += 1 if cur.fetchone()[0] == 0 else 0
        r = race.verify(token)
        assert r.status_code == 204, f"a token issued through node 1 refused through node 2: {r.text}"
        assert race.me(token).status_code == 200
        assert main.logout(token).status_code == 204
        r = race.verify(token)
        assert r.status_code == 401, "a session ended through node 1 still good through node 2"
    took = time.monotonic() - started
    plain_node2.close()
    print(f"\n[read your writes] {ROUNDS} logins through node 1 checked at once through node 2, "
          f"then logged out and checked again: 0 wrong answers; a plain read on node 2 at the "
          f"same moment missed the new session {stale_without_causal} times of {ROUNDS} "
          f"({took:.1f} s)")


def test_password_change_and_disable_through_one_node_are_refused_at_once_elsewhere(cluster):
    main, race = Api(cluster.url("main")), Api(cluster.url("race"))
    email, password = unique_email("ryw-pw"), strong_password()
    assert main.register(email, password).status_code == 201
    old = race.login(email, password).json()["access_token"]  # issued through node 2
    assert main.verify(old).status_code == 204
    new_password = strong_password()
    r = main.change_password(email, password, new_password)  # through node 1
    assert r.status_code == 200, r.text
    assert race.verify(old).status_code == 401, "a password change through node 1 left it good"
    assert race.login(email, password).status_code == 401, "the old password still works"
    fresh = race.login(email, new_password).json()["access_token"]
    assert main.verify(fresh).status_code == 204

    # The operator's command, through node 3 first.
    env = cluster.env(cluster.hosts(3, 1, 2))
    out = subprocess.run([str(cluster.authd), "user", "disable", email], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for api, node in ((race, 2), (main, 1)):
        r = api.verify(fresh)
        assert r.status_code == 401, f"disabled through node 3, still good through node {node}"
    print("\n[read your writes] a password change through node 1 and a disabling through node 3 "
          "were refused at once through nodes 2 and 1")


def test_a_transaction_waits_for_the_cluster_before_it_starts(cluster):
    """MariaDB waits for no statement inside a transaction (wsrep_sync_wait is
    skipped while one is active), so a causal SELECT … FOR UPDATE there was a
    plain read: a link issued through another node, not yet applied on this
    one, read as unknown. Now the START TRANSACTION waits, and Galera counts
    each wait (wsrep_causal_reads). A link check through node 1 is one
    transaction with no read before it: twenty checks, twenty waits at least
    (none were counted before; the mailers, which poll through transactions,
    are held meanwhile)."""
    main = Api(cluster.url("main"))

    def waits_on_node1() -> int:
        return int(cluster.root_sql(1, "SHOW GLOBAL STATUS LIKE 'wsrep_causal_reads'").split()[-1])

    checks = 20
    with cluster.mail_held():
        before = waits_on_node1()
        for _ in range(checks):
            assert main.verify_email("A" * 43).status_code == 401  # never issued
        waited = waits_on_node1() - before
    print(f"\n[read your writes] {checks} link checks through node 1: {waited} causal waits")
    assert waited >= checks, f"{checks} transactions on node 1, {waited} causal waits"
