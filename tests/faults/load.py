"""A small HTTP/1.1 load generator on asyncio (Debian's Python, no PyPI):
open loop (a fixed arrival rate, as a burst of users would arrive whether
or not the server keeps up) or closed loop (N clients, each sending its
next request when the last one was answered). One connection per request.

Every request is recorded: what was sent (kind, request id, email), when,
and what came back (status, problem code, Retry-After, latency), so a test
can count statuses, match them with rows and log lines, and time recovery.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    kind: str
    request_id: str
    started: float
    ended: float = 0.0
    status: int = 0  # 0: no HTTP answer (connection failed or timed out)
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    error: str = ""
    email: str = ""
    password: str = ""

    @property
    def latency(self) -> float:
        return self.ended - self.started

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str:
        body = self.json()
        return body.get("code", "") if isinstance(body, dict) else ""


async def request(port: int, method: str, path: str, body: dict | None = None,
                  headers: dict | None = None, kind: str = "", timeout: float = 60.0,
                  email: str = "", password: str = "") -> Result:
    rid = "flt-" + secrets.token_hex(8)
    res = Result(kind=kind or path, request_id=rid, started=time.monotonic(), email=email,
                 password=password)
    payload = json.dumps(body).encode() if body is not None else b""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"X-Request-ID: {rid}"]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
    writer = None
    try:
        async def exchange():
            nonlocal writer
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            return await reader.read()  # until nginx closes (Connection: close)
        data = await asyncio.wait_for(exchange(), timeout)
        res.ended = time.monotonic()
        head_bytes, _, res.body = data.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        res.status = int(lines[0].split()[1]) if lines and lines[0] else 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            res.headers[k.strip().lower()] = v.strip()
        if res.headers.get("transfer-encoding", "").lower() == "chunked":
            res.body = dechunk(res.body)
    except (OSError, asyncio.TimeoutError, IndexError, ValueError) as e:
        res.ended = time.monotonic()
        res.error = type(e).__name__ + ": " + str(e)
    finally:
        if writer is not None:
            writer.close()
    return res


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


def strong_password() -> str:
    return f"violet-{secrets.token_hex(6)}-Harbor-{secrets.randbelow(90) + 10}"


def register(port: int, prefix: str, timeout: float = 60.0):
    email = f"{prefix}{secrets.token_hex(6)}@example.com"
    password = strong_password()
    return request(port, "POST", "/auth/register", {"email": email, "password": password},
                   kind="register", email=email, password=password, timeout=timeout)


async def closed_loop(make, clients: int, duration: float) -> list[Result]:
    """`clients` loops, each sending make() until `duration` has passed."""
    results: list[Result] = []
    deadline = time.monotonic() + duration

    async def client():
        while time.monotonic() < deadline:
            results.append(await make())

    await asyncio.gather(*(client() for _ in range(clients)))
    return results


async def open_loop(make, rate: float, duration: float) -> list[Result]:
    """make() started `rate` times a second for `duration` seconds."""
    tasks = []
    start = time.monotonic()
    n = int(rate * duration)
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(make()))
    return list(await asyncio.gather(*tasks))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


def status_counts(results: list[Result]) -> dict:
    counts: dict = {}
    for r in results:
        key = r.status if r.status else "no-answer"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: str(kv[0])))
