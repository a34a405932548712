"""SIGHUP under load: the master replaces its workers one at a time (the new
one first), and no request fails."""
import asyncio
import os
import signal
import time

import load
from invariants import check_rows, summarise

RELOADS = 3


def test_reload_replaces_every_worker_without_a_failed_request(stack):
    port = stack.http_port
    prefix = "hup-"
    master = stack.master.pid

    async def scenario():
        # As many clients as workers: the pool is busy but never overloaded,
        # so any failure is the reload's.
        work = asyncio.ensure_future(
            load.closed_loop(lambda: load.register(port, prefix), clients=stack.workers,
                             duration=3 * RELOADS + 2))
        took = []
        await asyncio.sleep(1.0)
        for _ in range(RELOADS):
            before = set(stack.workers_pids())
            t0 = time.monotonic()
            os.kill(master, signal.SIGHUP)
            while True:
                now = set(stack.workers_pids())
                if not (now & before) and len(now) >= stack.workers:
                    break
                assert time.monotonic() - t0 < 30, "the reload did not finish in 30 s"
                await asyncio.sleep(0.01)
            took.append(time.monotonic() - t0)
            await asyncio.sleep(2.0)
        return await work, took

    results, took = asyncio.run(scenario())
    rows = check_rows(stack, prefix, results)
    summarise("reload", results,
              f"{RELOADS} SIGHUPs, every worker replaced in "
              f"{', '.join(f'{t:.2f}' for t in took)} s; {rows}")
    assert load.status_counts(results) == {201: len(results)}, load.status_counts(results)
