"""SIGHUP under load: the master replaces its workers one at a time (the new
one first), and no request fails. Two loads: as many clients as workers
(busy, never overloaded: every answer must be 201), and a saturated pool
(the listen queue never empties: the reload must still finish promptly, and
the only 503s are nginx's shedding at connect, none from a worker cut off)."""
import asyncio
import os
import signal
import time

import load
from invariants import assert_clean_503, check_rows, summarise

RELOADS = 3
RELOAD_WITHIN_S = 5.0


async def reload_under(stack, prefix, clients, reloads):
    port = stack.http_port
    master = stack.master.pid
    work = asyncio.ensure_future(
        load.closed_loop(lambda: load.register(port, prefix), clients=clients,
                         duration=3 * reloads + 2))
    took = []
    await asyncio.sleep(1.0)
    for _ in range(reloads):
        before = set(stack.workers_pids())
        t0 = time.monotonic()
        os.kill(master, signal.SIGHUP)
        took.append(float("inf"))
        while time.monotonic() - t0 <= RELOAD_WITHIN_S:
            now = set(stack.workers_pids())
            if not (now & before) and len(now) >= stack.processes:
                took[-1] = time.monotonic() - t0
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(2.0)
    return await work, took


def test_reload_replaces_every_worker_without_a_failed_request(stack):
    prefix = "hup-"
    results, took = asyncio.run(reload_under(stack, prefix, stack.workers, RELOADS))
    rows = check_rows(stack, prefix, results)
    summarise("reload", results,
              f"{RELOADS} SIGHUPs at {stack.workers} clients, every worker replaced in "
              f"{', '.join(f'{t:.2f}' for t in took)} s; {rows}")
    assert max(took) <= RELOAD_WITHIN_S, f"a reload took over {RELOAD_WITHIN_S} s"
    assert load.status_counts(results) == {201: len(results)}, load.status_counts(results)


def test_reload_finishes_promptly_on_a_saturated_pool(stack):
    prefix = "hups-"
    stack.mark_logs()
    cut_before = stack.nginx_error_log.read_text(errors="replace").count("prematurely closed")
    results, took = asyncio.run(reload_under(stack, prefix, 4 * stack.workers, 2))
    cut = stack.nginx_error_log.read_text(errors="replace").count("prematurely closed") - cut_before
    died = [e for e in stack.worker_events() if e.get("event") == "worker_died"]
    rows = check_rows(stack, prefix, results)
    summarise("reload, saturated", results,
              f"2 SIGHUPs at {4 * stack.workers} clients, every worker replaced in "
              f"{', '.join(f'{t:.2f}' for t in took)} s; requests cut off {cut}; {rows}")
    assert max(took) <= RELOAD_WITHIN_S, f"a reload took over {RELOAD_WITHIN_S} s under load"
    assert {r.status for r in results} <= {201, 503}
    for r in results:
        if r.status == 503:
            assert_clean_503(r)
    assert cut == 0 and not died, "a worker was cut off mid-request"
