"""SIGTERM under load: the master stops taking connections, the requests in
flight and those already queued are answered, and it exits within a bounded
time; everything after is nginx's clean 503. Runs last; it starts the pool
again afterwards."""
import asyncio
import signal
import time

import load
from invariants import assert_clean_503, check_rows, summarise

EXIT_WITHIN_S = 5.0


def test_sigterm_drains_and_exits_in_bounded_time(stack):
    port = stack.http_port
    prefix = "term-"
    stack.mark_logs()

    async def scenario():
        work = asyncio.ensure_future(
            load.closed_loop(lambda: load.register(port, prefix), clients=4, duration=5))
        await asyncio.sleep(2.0)
        t0 = time.monotonic()
        stack.master.send_signal(signal.SIGTERM)
        rc = await asyncio.to_thread(stack.master.wait, 60)
        exit_s = time.monotonic() - t0
        return await work, t0, exit_s, rc

    try:
        results, t_term, exit_s, rc = asyncio.run(scenario())
    finally:
        stack.start_pool()
        stack.wait_ready()
    in_flight = [r for r in results if r.started < t_term < r.ended]
    drained = [r for r in in_flight if r.status == 201]
    rows = check_rows(stack, prefix, results)
    summarise("sigterm", results,
              f"exit status {rc} after {exit_s:.2f} s; {len(in_flight)} in flight at SIGTERM, "
              f"{len(drained)} of them answered 201; {rows}")
    assert rc == 0
    assert exit_s <= EXIT_WITHIN_S
    assert {r.status for r in results} <= {201, 503}, load.status_counts(results)
    for r in results:
        if r.status == 503:
            assert_clean_503(r)
    assert drained, "nothing in flight was answered"
