"""The figures of README "Running on several machines", measured on this
stack (after the faults: pool A is gone, pool B serves the main nginx):

- commit latency (one autocommit INSERT) and login and sign-up latency
  through nginx, with three nodes and then with one (nodes 2 and 3 stopped
  cleanly, node 1 a primary component alone), then the two nodes back;
- the token-check path with and without causal reads: wrk against nginx in
  front of bench/fcgi_ceiling --read (one primary-key session read per
  request, as /auth/verify makes) with and without --causal, on node 1; and
  /auth/verify itself through the main nginx (causal reads on).

Reported, not enforced: the machine is shared. Only that each run worked.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from clusterstack import ROOT

sys.path.insert(0, str(ROOT / "e2e"))
from authd_e2e import Api, strong_password, unique_email  # noqa: E402

N = 60  # sequential requests per latency figure
WRK_SECONDS = 4


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


def latencies(cluster):
    api = Api(cluster.url("main"))
    commits, signups, logins = [], [], []
    with cluster.db(1, causal=False) as conn, conn.cursor() as cur:
        for i in range(N):
            t = time.perf_counter()
            # Not a temporary table: it would not replicate. A throttle row
            # (the app account may write it) stands for a one-row commit.
            cur.execute("INSERT INTO login_throttle (email_hash, ip, failures, last_failure_at)"
                        " VALUES (UNHEX(SHA2(%s, 256)), 'bench', 0, '2000-01-01')",
                        (f"commit-{os.urandom(8).hex()}",))
            commits.append(time.perf_counter() - t)
    email, password = unique_email("fig"), strong_password()
    assert api.register(email, password).status_code == 201
    for _ in range(N):
        t = time.perf_counter()
        assert api.register(unique_email("fig"), strong_password()).status_code == 201
        signups.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert api.login(email, password).status_code == 200
        logins.append(time.perf_counter() - t)
    return {k: (pct(v, 50) * 1000, pct(v, 99) * 1000)
            for k, v in (("commit", commits), ("sign-up", signups), ("login", logins))}


def test_latency_with_three_nodes_and_with_one(cluster):
    three = latencies(cluster)
    cluster.galera("stop-node", "3")
    cluster.galera("stop-node", "2")
    try:
        one = latencies(cluster)
    finally:
        cluster.start_node(2)
        cluster.wait_synced(2)
        cluster.start_node(3)
        cluster.wait_synced(3)
    for k in three:
        print(f"\n[figures] {k}: three nodes p50 {three[k][0]:.2f} ms, p99 {three[k][1]:.2f} ms; "
              f"one node p50 {one[k][0]:.2f} ms, p99 {one[k][1]:.2f} ms", end="")
    print()


def wrk(url: str, token: str | None = None, connections: int = 8) -> dict:
    env = dict(os.environ, BENCH_LUA_DIR=str(ROOT / "bench" / "lua"), BENCH_TOKEN=token or "")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{WRK_SECONDS}s", "-s",
                          str(ROOT / "bench" / "lua" / "get.lua"), url], env=env,
                         capture_output=True, text=True, timeout=WRK_SECONDS + 30)
    line = next(l for l in out.stdout.splitlines() if l.startswith("BENCH_JSON "))
    r = json.loads(line.split(" ", 1)[1])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def ceiling(cluster, causal: bool) -> dict:
    """nginx → fcgi_ceiling --read [--causal] (two processes) on node 1."""
    sock = cluster.tmp / "run" / f"ceiling-{int(causal)}.sock"
    env = cluster.env(f"127.0.0.1:{cluster.node_ports[0]}")
    env["MYSQL_PORT"] = str(cluster.node_ports[0])
    env["MYSQL_HOST"] = "127.0.0.1"
    args = [str(cluster.build_dir / "fcgi_ceiling"), "--listen", str(sock), "--workers", "2",
            "--backlog", "1024", "--read"] + (["--causal"] if causal else [])
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    name = f"ceiling{int(causal)}"
    try:
        while not sock.exists():
            assert proc.poll() is None, "fcgi_ceiling exited"
            time.sleep(0.05)
        cluster.start_nginx(name, [str(sock)], API_FAST_WORKERS="0")
        cluster.wait_ready(cluster.url(name), timeout=30)
        return wrk(cluster.url(name) + "/auth/verify")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        ng, _ = cluster.nginx.pop(name)
        ng.send_signal(signal.SIGQUIT)
        ng.wait()


def test_token_check_throughput_with_and_without_causal_reads(cluster):
    api = Api(cluster.url("main"))
    email, password = unique_email("fig-verify"), strong_password()
    assert api.register(email, password).status_code == 201
    token = api.login(email, password).json()["access_token"]
    plain = ceiling(cluster, causal=False)
    causal = ceiling(cluster, causal=True)
    verify = wrk(cluster.url("main") + "/auth/verify", token=token)
    bench = subprocess.run([str(cluster.build_dir / "causal_reads"), "--processes", "2",
                            "--seconds", "3"], env=dict(cluster.env(cluster.hosts(1)),
                                                        MYSQL_PORT=str(cluster.node_ports[0])),
                           capture_output=True, text=True, timeout=60)
    for r in (plain, causal, verify):
        assert r["requests"] > 0 and r["errors"]["status"] == 0, r
    assert bench.returncode == 0, f"causal_reads: exit {bench.returncode}: {bench.stderr[-500:]}"
    print(f"\n[figures] token-check path, wrk 8 connections {WRK_SECONDS} s, node 1 of 3: "
          f"nginx + FastCGI + session read {plain['rps']:.0f}/s (p50 "
          f"{plain['latency_us']['p50'] / 1000:.2f} ms); with the read causal {causal['rps']:.0f}/s "
          f"(p50 {causal['latency_us']['p50'] / 1000:.2f} ms): causal reads cost "
          f"{100 * (1 - causal['rps'] / plain['rps']):.0f} % of that ceiling; /auth/verify "
          f"through the main nginx (pool B, one fast-lane worker, causal) {verify['rps']:.0f}/s "
          f"(p50 {verify['latency_us']['p50'] / 1000:.2f} ms)")
    print(f"[figures] {bench.stdout.strip()}")
