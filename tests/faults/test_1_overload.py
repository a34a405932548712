"""Overload: an open-loop burst at 10x the pool's capacity (default Argon2id
cost). The excess is shed at once with nginx's 503 + Retry-After; what is
admitted keeps its latency (the queue holds about one request per worker);
nothing is lost or written twice.

Latencies are nginx's $request_time (the server side); the client's are
printed beside. "Unloaded" is measured two ways: one request at a time (c1), and as many
clients as workers (cW: the pool busy, nothing queued, whose throughput is
the capacity). On these 2-vCPU machines two hashes at once take about twice
as long each as one alone (the vCPUs share a core's resources), so no queue
length can bring a saturated pool's latency near c1: the queue's own cost is
judged against cW."""
import asyncio

import load
from invariants import assert_clean_503, check_rows, summarise

TIMES = 10
SECONDS = 6
SHED_P99_LIMIT_S = 0.5  # "within a fraction of a second"
# What the queue itself costs: an admitted request's wait before a worker
# takes it (nginx's request time less the worker's own), against the time
# a worker spends on one. With about one waiting request per worker it is at
# most about one request's time; a queue of hundreds waits 100x and more.
# Measured 0.7x to 1.0x on a quiet machine, 1.85x with a compiler running
# beside it on the two vCPUs: the bound sits well above the noise and far
# below what a queue costs.
WAIT_P99_FACTOR = 3.0
# The end-to-end figure, against the busy pool without a queue (cW). The
# burst's hundreds of 503s a second (nginx, the load generator) share the
# two vCPUs with the hashing workers and slow each request too, so this
# bound is looser than 2x: measured 1.7x to 3.2x here (README "Overload").
ADMITTED_P99_FACTOR = 4.0


async def baseline(port, clients, seconds):
    results = await load.closed_loop(lambda: load.register(port, "unl-"), clients, seconds)
    assert load.status_counts(results) == {201: len(results)}, load.status_counts(results)
    return results


def server_side(stack, results):
    """Latencies as nginx measured them ($request_time): at hundreds of
    requests a second the load generator's event loop lags, and that lag is
    not the server's."""
    times = stack.nginx_request_times()
    return [times[r.request_id] for r in results if r.request_id in times]


def test_overload_is_shed_at_once_and_admitted_requests_stay_fast(stack):
    port = stack.http_port
    c1 = server_side(stack, asyncio.run(baseline(port, 1, 3)))
    cw = server_side(stack, asyncio.run(baseline(port, stack.workers, 4)))
    cw_p99 = load.percentile(cw, 99)
    capacity = len(cw) / 4
    rate = TIMES * capacity
    prefix = "ovl-"
    results = asyncio.run(load.open_loop(lambda: load.register(port, prefix), rate, SECONDS))
    ok = [r for r in results if r.status == 201]
    admitted = server_side(stack, ok)
    worker_ms = {e.get("request_id"): e.get("duration_ms", 0) / 1000
                 for e in stack.worker_events(since_mark=False) if e.get("event") == "request"}
    times = stack.nginx_request_times()
    service = [worker_ms[r.request_id] for r in ok if r.request_id in worker_ms]
    waits = [times[r.request_id] - worker_ms[r.request_id] for r in ok
             if r.request_id in worker_ms and r.request_id in times]
    wait_p99, service_p99 = load.percentile(waits, 99), load.percentile(service, 99)
    client_p99 = load.percentile([r.latency for r in results if r.status == 201], 99)
    shed = [r for r in results if r.status == 503]
    adm_p99 = load.percentile(admitted, 99)
    shed_p99 = load.percentile([r.latency for r in shed], 99)
    rows = check_rows(stack, prefix, results)
    ms = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
    summarise("overload", results,
              f"unloaded c1 p50 {ms(load.percentile(c1, 50))} p99 {ms(load.percentile(c1, 99))}, "
              f"cW p50 {ms(load.percentile(cw, 50))} p99 {ms(cw_p99)}, capacity "
              f"{capacity:.0f}/s; offered {rate:.0f}/s for {SECONDS} s ({TIMES}x); admitted "
              f"{len(admitted)} p50 {ms(load.percentile(admitted, 50))} p99 {ms(adm_p99)} "
              f"({adm_p99 / cw_p99:.2f}x cW p99; at the client {ms(client_p99)}), of which waiting "
              f"p99 {ms(wait_p99)} against a worker's time p99 {ms(service_p99)} "
              f"({wait_p99 / service_p99:.2f}x); shed {len(shed)} p99 {ms(shed_p99)}; {rows}")
    assert {r.status for r in results} <= {201, 503}, load.status_counts(results)
    assert shed, "a 10x burst shed nothing: the queue is unbounded"
    assert admitted, "nothing was admitted"
    for r in shed:
        assert_clean_503(r)
    assert shed_p99 <= SHED_P99_LIMIT_S, f"shed p99 {shed_p99:.3f} s"
    assert len(waits) == len(ok), "admitted requests missing from the logs"
    assert wait_p99 <= WAIT_P99_FACTOR * service_p99, (
        f"admitted requests waited p99 {ms(wait_p99)} for a worker, > {WAIT_P99_FACTOR} x a "
        f"worker's time {ms(service_p99)}: requests queue")
    assert adm_p99 <= ADMITTED_P99_FACTOR * cw_p99, (
        f"admitted p99 {ms(adm_p99)} > {ADMITTED_P99_FACTOR} x the busy pool's p99 "
        f"{ms(cw_p99)}: requests queue")
