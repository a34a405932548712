"""Slow clients: bodies dripped a byte at a time, and bodies and headers
that stall. nginx holds them (it reads the whole body before it asks a
worker), cuts the stalled ones off after its client timeouts, and the
workers keep serving everyone else at their usual speed."""
import asyncio
import time

import load
from invariants import check_rows, summarise

DRIPPERS = 40
STALLERS = 40
CUT_WITHIN_S = 13.0  # client_body_timeout / client_header_timeout 10 s


async def slow_client(port, stall: bool, header_only: bool, until: float):
    """Returns seconds until nginx closed the connection (inf: never)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    t0 = time.monotonic()
    head = ("POST /auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 4000\r\n")
    try:
        writer.write(head.encode() if header_only else (head + "\r\n{\"email\":").encode())
        await writer.drain()
        while time.monotonic() < until:
            if not stall:
                writer.write(b" ")
                await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
                if not data:
                    return time.monotonic() - t0
            except asyncio.TimeoutError:
                pass
        return float("inf")
    except (ConnectionError, OSError):
        return time.monotonic() - t0
    finally:
        writer.close()


def test_slow_clients_are_cut_off_and_do_not_hold_workers(stack):
    port = stack.http_port
    prefix = "slow-"

    async def scenario():
        until = time.monotonic() + CUT_WITHIN_S + 1
        slow = [asyncio.ensure_future(slow_client(port, stall=i % 2 == 0,
                                                  header_only=i % 4 == 0, until=until))
                for i in range(DRIPPERS + STALLERS)]
        await asyncio.sleep(0.5)
        work = await load.closed_loop(lambda: load.register(port, prefix), clients=2,
                                      duration=CUT_WITHIN_S - 1)
        return work, await asyncio.gather(*slow)

    results, cut = asyncio.run(scenario())
    stalled = [c for i, c in enumerate(cut) if i % 2 == 0]
    dripped = [c for i, c in enumerate(cut) if i % 2 == 1]
    rows = check_rows(stack, prefix, results)
    lat = [r.latency for r in results]
    summarise("slow clients", results,
              f"{len(stalled)} stalled: cut after max {max(stalled):.1f} s; {len(dripped)} "
              f"dripping 1 byte/s: {sum(1 for c in dripped if c == float('inf'))} still held by "
              f"nginx, none reached a worker; {rows}")
    assert max(stalled) <= CUT_WITHIN_S, f"a stalled client held on for {max(stalled):.1f} s"
    assert load.status_counts(results) == {201: len(results)}, load.status_counts(results)
    assert load.percentile(lat, 99) < 2.0, "the workers were held up by slow clients"
