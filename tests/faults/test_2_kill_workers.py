"""Workers killed (SIGKILL) mid-request under load: each is replaced within
a second, the request it held gets nginx's clean 503, and no half-written
change remains."""
import asyncio
import os
import random
import signal
import time

import load
from invariants import assert_clean_503, check_rows, summarise

KILLS = 6
REPLACED_WITHIN_S = 1.0


def hashing_workers(stack) -> list[int]:
    """The live workers that served the hashing lane (sign-ups go there): a
    fast-lane worker holds no sign-up, so killing one cuts nothing."""
    live = set(stack.workers_pids())
    return sorted(live & {e.get("pid") for e in stack.worker_events()
                          if e.get("event") == "request" and e.get("lane") == "hashing"})


def test_killed_workers_are_replaced_and_nothing_is_half_written(stack):
    port = stack.http_port
    prefix = "kill-"
    stack.mark_logs()

    async def scenario():
        work = asyncio.ensure_future(
            load.closed_loop(lambda: load.register(port, prefix), clients=4, duration=10))
        replaced = []
        await asyncio.sleep(1.0)
        for _ in range(KILLS):
            # Older than a second: a worker that dies young counts towards
            # the crash-loop back-off, which is another test.
            deadline = time.monotonic() + 5
            while not (candidates := hashing_workers(stack)):
                assert time.monotonic() < deadline, "no hashing-lane worker served in 5 s"
                await asyncio.sleep(0.05)
            victim = random.choice(candidates)
            t0 = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            while True:
                pids = stack.workers_pids()
                if victim not in pids and len(pids) >= stack.processes:
                    break
                assert time.monotonic() - t0 < 10, "no replacement in 10 s"
                await asyncio.sleep(0.005)
            replaced.append(time.monotonic() - t0)
            await asyncio.sleep(1.2)
        return await work, replaced

    results, replaced = asyncio.run(scenario())
    shed = [r for r in results if r.status == 503]
    # A worker killed after the database committed its INSERT, before it
    # answered (the commit's fsync is a real window): the row exists and the
    # client got nginx's 503, which promises nothing about what happened.
    # Allowed only for requests nginx says a dying worker held.
    answered_late = stack.requests_cut_by_a_dying_worker() & {r.request_id for r in shed}
    rows = check_rows(stack, prefix, results, allowed_unanswered=answered_late)
    died = [e for e in stack.worker_events() if e.get("event") == "worker_died"]
    cut = stack.nginx_error_log.read_text(errors="replace").count("upstream prematurely closed")
    summarise("kill workers", results,
              f"{KILLS} SIGKILLs; replaced in {', '.join(f'{s * 1000:.0f}' for s in replaced)} ms; "
              f"worker_died logged {len(died)}; requests cut by a kill (nginx: upstream prematurely "
              f"closed) {cut}, answered 503; {rows} (killed after the commit, before the answer)")
    assert {r.status for r in results} <= {201, 503}, load.status_counts(results)
    for r in shed:
        assert_clean_503(r)
    assert cut >= 1, "no request was in flight when a worker was killed"
    assert max(replaced) <= REPLACED_WITHIN_S, f"replacement took {max(replaced):.2f} s"
    assert len(died) == KILLS
    assert not [e for e in stack.worker_events() if e.get("event") == "worker_crash_loop"]
