"""A crash loop: every new worker dies at once (killed as soon as it
appears, from outside, so the production binary needs no hook). The master
slows its respawns down (0.1 s doubling to 3.2 s) and logs the loop instead
of forking as fast as it can; when the crashes stop, the pool comes back by
itself."""
import asyncio
import os
import signal
import time

import load

SECONDS = 5
MAX_FORKS = 15  # with the back-off about 8; without it, hundreds


def test_a_crash_loop_is_rate_limited_and_logged(stack):
    stack.mark_logs()
    initial = set(stack.workers_pids())
    forks = set()
    t_end = time.monotonic() + SECONDS
    while time.monotonic() < t_end:
        for pid in stack.workers_pids():
            if pid not in initial:
                forks.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.002)
    t0 = time.monotonic()
    stack.wait_ready(timeout=30)
    while len(stack.workers_pids()) < stack.processes:
        assert time.monotonic() - t0 < 30
        time.sleep(0.02)
    recovered = time.monotonic() - t0
    r = asyncio.run(load.register(stack.http_port, "loop-"))
    events = stack.worker_events()
    loops = [e for e in events if e.get("event") == "worker_crash_loop"]
    delays = sorted({e.get("respawn_delay_ms") for e in loops})
    print(f"\n[crash loop] workers killed at birth for {SECONDS} s: {len(forks)} forks "
          f"(bound {MAX_FORKS}); worker_crash_loop logged {len(loops)}x, delays {delays} ms; "
          f"pool back in {recovered:.1f} s; then register -> {r.status}")
    assert len(forks) <= MAX_FORKS, f"{len(forks)} forks in {SECONDS} s: a fork storm"
    assert loops, "the crash loop was not logged"
    assert recovered <= 5.0
    assert r.status == 201
