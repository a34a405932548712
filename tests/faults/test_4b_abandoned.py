"""A request nginx has given up on is not applied later. The workers are
frozen (SIGSTOP), registrations are queued on the pool's socket, and their
clients go away (nginx closes its side, as it also does when its read
timeout fires and it has answered 503). When the workers thaw, they find
those connections closed and run nothing: no row appears for a request
whose client got no 201."""
import asyncio
import os
import signal


import load
from invariants import summarise

# The listen queue is deep (bounded by time, not length): all of these wait
# in it, and every one is found abandoned.
QUEUED = 16


def test_abandoned_requests_are_not_run(stack):
    port = stack.http_port
    prefix = "gone-"
    stack.mark_logs()
    workers = stack.workers_pids()

    async def scenario():
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            # Clients that give up after 0.5 s: nginx sees them go and closes
            # the upstream connections still waiting in the queue.
            gone = await asyncio.gather(*(load.register(port, prefix, timeout=0.5)
                                          for _ in range(QUEUED)))
            await asyncio.sleep(0.5)
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
        await asyncio.sleep(1.0)
        after = await load.register(port, prefix)  # the pool still serves
        return gone, after

    gone, after = asyncio.run(scenario())
    rows = stack.emails_like(prefix)
    abandoned = [e for e in stack.worker_events() if e.get("event") == "request_abandoned"]
    summarise("abandoned requests", gone + [after],
              f"{len(gone)} clients gave up while queued; worker logged request_abandoned "
              f"{len(abandoned)}x; rows {len(rows)} (only the later 201's)")
    assert all(not r.status for r in gone), "a client that gave up got an answer"
    assert after.status == 201
    assert rows == {after.email}, f"rows for requests nobody waited for: {rows - {after.email}}"
    assert len(abandoned) == QUEUED, "every abandoned request is found so, none is run"

