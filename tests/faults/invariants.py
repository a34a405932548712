"""What every fault test checks and prints."""
from __future__ import annotations

import load

# The statuses the contract allows for a registration, nginx's included.
REGISTER_STATUSES = {201, 409, 422, 400, 413, 415, 429, 503}


def summarise(name: str, results, extra: str = "") -> None:
    counts = load.status_counts(results)
    total = sum(counts.values())
    lat = [r.latency for r in results if r.status]
    print(f"\n[{name}] sent {len(results)}; statuses {counts} (sum {total}); "
          f"latency p50 {load.percentile(lat, 50) * 1000:.0f} ms, "
          f"p99 {load.percentile(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000 if lat else 0:.0f} ms"
          + (f"; {extra}" if extra else ""))
    assert total == len(results)


def assert_clean_503(r) -> None:
    """nginx's or the worker's 503: a problem document with Retry-After."""
    assert r.status == 503
    assert r.headers.get("content-type", "").startswith("application/problem+json"), r.headers
    assert r.code == "unavailable", r.body[:200]
    ra = r.headers.get("retry-after", "")
    assert ra.isdigit() and int(ra) >= 1, f"Retry-After {ra!r}"


def unknown_outcome_ids(stack) -> set[str]:
    """Requests the worker answered 503 saying the outcome is unknown."""
    return {e.get("request_id", "") for e in stack.worker_events()
            if e.get("event") == "commit_outcome_unknown"}


def check_rows(stack, prefix: str, results, allowed_unanswered: set[str] | None = None) -> str:
    """No lost write (every 201 has its row), no phantom (no row without its
    201, except a request reported as such: `allowed_unanswered`)."""
    rows = stack.emails_like(prefix)
    created = {r.email for r in results if r.status == 201}
    lost = created - rows
    phantom = rows - created
    by_email = {r.email: r for r in results}
    explained = {e for e in phantom
                 if e in by_email and allowed_unanswered is not None
                 and by_email[e].request_id in allowed_unanswered}
    assert not lost, f"201 without a row: {sorted(lost)[:5]}"
    unexplained = phantom - explained
    assert not unexplained, (
        f"rows without a 201: {[(e, by_email[e].status if e in by_email else None) for e in sorted(unexplained)[:5]]}")
    return (f"rows {len(rows)} = 201s {len(created)} + reported-unknown {len(explained)}")
