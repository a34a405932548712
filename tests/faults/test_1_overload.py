"""Overload: an open-loop burst at 10x the pool's capacity (default Argon2id
cost). The excess is shed at once with nginx's 503 + Retry-After; what is
admitted keeps its latency (the queue holds about one request per worker);
nothing is lost or written twice."""
import asyncio

import load
from invariants import assert_clean_503, check_rows, summarise

TIMES = 10
SECONDS = 6
SHED_P99_LIMIT_S = 0.5  # "within a fraction of a second"
# Admitted p99 against the unloaded p99 (one request at a time). The issue
# asks for about 2x; 2.5x leaves room for the load generator and nginx,
# which share the machine's two cores with the workers during the burst.
ADMITTED_P99_FACTOR = 2.5


async def unloaded(port, n):
    out = []
    for _ in range(n):
        r = await load.register(port, "unl-")
        assert r.status == 201, (r.status, r.body[:200])
        out.append(r.latency)
    return out


def test_overload_is_shed_at_once_and_admitted_requests_stay_fast(stack):
    port = stack.http_port
    base = asyncio.run(unloaded(port, 40))
    p50, p99 = load.percentile(base, 50), load.percentile(base, 99)
    rate = TIMES * stack.workers / p50
    prefix = "ovl-"
    results = asyncio.run(load.open_loop(lambda: load.register(port, prefix), rate, SECONDS))
    admitted = [r.latency for r in results if r.status == 201]
    shed = [r for r in results if r.status == 503]
    adm_p99 = load.percentile(admitted, 99)
    shed_p99 = load.percentile([r.latency for r in shed], 99)
    rows = check_rows(stack, prefix, results)
    summarise("overload", results,
              f"unloaded p50 {p50 * 1000:.0f} ms p99 {p99 * 1000:.0f} ms; offered {rate:.0f}/s "
              f"for {SECONDS} s ({TIMES}x); admitted {len(admitted)} p50 "
              f"{load.percentile(admitted, 50) * 1000:.0f} ms p99 {adm_p99 * 1000:.0f} ms "
              f"({adm_p99 / p99:.2f}x unloaded p99); shed {len(shed)} p99 "
              f"{shed_p99 * 1000:.0f} ms; {rows}")
    assert {r.status for r in results} <= {201, 503}, load.status_counts(results)
    assert shed, "a 10x burst shed nothing: the queue is unbounded"
    assert admitted, "nothing was admitted"
    for r in shed:
        assert_clean_503(r)
    assert shed_p99 <= SHED_P99_LIMIT_S, f"shed p99 {shed_p99:.3f} s"
    assert adm_p99 <= ADMITTED_P99_FACTOR * p99, (
        f"admitted p99 {adm_p99 * 1000:.0f} ms > {ADMITTED_P99_FACTOR} x unloaded p99 "
        f"{p99 * 1000:.0f} ms: requests queue")
