"""The database going away under load, three ways: hung (SIGSTOP: it keeps
its connections and answers nothing), crashed (SIGKILL) and stopped cleanly
(SIGTERM), each for several seconds, then back. Requests get 503 within
the configured timeouts, /health/ready turns 503, no worker hangs or exits,
service resumes by itself, and every write that got 201 is in the database
while every row has its 201 or was reported as of unknown outcome."""
import asyncio
import time

import load
from invariants import assert_clean_503, check_rows, summarise, unknown_outcome_ids

OUTAGE_S = 4.0
# MYSQL_CONNECT_TIMEOUT=1, MYSQL_READ_TIMEOUT=2 (conftest): a statement on
# a hung server gives up after the read timeout, its one retry after a
# connect timeout (+ read timeout); with the hashing, well under this.
ANSWER_WITHIN_S = 8.0
RECOVERY_WITHIN_S = 3.0


def test_database_hung_crashed_and_stopped_under_load(stack):
    port = stack.http_port
    prefix = "db-"
    stack.mark_logs()
    workers_before = set(stack.workers_pids())
    probes = []  # (monotonic, status) of /health/ready
    windows = []  # (name, down_at, back_at)

    async def probe(until):
        while time.monotonic() < until:
            r = await load.request(port, "GET", "/health/ready", kind="ready", timeout=30)
            probes.append((r.started, r.ended, r.status))
            await asyncio.sleep(0.1)

    async def scenario():
        total = 3 * (OUTAGE_S + 5) + 2
        until = time.monotonic() + total
        work = asyncio.ensure_future(
            load.closed_loop(lambda: load.register(port, prefix, timeout=40), clients=3,
                             duration=total))
        ready = asyncio.ensure_future(probe(until))
        for name, down, up in (("hung", stack.pause_db, stack.resume_db),
                               ("crashed", stack.kill_db, stack.start_db),
                               ("stopped", stack.stop_db, stack.start_db)):
            await asyncio.sleep(2.0)
            t_down = time.monotonic()
            await asyncio.to_thread(down)
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(up)
            windows.append((name, t_down, time.monotonic()))
            await asyncio.sleep(3.0)
        results = await work
        await ready
        return results

    results = asyncio.run(scenario())
    unknown = unknown_outcome_ids(stack)
    rows = check_rows(stack, prefix, results, allowed_unanswered=unknown)
    report = []
    for name, down, back in windows:
        during = [r for r in results if down <= r.started < back]
        answers = [r.latency for r in during if r.status]
        first_ok = min((r.ended for r in results if r.status == 201 and r.started >= back),
                       default=None)
        ready_503 = [p for p in probes if down <= p[0] < back and p[2] == 503]
        ready_back = min((p[1] for p in probes if p[0] >= back and p[2] == 200), default=None)
        recovery = (first_ok - back) if first_ok else float("inf")
        report.append(f"{name}: {len(during)} sent during, max answer "
                      f"{max(answers, default=0):.1f} s, /health/ready 503 x{len(ready_503)}, "
                      f"first 201 {recovery:.2f} s after it was back, ready 200 "
                      f"{(ready_back - back) if ready_back else float('inf'):.2f} s after")
        assert ready_503, (f"{name}: /health/ready never answered 503 during the outage: "
                           f"{[(round(p[0] - down, 1), round(p[1] - p[0], 1), p[2]) for p in probes if down - 1 <= p[0] < back + 1]}")
        assert max(answers, default=0) <= ANSWER_WITHIN_S, f"{name}: an answer took too long"
        assert recovery <= RECOVERY_WITHIN_S, f"{name}: no 201 within {RECOVERY_WITHIN_S} s"
    died = [e for e in stack.worker_events() if e.get("event") in ("worker_died", "worker_crashed")]
    summarise("database outages", results,
              "; ".join(report) + f"; reported unknown outcome {len(unknown)}; {rows}")
    assert {r.status for r in results} <= {201, 503}, load.status_counts(results)
    for r in results:
        if r.status == 503:
            assert_clean_503(r)
    assert not [r for r in results if not r.status], "requests without an answer"
    assert not died, f"workers exited: {died[:3]}"
    assert set(stack.workers_pids()) == workers_before, "the pool's workers changed"
