"""Measures shedding: the numbers behind the FCGI_BACKLOG default and nginx's
upstream timeouts (README "Overload").

    /usr/bin/python3 tests/faults/measure_overload.py [BUILD_DIR] [--backlogs 0,1,2,4,16]
        [--times 10] [--seconds 6] [--workers 2]

For each backlog it starts the real stack (default Argon2id cost), measures
register one request at a time (c1) and with as many clients as workers (cW:
the pool busy, nothing queued; its throughput is the capacity), then sends
an open-loop burst at --times the capacity and prints: statuses, p50/p99 of
the admitted requests, p50/p99/max of the shed ones.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faultstack import ROOT, Stack  # noqa: E402
import load  # noqa: E402


async def unloaded(port: int, n: int) -> list[float]:
    out = []
    for _ in range(n):
        r = await load.register(port, "unl-")
        assert r.status == 201, (r.status, r.body[:200])
        out.append(r.latency)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir", nargs="?", default=str(ROOT / "build"))
    ap.add_argument("--backlogs", default="")
    ap.add_argument("--times", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    backlogs = [b for b in args.backlogs.split(",") if b] or [""]
    print(f"{'backlog':>8} {'c1 p50':>8} {'c1 p99':>8} {'cW p50':>8} {'cW p99':>8} {'rate':>6} "
          f"{'sent':>5} {'201':>5} "
          f"{'503':>5} {'other':>5} {'adm p50':>8} {'adm p99':>8} {'shed p50':>8} "
          f"{'shed p99':>8} {'shed max':>8}")
    for b in backlogs:
        extra = {"FCGI_BACKLOG": b} if b else {}
        stack = Stack(Path(args.build_dir), workers=args.workers, env_extra=extra).start()
        try:
            port = stack.http_port
            base = asyncio.run(unloaded(port, 40))
            p50 = load.percentile(base, 50)
            busy = asyncio.run(load.closed_loop(lambda: load.register(port, "busy-"),
                                                args.workers, 4))
            busy_lat = [r.latency for r in busy if r.status == 201]
            capacity = len(busy_lat) / 4
            rate = args.times * capacity
            results = asyncio.run(load.open_loop(lambda: load.register(port, "ovl-"), rate,
                                                 args.seconds))
            ok = [r.latency for r in results if r.status == 201]
            shed = [r.latency for r in results if r.status == 503]
            other = len(results) - len(ok) - len(shed)
            ms = lambda v: f"{v * 1000:8.0f}"  # noqa: E731
            print(f"{b or 'default':>8} {ms(p50)} {ms(load.percentile(base, 99))} "
                  f"{ms(load.percentile(busy_lat, 50))} {ms(load.percentile(busy_lat, 99))} "
                  f"{rate:6.0f} "
                  f"{len(results):5d} {len(ok):5d} {len(shed):5d} {other:5d} "
                  f"{ms(load.percentile(ok, 50))} {ms(load.percentile(ok, 99))} "
                  f"{ms(load.percentile(shed, 50))} {ms(load.percentile(shed, 99))} "
                  f"{ms(max(shed) if shed else 0)}", flush=True)
        finally:
            stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
