#!/usr/bin/python3
"""The benchmark: each endpoint against its physical ceiling, in one run.

    make bench           (bench/run.py)            about 8 minutes
    make bench-smoke     (bench/run.py --smoke)    a few seconds per run: proves it works
    bench/run.py --budgets 10,30,100               the admission table (README "Reliability")

Starts a private stack like scripts/e2e-stack.sh (MariaDB in a temp dir,
`authd serve` with its own defaults on a unix socket (API_WORKERS hashing
workers, API_FAST_WORKERS for the fast lane), nginx rendered from
nginx/authd.conf.template, IP_RATE_LIMIT=0, LOGLEVEL=INFO, the default
Argon2id cost) and, beside it, the ceilings, each behind its own nginx
rendered from the same template:
  hash        build/hash_ceiling: as many processes as cores doing Argon2id verify
  hash+commit the same, each verify followed by one durable INSERT (what a
              login, which must record its session, cannot go below here)
  fastcgi     build/fcgi_ceiling: a libfcgi prefork responder, fixed body, with
              as many processes as the fast lane that serves /health
  fcgi+read   build/fcgi_ceiling --read: the same, one primary-key SELECT each
Then wrk (one thread; Lua scripts in bench/lua; a closed loop whose clients
retry at once, ignoring Retry-After: the worst case) against /health,
/auth/verify, /auth/me, /auth/login, /auth/register, /auth/password at
concurrency 1, W, 4W, 16W and 64W (W = API_WORKERS). The machine is shared,
so the run is made of rounds (3 × 2 s by default): in each, every endpoint
runs right after the ceiling that bounds it, and the ratio reported is the
median of those paired ratios. Worker memory (PSS, /proc/PID/smaps_rollup)
is sampled all along; for the hash-bound runs the CPU is split between the
hashing workers (and, of it, what refusals cost: authd's own counter), the
fast lane, nginx, the database and wrk. Last, a login storm (64 clients)
while a token check and a /auth/me go out every 10 ms: their latency against
the same checks without the storm.

Writes var/bench/bench-<time>.json (raw figures), .png (throughput against
concurrency, ceilings as lines) and .txt (the table), and copies them to
var/bench/latest.*. Exit status: 0 when the run completed and its checks of
correctness held (every run got 2xx answers, no 500, no crashed worker,
revocation immediate); the performance targets are reported, not enforced,
unless --strict.

Knobs: BUILD_DIR [build], AUTHD_BIN [$BUILD_DIR/authd] (another build of
the server, e.g. an older one, against the same ceilings), --duration S,
--rounds N, --levels 1,2,8, --workers N, --fast-workers N, --only
health,verify,..., --out DIR, --keep (keep the temp dir), --hold (start the
stack and wait: profiling), --strict (exit 1 on a missed target),
--budgets B1,B2 (the admission table instead of the benchmark).
ARGON2_MEMORY_KIB / ARGON2_ITERATIONS / PASSWORD_PEPPER and the ADMISSION_*
settings are passed through like the server reads them (a cost below OWASP's
floor also needs AUTHD_TEST_WEAK_ARGON2=1, as the server demands).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LUA_DIR = ROOT / "bench" / "lua"

# What bounds each endpoint: (the ceiling, the share of it). A password
# change is two hashes: half the Argon2id ceiling.
BOUNDS = {
    "login": ("hash", 1.0),
    "password": ("hash", 0.5),
    "register": ("hash", 1.0),
    "health": ("fastcgi", 1.0),
    "verify": ("fcgi+read", 1.0),
    "me": ("fcgi+read", 1.0),
}
# The targets (issue 13): the median paired ratio to the ceiling, over the
# levels named as multiples of W (API_WORKERS).
TARGETS = [
    {"name": "login", "want": 0.90, "factors": (4, 16)},
    {"name": "login", "want": 0.75, "factors": (64,)},
    {"name": "password", "want": 0.90, "factors": (4, 16)},
    {"name": "register", "want": 0.85, "factors": (4, 16)},
    {"name": "health", "want": 0.85, "factors": (4, 16, 64)},
    {"name": "verify", "want": 0.85, "factors": (4, 16, 64)},
    {"name": "me", "want": 0.85, "factors": (4, 16, 64)},
]
# The fast lane during a login storm: p99 at most this, or 3x unloaded.
STORM_P99_FLOOR_MS = 10.0
STORM_CLIENTS = 64
IDLE_PSS_MAX_MIB = 8.0
PEAK_PSS_OVER_ARGON2_MIB = 8.0

STRONG_WORDS = ["violet", "harbor", "lantern", "quartz", "meadow", "falcon", "copper", "juniper",
                "orbit", "saffron", "glacier", "tundra", "walnut", "ember", "sable", "cobalt"]


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def strong_password() -> str:
    w1, w2 = secrets.choice(STRONG_WORDS), secrets.choice(STRONG_WORDS).capitalize()
    return f"{w1}-{secrets.token_hex(5)}-{w2}-{secrets.randbelow(90) + 10}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- memory ----------------------------------------------------------------------


def pss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class MemorySampler(threading.Thread):
    """Samples the PSS of every worker of the pool every `period` seconds;
    keeps the maximum per worker, per labelled phase."""

    def __init__(self, master_pid: int, period: float = 0.05):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.period = period
        self.phase = "idle"
        self.peaks: dict[str, int] = {}  # phase -> max PSS (KiB) of any worker
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stop_event.is_set():
            for pid in children_of(self.master_pid):
                v = pss_kib(pid)
                if v is None:
                    continue
                with self.lock:
                    if v > self.peaks.get(self.phase, 0):
                        self.peaks[self.phase] = v
            self.stop_event.wait(self.period)

    def set_phase(self, phase: str) -> None:
        with self.lock:
            self.phase = phase

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def workers_pss(master_pid: int) -> dict[int, int]:
    return {pid: v for pid in children_of(master_pid) if (v := pss_kib(pid)) is not None}


# --- the stack -------------------------------------------------------------------


class Stack:
    """The private database, authd, the two FastCGI ceiling responders and one
    nginx in front of each, all in a temp dir, all stopped by close()."""

    def __init__(self, build_dir: Path, keep: bool, workers: int | None = None,
                 fast_workers: int | None = None, backlog: int | None = None,
                 extra_env: dict[str, str] | None = None):
        self.build_dir = build_dir
        self.workers_setting = workers  # None: the server's default
        self.fast_workers_setting = fast_workers
        self.workers = workers or 0  # as the server reports them once started
        self.fast_workers = fast_workers or 0
        self.keep = keep
        self.extra_env = extra_env or {}
        self.tmp = Path(tempfile.mkdtemp(prefix="authd-bench."))
        os.chmod(self.tmp, 0o700)
        (self.tmp / "run").mkdir()
        (self.tmp / "log").mkdir()
        self.procs: list[tuple[str, subprocess.Popen, int]] = []  # name, process, stop signal
        self.db_started = False
        self.env: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        self.access_logs: dict[str, Path] = {}
        self.authd: subprocess.Popen | None = None
        self.backlog = 0
        self.backlog_override = backlog
        self.closed = False
        self.masters: dict[str, int] = {}  # url key -> pid whose children serve FastCGI
        self.nginx_pids: dict[str, int] = {}  # url key -> nginx master

    def log(self, name: str) -> Path:
        return self.tmp / "log" / name

    def spawn(self, name: str, argv: list[str], env: dict[str, str], stop_signal: int,
              stdout=subprocess.DEVNULL) -> subprocess.Popen:
        err = open(self.log(f"{name}.log"), "ab")
        p = subprocess.Popen(argv, env=env, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        err.close()
        self.procs.append((name, p, stop_signal))
        return p

    def start(self) -> None:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("MYSQL")}
        # --- database
        db_dir = self.tmp / "mysql"
        # Once more on a fresh directory if it fails: mariadb-install-db has
        # been seen to fail once on a machine loaded by other jobs.
        for attempt in (1, 2):
            port = free_port()
            with open(self.log("mariadb-start.log"), "ab") as out:
                rc = subprocess.run([str(ROOT / "scripts/mariadb.sh"), "start", str(db_dir),
                                     str(port)], env=base_env, stdout=out,
                                    stderr=subprocess.STDOUT).returncode
            self.db_started = True
            if rc == 0:
                break
            subprocess.run([str(ROOT / "scripts/mariadb.sh"), "wipe", str(db_dir)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if attempt == 2:
                raise RuntimeError("the private MariaDB did not start (mariadb-start.log)")
            say("the private MariaDB did not start; trying once more")
        db_env = {}
        for line in (db_dir / "env.run").read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                db_env[k] = v
        # --- authd
        env = dict(base_env)
        env.update(db_env)
        for k in ("DEFAULT_TOKEN_EXPIRY", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_ALG",
                  "PASSWORD_MIN_LENGTH", "PASSWORD_MIN_STRENGTH", "TRUSTED_PROXIES",
                  "FCGI_BACKLOG", "LOGLEVEL"):
            env.pop(k, None)
        env.update({
            "SECRET_KEY": secrets.token_urlsafe(48),
            "MFA_ENCRYPTION_KEY": secrets.token_hex(32),
            "LOGLEVEL": "INFO",
            "FCGI_LISTEN": str(self.tmp / "run/authd.sock"),
        })
        for k in ("API_WORKERS", "API_FAST_WORKERS"):
            env.pop(k, None)
        if self.workers_setting:
            env["API_WORKERS"] = str(self.workers_setting)
        if self.fast_workers_setting is not None:
            env["API_FAST_WORKERS"] = str(self.fast_workers_setting)
        if self.backlog_override:
            env["FCGI_BACKLOG"] = str(self.backlog_override)
        env.update(self.extra_env)
        self.env = env
        # AUTHD_BIN: another build of the server (an older one, to compare),
        # measured against the same ceilings.
        authd = os.environ.get("AUTHD_BIN") or str(self.build_dir / "authd")
        with open(self.log("migrate.log"), "wb") as out:
            subprocess.run([authd, "migrate"], env=env, stdout=out, stderr=subprocess.STDOUT,
                           check=True)
        self.authd = self.spawn("worker", [authd, "serve"], env, signal.SIGTERM)
        self.masters["authd"] = self.authd.pid
        self.wait_for_socket(self.tmp / "run/authd.sock", self.authd)
        # What the pool runs with, as it says when it starts listening.
        text = self.log("worker.log").read_text()
        for key in ("backlog", "workers", "fast_workers"):
            m = re.search(r'"event":"listening".*?"%s":(\d+)' % key, text)
            if m:
                setattr(self, key, int(m.group(1)))
        self.start_nginx("authd", "authd.sock")
        self.wait_for_200(self.urls["authd"] + "/health/ready")

    def lanes(self) -> dict[str, list[int]]:
        """The pool's worker pids by lane, from the request log lines (each
        names its pid and lane); workers that served nothing yet are not
        known."""
        out: dict[str, set[int]] = {"hashing": set(), "fast": set()}
        alive = set(children_of(self.masters["authd"]))
        for m in re.finditer(r'"pid":(\d+),"event":"request".*?"lane":"(\w+)"',
                             self.log("worker.log").read_text(errors="replace")):
            pid = int(m.group(1))
            if pid in alive:
                out.setdefault(m.group(2), set()).add(pid)
        return {k: sorted(v) for k, v in out.items()}

    def start_nginx(self, name: str, sock: str) -> None:
        tag = {"authd": "authd", "fastcgi": "fixed", "fcgi+read": "read"}[name]
        http_port = free_port()
        prefix = self.tmp / f"nginx-{tag}"
        access = self.log(f"nginx-{tag}-access.log")
        render_env = {k: v for k, v in os.environ.items()
                      if k not in ("TRUSTED_PROXIES", "AUTH_REQUEST_EXAMPLE_PORT",
                                   "AUTH_REQUEST_EXAMPLE_UPSTREAM_PORT")}
        render_env.update({
            "HTTP_PORT": str(http_port), "IP_RATE_LIMIT": "0", "NGINX_PREFIX": str(prefix),
            "NGINX_ACCESS_LOG": str(access),
            "NGINX_ERROR_LOG": str(self.log(f"nginx-{tag}-error.log")),
            "FCGI_TARGET": str(self.tmp / "run" / sock), "NGINX_LISTEN_ADDR": "127.0.0.1",
        })
        # authd's two lanes as the pool runs them; a ceiling has one socket.
        if name == "authd":
            render_env["API_FAST_WORKERS"] = str(self.fast_workers)
        else:
            render_env["API_FAST_WORKERS"] = "0"
        subprocess.run([str(ROOT / "nginx/render.sh"), str(prefix / "nginx.conf")],
                       env=render_env, check=True)
        p = self.spawn(f"nginx-{tag}", ["nginx", "-e", str(self.log(f"nginx-{tag}-error.log")),
                                        "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                       render_env, signal.SIGQUIT)
        self.nginx_pids[name] = p.pid
        self.urls[name] = f"http://127.0.0.1:{http_port}"
        self.access_logs[name] = access

    def start_ceilings(self) -> None:
        """The two ceiling responders, each behind its own nginx, with as many
        processes as the lane that serves the cheap routes (the fast lane;
        the hashing lane when there is none) and the pool's backlog. The
        read one needs a session in the database: start it after a login."""
        ceiling = str(self.build_dir / "fcgi_ceiling")
        procs = self.fast_workers or self.workers
        for name, tag, extra in (("fastcgi", "fixed", []), ("fcgi+read", "read", ["--read"])):
            sock = self.tmp / "run" / f"ceiling-{tag}.sock"
            p = self.spawn(f"ceiling-{tag}",
                           [ceiling, "--listen", str(sock), "--workers", str(procs),
                            "--backlog", str(self.backlog)] + extra, self.env, signal.SIGTERM)
            self.wait_for_socket(sock, p)
            self.masters[name] = p.pid
            self.start_nginx(name, sock.name)
        for name in ("fastcgi", "fcgi+read"):
            self.wait_for_200(self.urls[name] + "/health")

    def wait_for_200(self, url: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            self.check_alive()
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer 200 in 30 s")
            time.sleep(0.1)

    def wait_for_socket(self, path: Path, p: subprocess.Popen) -> None:
        for _ in range(300):
            if path.exists():
                return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{path.name} did not appear; see {self.tmp}/log")

    def check_alive(self) -> None:
        for name, p, _ in self.procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited (status {p.returncode}); see its log")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for name, p, sig in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
        for name, p, sig in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)  # stragglers of its group
            except ProcessLookupError:
                pass
            p.wait()
        if self.db_started:
            subprocess.run([str(ROOT / "scripts/mariadb.sh"), "stop", str(self.tmp / "mysql")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.keep:
            say(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- the load --------------------------------------------------------------------


def access_statuses(path: Path, start: int, window: tuple[float, float] | None = None
                    ) -> tuple[dict[str, int], int, list[float]]:
    """Counts the statuses nginx logged after byte `start` of its access log
    (within `window`, wall-clock seconds, when given), how many of those
    answers a FastCGI worker gave (nginx's own 503 for a full queue logs
    upstream_status 502: the worker never saw it), and the request times of
    the 2xx ones (seconds)."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    counts: dict[str, int] = {}
    served = 0
    ok_times: list[float] = []
    for m in re.finditer(rb'"msec":([0-9.]+),.*?"status":(\d+),.*?"request_time":([0-9.]+),'
                         rb'"upstream_status":"([^"]*)"', data):
        if window and not window[0] <= float(m.group(1)) < window[1]:
            continue
        k = m.group(2).decode()
        counts[k] = counts.get(k, 0) + 1
        if m.group(4) not in (b"", b"-", b"502", b"504"):
            served += 1
        if k.startswith("2"):
            ok_times.append(float(m.group(3)))
    return counts, served, ok_times


def admission_counters(metrics_url: str | None) -> dict[str, float]:
    """authd's own refusal counters (the pool's /metrics)."""
    if not metrics_url:
        return {}
    try:
        text = requests.get(metrics_url, timeout=5).text
    except requests.RequestException:
        return {}
    out = {}
    for key, pattern in (("refusal_cpu_s", r"^authd_admission_refusal_cpu_seconds_total (\S+)"),
                         ("refused", r'^authd_admission_refused_total\{lane="hashing"\} (\S+)')):
        m = re.search(pattern, text, re.M)
        if m:
            out[key] = float(m.group(1))
    return out


def wrk(url: str, script: str, connections: int, seconds: float, env: dict[str, str],
        access_log: Path, backend_master: int | None = None,
        cpu_groups: dict[str, list[int]] | None = None, metrics_url: str | None = None,
        warmup: float = 0.0) -> dict:
    """One wrk run. With `backend_master`, the CPU its children (the FastCGI
    workers) spent is counted too; with `cpu_groups`, the CPU each group of
    processes spent (cores), wrk's own, and what refusals cost authd. With
    `warmup`, wrk runs that much longer and only the last `seconds` count
    (goodput and latency from nginx's log): the steady state, past the
    admission interval."""
    start = access_log.stat().st_size if access_log.exists() else 0
    backend = children_of(backend_master) if backend_master else []
    cpu_before = cpu_seconds(backend)
    groups_before = {k: cpu_seconds(v) for k, v in (cpu_groups or {}).items()}
    counters_before = admission_counters(metrics_url)
    own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_env = dict(os.environ)
    run_env.update(env)
    run_env["BENCH_LUA_DIR"] = str(LUA_DIR)
    run_env["BENCH_RUN_ID"] = secrets.token_hex(4)
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds + warmup))}s",
            "--timeout", "10s", "-s", str(LUA_DIR / script), url]
    wall_start = time.time()
    t0 = time.monotonic()
    out = subprocess.run(argv, env=run_env, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.monotonic() - t0
    own_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()} {out.stdout[-500:]}")
    r = json.loads(line[len("BENCH_JSON "):])
    split = None
    if cpu_groups:
        split = {k: round((cpu_seconds(v) - groups_before[k]) / wall, 3)
                 for k, v in cpu_groups.items()}
        split["wrk"] = round((own_after.ru_utime - own_before.ru_utime + own_after.ru_stime -
                              own_before.ru_stime) / wall, 3)
        counters_after = admission_counters(metrics_url)
        if "refusal_cpu_s" in counters_after and "refusal_cpu_s" in counters_before:
            split["refusals"] = round((counters_after["refusal_cpu_s"] -
                                       counters_before["refusal_cpu_s"]) / wall, 3)
    time.sleep(0.3)  # nginx logs the last answers (and the cut connections)
    cpu = cpu_seconds(backend) - cpu_before
    window = (wall_start + warmup, wall_start + warmup + seconds) if warmup else None
    statuses, served, ok_times = access_statuses(access_log, start, window)
    secs = seconds if warmup else r["duration_us"] / 1e6
    # Answers cut by wrk stopping at the end of the run (499) are nobody's error.
    cut = statuses.pop("499", 0)
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    non2xx = {s: n for s, n in statuses.items() if not s.startswith("2")}
    socket_errors = sum(r["errors"][k] for k in ("connect", "read", "write", "timeout"))
    return {
        "connections": connections,
        "seconds": round(secs, 3),
        "requests": r["requests"],
        "ok": ok,
        "rps": round(r["requests"] / secs, 2),
        "ok_rps": round(ok / secs, 2),  # goodput: 2xx answers per second
        # wrk's figures (every answer), or with a warm-up nginx's, of the 2xx
        # answers in the window.
        "p50_ms": (percentile(ok_times, 50) * 1000 if warmup else r["latency_us"]["p50"] / 1000),
        "p90_ms": (percentile(ok_times, 90) * 1000 if warmup else r["latency_us"]["p90"] / 1000),
        "p99_ms": (percentile(ok_times, 99) * 1000 if warmup else r["latency_us"]["p99"] / 1000),
        "max_ms": (max(ok_times, default=0) * 1000 if warmup else r["latency_us"]["max"] / 1000),
        "warmup_s": warmup,
        "non2xx": non2xx,
        "cut_at_end": cut,
        "socket_errors": socket_errors,
        "wrk_errors": r["errors"],
        # CPU the FastCGI workers spent per request they answered (user +
        # system): less noisy than throughput on a shared machine.
        "backend_cpu_us": round(1e6 * cpu / max(served, 1), 1) if backend else None,
        "cpu_split": split,
    }


class Client:
    """A few calls the harness makes itself (setup and the revocation check)."""

    def __init__(self, base: str):
        self.base = base
        self.s = requests.Session()

    def register(self, email: str, password: str) -> None:
        r = self.s.post(self.base + "/auth/register", json={"email": email, "password": password},
                        timeout=30)
        if r.status_code != 201:
            raise RuntimeError(f"register {email}: {r.status_code} {r.text[:200]}")

    def login(self, email: str, password: str) -> str:
        r = self.s.post(self.base + "/auth/login", json={"email": email, "password": password},
                        timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"login {email}: {r.status_code} {r.text[:200]}")
        return r.json()["access_token"]

    def get(self, path: str, token: str) -> int:
        return self.s.get(self.base + path, headers={"Authorization": f"Bearer {token}"},
                          timeout=30).status_code

    def logout(self, token: str) -> int:
        return self.s.post(self.base + "/auth/logout",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def register_many(base: str, emails: list[str], password: str, parallel: int) -> None:
    def one(email: str) -> None:
        Client(base).register(email, password)
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, emails))


# --- the report ------------------------------------------------------------------

LABELS = {
    "fastcgi": "ceiling: FastCGI",
    "fcgi+read": "ceiling: FastCGI+read",
    "hash": "ceiling: Argon2id",
    "hash+commit": "ceiling: Argon2id+commit",
    "health": "GET /health",
    "verify": "GET /auth/verify",
    "me": "GET /auth/me",
    "login": "POST /auth/login",
    "register": "POST /auth/register",
    "password": "POST /auth/password",
}


def best(runs: list[dict]) -> float:
    return max((r["ok_rps"] for r in runs), default=0.0)


def build_table(res: dict) -> str:
    w = res["config"]["workers"]
    procs = res["config"].get("hash_processes", w)
    hash_c = res["ceilings"]["hash"]["per_second"]
    commit_c = res["ceilings"]["hash+commit"]["per_second"]
    lines = []
    hdr = f"{'endpoint':<24}{'conc':>5}{'2xx/s':>10}{'p50 ms':>9}{'p99 ms':>9}" \
          f"{'non-2xx':>14}{'cpu µs':>9}{'ceiling/s':>11}{'ratio':>7}{'vs h+c':>8}"
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for key in ("hash", "hash+commit"):
        h = res["ceilings"][key]
        lines.append(f"{LABELS[key]:<24}{procs:>5}{h['per_second']:>10.1f}"
                     f"{h['ms_per_verify']:>9.1f}")
    for name in ("fastcgi", "fcgi+read", "health", "verify", "me", "login", "register", "password"):
        for r in res["runs"].get(name, []):
            c = r["connections"]
            ceiling = None
            if name in BOUNDS and BOUNDS[name][0] == "hash":
                ceiling = hash_c * BOUNDS[name][1]
            elif name in BOUNDS:
                ceiling = next((x["ok_rps"] for x in res["runs"].get(BOUNDS[name][0], [])
                                if x["connections"] == c), None)
            non2xx = ",".join(f"{n}×{s}" for s, n in sorted(r["non2xx"].items())) or "0"
            if r["socket_errors"]:
                non2xx += f" +{r['socket_errors']}sock"
            cpu = r.get("backend_cpu_us")
            cpu_s = (f"{cpu:.0f}" if cpu < 10000 else f"{cpu / 1000:.1f}k") if cpu else ""
            ceil_s = f"{ceiling:.1f}" if ceiling else ""
            ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else ""
            ratio_hc = f"{r['ratio_hc']:.2f}" if r.get("ratio_hc") is not None else ""
            lines.append(f"{LABELS[name]:<24}{c:>5}{r['ok_rps']:>10.1f}{r['p50_ms']:>9.2f}"
                         f"{r['p99_ms']:>9.2f}{non2xx:>14}{cpu_s:>9}{ceil_s:>11}{ratio:>7}"
                         f"{ratio_hc:>8}")
    lines.append("")
    lines.append("2xx/s, p50, p99, cpu: the median of the rounds. ceiling/s: the matching ceiling's "
                 "median: FastCGI ones at the same")
    lines.append(f"concurrency; Argon2id saturated ({procs} processes verifying; half of it for "
                 "/auth/password's two hashes). ratio: the median")
    lines.append("over the rounds of (endpoint / the ceiling run just before it). vs h+c: the same "
                 "against verify + one durable commit")
    lines.append("per process, what a login cannot go below on this database. cpu µs: CPU the "
                 "FastCGI workers spent per answered request.")
    lines.append("non-2xx: status×count from nginx's access log (499s cut by wrk's end not "
                 "counted); 503s above W are admission refusals.")
    lines.append(f"Hash-bound runs above W are measured after {res['config'].get('admission_interval_s', 3) + 0.5:.1f} s "
                 "of load (past the admission interval: the steady state), p50/p99 from nginx's "
                 "log (2xx answers).")
    # Where the CPU went in the hash-bound runs beyond W (the median round).
    split_rows = [(name, r) for name in ("login", "register", "password")
                  for r in res["runs"].get(name, []) if r.get("cpu_split") and r["connections"] > w]
    if split_rows:
        lines.append("")
        lines.append("CPU split, cores (of the machine's "
                     f"{res['machine']['cores']}): hashing workers (refusals: what of it went to "
                     "refusing), fast lane, nginx, database, wrk")
        for name, r in split_rows:
            sp = r["cpu_split"]
            lines.append(f"  {LABELS[name]:<22}c={r['connections']:<4} hashing "
                         f"{sp.get('hashing', 0):.2f} (refusals {sp.get('refusals', 0):.3f}), "
                         f"fast {sp.get('fast', 0):.2f}, nginx {sp.get('nginx', 0):.2f}, "
                         f"db {sp.get('db', 0):.2f}, wrk {sp.get('wrk', 0):.2f}")
    storm = res.get("storm")
    if storm:
        lines.append("")
        lines.append(f"fast lane during a login storm ({storm['clients']} clients on /auth/login, "
                     f"{storm['storm_login_rps']:.1f} 2xx/s, refused {storm['storm_refused']}): "
                     "nginx's time, ms")
        for route, d in storm["routes"].items():
            lines.append(f"  {route:<14} unloaded p50 {d['unloaded_p50_ms']:.2f} p99 "
                         f"{d['unloaded_p99_ms']:.2f}; storm p50 {d['storm_p50_ms']:.2f} p99 "
                         f"{d['storm_p99_ms']:.2f} (bound {d['bound_ms']:.1f}); statuses "
                         f"{d['statuses']}")
    return "\n".join(lines)


def level_factor(c: int, w: int) -> float:
    return c / w if w else 0.0


def judge(res: dict) -> list[dict]:
    """The targets of issue 13, each with the figures it was judged on."""
    w = res["config"]["workers"]
    out = []
    for t in TARGETS:
        name = t["name"]
        ref, share = BOUNDS[name]
        levels = [f * w for f in t["factors"]]
        judged = [r for r in res["runs"][name] if r["connections"] in levels]
        # The median of every paired ratio (each round, each level): no
        # level picked for its luck.
        pooled = sorted(x for r in judged for x in r.get("ratio_rounds", []))
        ratio = pooled[(len(pooled) - 1) // 2] if pooled else 0.0
        what = (f"{name} ≥ {t['want']:.2f} × {ref}" + (" / 2" if share != 1 else "")
                + f" at {', '.join(f'{f}W' for f in t['factors'])}")
        detail = f"median of {len(pooled)} paired ratios at c={','.join(map(str, levels))}"
        if judged:
            detail += "; per level " + ", ".join(f"{r['connections']}: {r.get('ratio')}"
                                                 for r in judged)
        if ref == "hash":
            pooled_hc = sorted(x for r in judged for x in r.get("ratio_hc_rounds", []))
            if pooled_hc:
                detail += f"; {pooled_hc[(len(pooled_hc) - 1) // 2]:.2f} of Argon2id+commit"
        out.append({"target": what, "value": round(ratio, 3), "want": t["want"],
                    "ok": bool(judged) and ratio >= t["want"], "detail": detail,
                    "paired_ratios": pooled})
    if res["checks"].get("revocation_immediate") is not None:
        out.append({"target": "revocation immediate (verify, me: 401 right after logout)",
                    "value": res["checks"]["revocation_immediate"], "want": True,
                    "ok": bool(res["checks"]["revocation_immediate"]), "detail": ""})
    # Statuses: nothing but 2xx up to W connections (no queue); beyond, the
    # hash-bound routes may refuse (503, admission), the fast lane never.
    low, refusals, other = 0, 0, 0
    for name in ("health", "verify", "me", "login", "register", "password"):
        for r in res["runs"][name]:
            bad = sum(r["non2xx"].values()) + r["socket_errors"]
            if r["connections"] <= w or BOUNDS[name][0] != "hash":
                low += bad
            else:
                refusals += r["non2xx"].get("503", 0)
                other += bad - r["non2xx"].get("503", 0)
    out.append({"target": f"no non-2xx up to {w} connections, nor ever on the fast lane",
                "value": low, "want": 0, "ok": low == 0, "detail": ""})
    out.append({"target": f"hash-bound, above {w}: only admission refusals (503)", "value": other,
                "want": 0, "ok": other == 0, "detail": f"{refusals} refusals counted"})
    storm = res.get("storm")
    if storm:
        for route, d in storm["routes"].items():
            out.append({"target": f"{route} during the login storm: p99 ≤ max({STORM_P99_FLOOR_MS:.0f} "
                                  "ms, 3 × unloaded), every answer 2xx",
                        "value": round(d["storm_p99_ms"], 2), "want": round(d["bound_ms"], 2),
                        "ok": d["storm_p99_ms"] <= d["bound_ms"] and d["non2xx"] == 0,
                        "detail": f"unloaded p99 {d['unloaded_p99_ms']:.2f} ms; "
                                  f"statuses {d['statuses']}"})
    mem = res["memory"]
    argon2_mib = res["config"]["argon2_memory_kib"] / 1024
    idle = mem["idle_after_mib"]
    peak = mem["peak_mib"]
    out.append({"target": f"idle worker PSS ≤ {IDLE_PSS_MAX_MIB:.0f} MiB", "value": idle,
                "want": IDLE_PSS_MAX_MIB, "ok": idle <= IDLE_PSS_MAX_MIB,
                "detail": f"before load {mem['idle_before_mib']} MiB"})
    out.append({"target": f"peak worker PSS ≤ Argon2id {argon2_mib:.0f} MiB + "
                          f"{PEAK_PSS_OVER_ARGON2_MIB:.0f} MiB",
                "value": peak, "want": argon2_mib + PEAK_PSS_OVER_ARGON2_MIB,
                "ok": peak <= argon2_mib + PEAK_PSS_OVER_ARGON2_MIB,
                "detail": f"RSS high-water mark {mem['hwm_mib']} MiB"})
    return out


def plot(res: dict, png: Path, tmp: Path) -> None:
    """Throughput against concurrency, ceilings as horizontal lines (gnuplot)."""
    def data(name: str) -> str:
        p = tmp / f"plot-{name.replace('+', '_')}.dat"
        p.write_text("".join(f"{r['connections']} {r['ok_rps']}\n" for r in res["runs"][name]))
        return str(p)
    levels = res["config"]["levels"]
    hash_c = res["ceilings"]["hash"]["per_second"]
    commit_c = res["ceilings"]["hash+commit"]["per_second"]
    fcgi = best(res["runs"]["fastcgi"])
    read = best(res["runs"]["fcgi+read"])
    xr = f"[{levels[0] * 0.8}:{levels[-1] * 1.25}]"
    script = f"""
set terminal pngcairo size 1400,620 font 'DejaVu Sans,10'
set output '{png}'
set multiplot layout 1,2 title "authd on {res['machine']['cores']} cores, {res['config']['workers']} workers — {res['started']}"
set logscale x 2
set xlabel 'concurrent connections (wrk)'
set ylabel '2xx answers per second'
set grid
set key outside below horizontal maxrows 2
set xtics ({', '.join(str(c) for c in levels)})
set title 'Cheap endpoints (bound by a FastCGI round trip)'
set yrange [0:{max(fcgi, read, best(res['runs']['health'])) * 1.15}]
plot {xr} {fcgi} with lines dt 2 lw 2 lc rgb '#555555' title 'ceiling: FastCGI', \\
     {read} with lines dt 4 lw 2 lc rgb '#999999' title 'ceiling: FastCGI + read', \\
     '{data('health')}' with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'GET /health', \\
     '{data('verify')}' with linespoints lw 2 pt 5 lc rgb '#d62728' title 'GET /auth/verify', \\
     '{data('me')}' with linespoints lw 2 pt 9 lc rgb '#2ca02c' title 'GET /auth/me'
set title 'Hash-bound endpoints (Argon2id {res['config']['argon2_memory_kib'] // 1024} MiB, t={res['config']['argon2_iterations']})'
set yrange [0:{hash_c * 1.15}]
plot {xr} {hash_c} with lines dt 2 lw 2 lc rgb '#555555' title 'ceiling: Argon2id verify', \\
     {hash_c / 2} with lines dt 4 lw 2 lc rgb '#999999' title 'half of it (two hashes)', \\
     {commit_c} with lines dt 3 lw 1 lc rgb '#bb5555' title 'ceiling: verify + durable commit', \\
     '{data('login')}' with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'POST /auth/login', \\
     '{data('register')}' with linespoints lw 2 pt 5 lc rgb '#d62728' title 'POST /auth/register', \\
     '{data('password')}' with linespoints lw 2 pt 9 lc rgb '#2ca02c' title 'POST /auth/password'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def render_report(res: dict) -> str:
    """The table, the memory line and the summary of the targets."""
    lines = [build_table(res), ""]
    mem = res["memory"]
    lines.append(f"worker PSS: idle {mem['idle_before_mib']} MiB before load, "
                 f"{mem['idle_after_mib']} MiB after; peak {mem['peak_mib']} MiB "
                 f"(RSS high-water {mem['hwm_mib']} MiB)")
    if res.get("targets"):
        for t in res["targets"]:
            lines.append(f"  [{'ok ' if t['ok'] else 'MISS'}] {t['target']}: {t['value']}"
                         + (f"  ({t['detail']})" if t["detail"] else ""))
        met = sum(1 for t in res["targets"] if t["ok"])
        lines.append(f"targets: {met}/{len(res['targets'])} met "
                     f"(load average {res['machine']['loadavg_before']} before, "
                     f"{res['machine']['loadavg_after']} after; {res['seconds_total']} s)")
    return "\n".join(lines)


def rerender(json_path: Path) -> int:
    """--report FILE.json: the table, summary and plot again from saved raw
    figures (with this version's judging), beside the file."""
    res = json.loads(json_path.read_text())
    if set(res["runs"]) >= set(BOUNDS):
        res["targets"] = judge(res)
    report = render_report(res)
    json_path.with_suffix(".txt").write_text(report + "\n")
    if res.get("targets"):
        with tempfile.TemporaryDirectory() as tmp:
            plot(res, json_path.with_suffix(".png"), Path(tmp))
    print(report)
    return 0


# --- the fast lane under a login storm, the admission table ------------------------


def paced(base: str, path: str, token: str, seconds: float,
          period: float = 0.010) -> list[tuple[str, int, float]]:
    """GET `path` as the bearer every `period` seconds over one kept-alive
    connection, as a protected service's auth_request would: (request id,
    status, latency at the client) each."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        rid = "paced-" + secrets.token_hex(8)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}",
                                               "X-Request-ID": rid})
            resp = conn.getresponse()
            resp.read()
            out.append((rid, resp.status, time.monotonic() - t))
        except (OSError, http.client.HTTPException):
            out.append((rid, 0, time.monotonic() - t))
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        time.sleep(max(0.0, period - (time.monotonic() - t)))
    conn.close()
    return out


def access_entries(path: Path, start: int) -> list[dict]:
    """nginx's access log lines after byte `start`, parsed."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    out = []
    for line in data.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def login_storm(stack: "Stack", token: str, email: str, password: str, seconds: float) -> dict:
    """STORM_CLIENTS wrk connections log in as fast as answered (retrying at
    once) while /auth/verify and /auth/me are each asked every 10 ms; the
    same checks without the storm first. Latency is nginx's $request_time
    (the server's side: this Python client's own delays are not the
    server's)."""
    base = stack.urls["authd"]
    log = stack.access_logs["authd"]
    routes = ("/auth/verify", "/auth/me")

    def checks(duration: float) -> dict[str, list]:
        results: dict[str, list] = {}

        def one(path: str) -> None:
            results[path] = paced(base, path, token, duration)
        threads = [threading.Thread(target=one, args=(p,)) for p in routes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    say(f"storm: the fast lane unloaded, then under {STORM_CLIENTS} clients logging in")
    unloaded = checks(3.0)
    start = log.stat().st_size
    run_env = dict(os.environ, BENCH_LUA_DIR=str(LUA_DIR), BENCH_RUN_ID=secrets.token_hex(4),
                   BENCH_EMAIL=email, BENCH_PASSWORD=password)
    storm = subprocess.Popen(["wrk", "-t1", f"-c{STORM_CLIENTS}", f"-d{round(seconds + 2.5)}s",
                              "--timeout", "10s", "-s", str(LUA_DIR / "login.lua"),
                              base + "/auth/login"], env=run_env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # the queue stands
    during = checks(seconds)
    storm.communicate(timeout=seconds + 60)
    time.sleep(0.3)
    entries = access_entries(log, 0)
    times = {e.get("request_id"): float(e.get("request_time", 0)) * 1000 for e in entries}
    storm_entries = [e for e in access_entries(log, start) if e.get("uri") == "/auth/login"]
    storm_ok = sum(1 for e in storm_entries if 200 <= int(e.get("status", 0)) < 300)
    out: dict = {"clients": STORM_CLIENTS, "seconds": seconds,
                 "storm_login_rps": storm_ok / (seconds + 2.5),
                 "storm_refused": sum(1 for e in storm_entries if int(e.get("status", 0)) == 503),
                 "routes": {}}
    for path in routes:
        before = [times[rid] for rid, _, _ in unloaded[path] if rid in times]
        now = [times[rid] for rid, _, _ in during[path] if rid in times]
        statuses: dict[str, int] = {}
        for _, status, _ in during[path]:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        unloaded_p99 = percentile(before, 99)
        out["routes"][path] = {
            "unloaded_p50_ms": percentile(before, 50), "unloaded_p99_ms": unloaded_p99,
            "storm_p50_ms": percentile(now, 50), "storm_p99_ms": percentile(now, 99),
            "client_storm_p99_ms": percentile([lat * 1000 for _, _, lat in during[path]], 99),
            "bound_ms": max(STORM_P99_FLOOR_MS, 3 * unloaded_p99),
            "statuses": statuses,
            "non2xx": sum(n for st, n in statuses.items() if not st.startswith("2")),
        }
        say(f"storm: {path} unloaded p99 {unloaded_p99:.2f} ms, during the storm p99 "
            f"{out['routes'][path]['storm_p99_ms']:.2f} ms, statuses {statuses}")
    return out


def budget_table(build_dir: Path, args, stack_box: list) -> int:
    """--budgets: for each short budget (ADMISSION_STANDING_BUDGET_MS), a pool
    with it, closed-loop logins at 4W, 16W and 64W (wrk: clients that retry at
    once) against the Argon2id ceiling measured just before each run:
    goodput, its ratio, p99 and refusals a second."""
    budgets = [int(x) for x in args.budgets.split(",")]
    seconds = args.duration or 3
    rounds = args.rounds or 2
    cores = os.cpu_count() or 1
    rows = []
    for budget in budgets:
        stack = Stack(build_dir, args.keep, args.workers, args.fast_workers, args.backlog,
                      extra_env={"ADMISSION_STANDING_BUDGET_MS": str(budget)})
        stack_box.append(stack)
        stack.start()
        w = stack.workers
        pw = strong_password()
        email = f"bench-budget-{secrets.token_hex(4)}@example.com"
        Client(stack.urls["authd"]).register(email, pw)
        per_level: dict[int, list[dict]] = {}
        for _ in range(rounds):
            for factor in (4, 16, 64):
                hc = subprocess.run([str(build_dir / "hash_ceiling"), "--workers", str(cores),
                                     "--seconds", "2"], capture_output=True, text=True,
                                    env=stack.env, check=True)
                ceiling = json.loads(hc.stdout)["per_second"]
                r = wrk(stack.urls["authd"] + "/auth/login", "login.lua", factor * w, seconds,
                        {"BENCH_EMAIL": email, "BENCH_PASSWORD": pw}, stack.access_logs["authd"],
                        warmup=int(stack.env.get("ADMISSION_BUDGET_MS") or 3000) / 1000 + 0.5)
                r["ceiling"] = ceiling
                per_level.setdefault(factor, []).append(r)
                say(f"budget {budget} ms, c={factor * w}: {r['ok_rps']:.1f}/s of {ceiling:.1f}, "
                    f"refused {r['non2xx'].get('503', 0)}")
        for factor, rs in per_level.items():
            ratios = sorted(r["ok_rps"] / r["ceiling"] for r in rs)
            med = sorted(rs, key=lambda r: r["ok_rps"])[(len(rs) - 1) // 2]
            rows.append({"budget_ms": budget, "connections": factor * w, "factor": factor,
                         "ok_rps": med["ok_rps"], "ratio": ratios[(len(ratios) - 1) // 2],
                         "p99_ms": med["p99_ms"],
                         "refused_per_s": sum(r["non2xx"].get("503", 0) for r in rs) /
                         sum(r["seconds"] for r in rs)})
        stack.close()
    lines = [f"{'short budget':>13}{'clients':>9}{'2xx/s':>9}{'ratio':>7}{'p99 ms':>9}"
             f"{'refused/s':>11}",
             "(closed-loop logins, clients retrying at once; measured past the admission "
             "interval; p99 of the 2xx answers, nginx's time)"]
    for r in rows:
        lines.append(f"{r['budget_ms']:>10} ms{r['connections']:>9}{r['ok_rps']:>9.1f}"
                     f"{r['ratio']:>7.2f}{r['p99_ms']:>9.0f}{r['refused_per_s']:>11.0f}")
    report = "\n".join(lines)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"budgets-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    stem.with_suffix(".txt").write_text(report + "\n")
    print(report)
    return 0


# --- main ------------------------------------------------------------------------


def main() -> int:
    stack_box: list[Stack] = []
    try:
        return run_bench(stack_box)
    finally:
        for stack in stack_box:
            stack.close()


def run_bench(stack_box: list) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="a short run that proves it works")
    ap.add_argument("--duration", type=int, help="seconds per wrk run [2; smoke 1]")
    ap.add_argument("--rounds", type=int,
                    help="runs per endpoint and level, interleaved with the ceilings; the "
                         "median is reported [3; smoke 1]")
    ap.add_argument("--levels", help="concurrency levels, comma-separated [1,W,4W,16W,64W]")
    ap.add_argument("--workers", type=int, help="API_WORKERS [the server's default]")
    ap.add_argument("--fast-workers", type=int,
                    help="API_FAST_WORKERS [the server's default]")
    ap.add_argument("--out", default=str(ROOT / "var/bench"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--only", help="endpoints to run, comma-separated (default: all)")
    ap.add_argument("--report", type=Path,
                    help="only render the table, summary and plot of a saved run's JSON")
    ap.add_argument("--backlog", type=int,
                    help="FCGI_BACKLOG for authd and the ceilings (default: the server's own)")
    ap.add_argument("--budgets",
                    help="ADMISSION_STANDING_BUDGET_MS values, comma-separated: instead of the "
                         "benchmark, closed-loop logins at 4W, 16W, 64W under each (the README's "
                         "admission table)")
    ap.add_argument("--hold", action="store_true",
                    help="start the stack, print its addresses and a token, wait (profiling)")
    args = ap.parse_args()
    if args.report:
        return rerender(args.report)

    build_dir = ROOT / os.environ.get("BUILD_DIR", "build")
    for tool in ("wrk", "nginx", "gnuplot", "envsubst"):
        if shutil.which(tool) is None:
            say(f"{tool} is missing: scripts/install-deps.sh installs it")
            return 1
    for exe in ("authd", "hash_ceiling", "fcgi_ceiling"):
        if not (build_dir / exe).exists():
            say(f"no {build_dir / exe}: make build")
            return 1
    if args.budgets:
        return budget_table(build_dir, args, stack_box)
    duration = args.duration or (1 if args.smoke else 2)
    rounds = args.rounds or (1 if args.smoke else 3)
    argon2_kib = int(os.environ.get("ARGON2_MEMORY_KIB") or 19456)
    argon2_t = int(os.environ.get("ARGON2_ITERATIONS") or 2)
    cores = os.cpu_count() or 1

    res: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cores": cores, "kernel": os.uname().release,
                    "loadavg_before": loadavg()},
        "config": {"seconds_per_run": duration, "rounds": rounds,
                   "argon2_memory_kib": argon2_kib, "argon2_iterations": argon2_t,
                   "loglevel": "INFO", "ip_rate_limit": 0, "smoke": args.smoke},
        "ceilings": {}, "runs": {}, "memory": {}, "checks": {},
    }
    if res["machine"]["loadavg_before"] > cores:
        say(f"note: the machine is busy (load average {res['machine']['loadavg_before']}); "
            "figures will be noisy, ratios less so")

    stack = Stack(build_dir, args.keep, args.workers, args.fast_workers, args.backlog)
    stack_box.append(stack)
    failures: list[str] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    try:
        say(f"starting the stack in {stack.tmp}")
        stack.start()
        w = stack.workers
        if args.levels:
            levels = sorted({int(x) for x in args.levels.split(",")})
        else:
            levels = [4 * w, 16 * w] if args.smoke else [1, w, 4 * w, 16 * w, 64 * w]
        interval_s = int(stack.env.get("ADMISSION_BUDGET_MS") or 3000) / 1000
        res["config"].update({"workers": w, "fast_workers": stack.fast_workers,
                              "admission_interval_s": interval_s,
                              "hash_processes": cores, "levels": levels,
                              "backlog": stack.backlog})
        say(f"{w} hashing workers, {stack.fast_workers} in the fast lane; levels {levels}")
        base = stack.urls["authd"]
        master = stack.authd.pid
        api = Client(base)

        # Accounts: one that logs in (login runs), one whose token the cheap
        # runs use, one for the revocation check, one that storms, and per
        # password run more accounts than connections.
        pw = strong_password()
        login_user, token_user, revoke_user, storm_user = (
            f"bench-{k}-{secrets.token_hex(4)}@example.com"
            for k in ("login", "token", "revoke", "storm"))
        register_many(base, [login_user, token_user, revoke_user, storm_user], pw, w)
        token = api.login(token_user, pw)
        stack.start_ceilings()
        if args.hold:
            info = {"urls": stack.urls, "token": token, "email": login_user, "password": pw,
                    "authd_pid": stack.authd.pid, "tmp": str(stack.tmp)}
            print(json.dumps(info), flush=True)
            while True:
                stack.check_alive()
                time.sleep(1)
        mem_before = workers_pss(master)
        sampler = MemorySampler(master)
        sampler.start()
        only = set(args.only.split(",")) if args.only else None

        rounds_of: dict[tuple[str, int], list[dict]] = {}
        cpu_groups: dict[str, list[int]] = {}

        def run(name: str, url_key: str, path: str, script: str, c: int, env: dict) -> None:
            if only and name not in only and name not in ("fastcgi", "fcgi+read"):
                return
            stack.check_alive()
            sampler.set_phase(name)
            hash_bound = BOUNDS.get(name, ("",))[0] == "hash"
            # Beyond W the hash-bound routes queue: measured past the
            # admission interval, in the steady state.
            warm = interval_s + 0.5 if hash_bound and c > w else 0.0
            r = wrk(stack.urls[url_key] + path, script, c, duration, env,
                    stack.access_logs[url_key], stack.masters[url_key],
                    cpu_groups=cpu_groups if hash_bound else None,
                    metrics_url=base + "/metrics" if hash_bound else None, warmup=warm)
            r["loadavg"] = loadavg()
            rounds_of.setdefault((name, c), []).append(r)
            say(f"{name:<10} c={c:<3} {r['ok_rps']:>9.1f} 2xx/s  p50 {r['p50_ms']:.2f} ms  "
                f"p99 {r['p99_ms']:.2f} ms  non-2xx {r['non2xx'] or 0}  "
                f"worker CPU {r['backend_cpu_us']} µs/req"
                + (f"  cores {r['cpu_split']}" if r.get("cpu_split") else ""))

        bearer = {"BENCH_TOKEN": token}
        # Warm-up: every worker opens its connection and prepares statements.
        for path, env in (("/health", {}), ("/auth/verify", bearer), ("/auth/me", bearer)):
            wrk(base + path, "get.lua", w, 1, env, stack.access_logs["authd"])
        wrk(base + "/auth/login", "login.lua", w, 1, {"BENCH_EMAIL": login_user,
                                                      "BENCH_PASSWORD": pw},
            stack.access_logs["authd"])
        # Whose CPU is whose, for the hash-bound runs.
        cpu_groups.update(stack.lanes())
        cpu_groups["nginx"] = [stack.nginx_pids["authd"]] + children_of(stack.nginx_pids["authd"])
        db_pid = (stack.tmp / "mysql" / "mysqld.pid")
        cpu_groups["db"] = [int(db_pid.read_text().strip())] if db_pid.exists() else []

        # Each round measures every level, each endpoint right after the
        # ceiling that bounds it, so both see the same machine (other
        # tenants' load comes and goes); the median round is reported.
        pw_a, pw_b = strong_password(), strong_password()
        for round_no in range(rounds):
            for c in levels:
                run("fastcgi", "fastcgi", "/health", "get.lua", c, {})
                run("health", "authd", "/health", "get.lua", c, {})
                run("fcgi+read", "fcgi+read", "/health", "get.lua", c, {})
                run("verify", "authd", "/auth/verify", "get.lua", c, bearer)
                run("me", "authd", "/auth/me", "get.lua", c, bearer)

            sampler.set_phase("hash_ceiling")
            for key, extra in (("hash", []), ("hash+commit", ["--commit"])):
                hc = subprocess.run([str(build_dir / "hash_ceiling"), "--workers", str(cores),
                                     "--seconds", str(duration), "--memory-kib", str(argon2_kib),
                                     "--iterations", str(argon2_t)] + extra,
                                    capture_output=True, text=True, env=stack.env)
                if hc.returncode != 0:
                    raise RuntimeError(f"hash_ceiling {' '.join(extra)} failed: "
                                       f"{hc.stderr.strip()}")
                h = json.loads(hc.stdout)
                h["loadavg"] = loadavg()
                rounds_of.setdefault((key, 0), []).append(h)
                say(f"{key:<11}{cores} procs {h['per_second']:>8.1f}/s "
                    f"({h['ms_per_verify']:.1f} ms each"
                    + (f", commit {h['ms_per_commit']:.1f} ms)" if "ms_per_commit" in h else ")"))
            # Password changes: fresh accounts per run, more than connections.
            pools = {c: [f"bench-pw{round_no}x{c}-{i}-{secrets.token_hex(3)}@example.com"
                         for i in range(2 * c + 4)] for c in levels}
            if not only or "password" in only:
                register_many(base, [e for p in pools.values() for e in p], pw_a, w)
            for c in levels:
                run("login", "authd", "/auth/login", "login.lua", c,
                    {"BENCH_EMAIL": login_user, "BENCH_PASSWORD": pw})
                run("register", "authd", "/auth/register", "register.lua", c,
                    {"BENCH_PASSWORD": pw})
                run("password", "authd", "/auth/password", "password.lua", c,
                    {"BENCH_USERS": ",".join(pools[c]), "BENCH_PASSWORD_A": pw_a,
                     "BENCH_PASSWORD_B": pw_b})

        # The median round of each (endpoint, level), with every round's
        # figures kept and the non-2xx answers of all rounds added up.
        for (name, c), rs in rounds_of.items():
            key = "per_second" if name in ("hash", "hash+commit") else "ok_rps"
            ordered = sorted(rs, key=lambda r: r[key])
            median = dict(ordered[(len(ordered) - 1) // 2])
            median["rounds"] = [r[key] for r in rs]
            if name in ("hash", "hash+commit"):
                res["ceilings"][name] = median
                continue
            non2xx: dict[str, int] = {}
            for r in rs:
                for status, n in r["non2xx"].items():
                    non2xx[status] = non2xx.get(status, 0) + n
            median["non2xx"] = non2xx
            median["socket_errors"] = sum(r["socket_errors"] for r in rs)
            median["ok_total"] = sum(r["ok"] for r in rs)
            res["runs"].setdefault(name, []).append(median)
        for runs in res["runs"].values():
            runs.sort(key=lambda r: r["connections"])
        # Ratios to the ceilings, paired by round: each endpoint run over the
        # ceiling run made just before it (same level for FastCGI, the same
        # round's Argon2id run for the hash-bound ones), the median of those.
        # Pairing cancels most of what other jobs on the machine do to both.
        for name, runs in res["runs"].items():
            if name not in BOUNDS:
                continue
            ref, share = BOUNDS[name]
            for r in runs:
                c = r["connections"]
                own = [x["ok_rps"] for x in rounds_of[(name, c)]]
                for key, ceiling_name in (("ratio", ref), ("ratio_hc", "hash+commit")):
                    if key == "ratio_hc" and ref != "hash":
                        continue
                    refs = rounds_of.get((ceiling_name, c if ref != "hash" else 0), [])
                    ceil = [(x["per_second"] * share if ref == "hash" else x["ok_rps"])
                            for x in refs]
                    pairs = sorted(o / cl for o, cl in zip(own, ceil) if cl > 0)
                    r[key] = round(pairs[(len(pairs) - 1) // 2], 3) if pairs else None
                    r[key + "_rounds"] = [round(x, 3) for x in pairs]
        sampler.stop()

        # The fast lane while logins storm.
        if not only or "storm" in only:
            res["storm"] = login_storm(stack, token, storm_user, pw,
                                       seconds=3 if args.smoke else 6)

        # Revocation: a token stops working at once when its session ends.
        t = api.login(revoke_user, pw)
        before = (api.get("/auth/verify", t), api.get("/auth/me", t))
        out = api.logout(t)
        after = (api.get("/auth/verify", t), api.get("/auth/me", t))
        res["checks"]["revocation"] = {"before": before, "logout": out, "after": after}
        res["checks"]["revocation_immediate"] = (before == (204, 200) and out == 204
                                                 and after == (401, 401))
        if not res["checks"]["revocation_immediate"]:
            failures.append(f"revocation not immediate: {res['checks']['revocation']}")

        time.sleep(1.0)
        mem_after = workers_pss(master)
        peaks = {k: round(v / 1024, 1) for k, v in sampler.peaks.items()}
        res["memory"] = {
            "idle_before_mib": round(max(mem_before.values(), default=0) / 1024, 1),
            "idle_after_mib": round(max(mem_after.values(), default=0) / 1024, 1),
            "peak_mib": max(peaks.values(), default=0.0),
            "peak_by_phase_mib": peaks,
            "hwm_mib": round(max((hwm_kib(p) or 0 for p in mem_after), default=0) / 1024, 1),
            "workers_idle_after_kib": mem_after,
        }
        worker_log = stack.log("worker.log").read_text(errors="replace")
        crashes = len(re.findall(r'"(worker_died|worker_crashed)"', worker_log))
        res["checks"]["worker_crashes"] = crashes
        if crashes:
            failures.append(f"the worker log reports {crashes} crash(es)")
        for name, runs in res["runs"].items():
            for r in runs:
                if r["ok_total"] == 0:
                    failures.append(f"{name} at c={r['connections']}: no 2xx answer")
                if any(s.startswith("5") and s != "503" for s in r["non2xx"]):
                    failures.append(f"{name} at c={r['connections']}: {r['non2xx']}")
    except Exception as e:  # noqa: BLE001 — report, then tear down
        failures.append(f"the run failed: {e}")
        say(failures[-1])
        for f in sorted(stack.tmp.glob("log/*.log")):
            tail = f.read_text(errors="replace").splitlines()[-8:]
            if tail:
                print(f"----- last lines of {f.name}", *tail, sep="\n", file=sys.stderr)
        return 1
    res["machine"]["loadavg_after"] = loadavg()
    res["seconds_total"] = round(time.monotonic() - t0, 1)

    ran_all = set(res["runs"]) >= set(BOUNDS)
    if ran_all:
        res["targets"] = judge(res)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / ("smoke-" if args.smoke else "bench-")
    stem = Path(f"{stem}{time.strftime('%Y%m%d-%H%M%S')}")
    report = render_report(res)
    (stem.with_suffix(".json")).write_text(json.dumps(res, indent=1) + "\n")
    (stem.with_suffix(".txt")).write_text(report + "\n")
    if ran_all:
        plot(res, stem.with_suffix(".png"), stack.tmp)
    stack.close()
    prefix = "smoke-latest" if args.smoke else "latest"
    for ext in (".json", ".txt", ".png"):
        if stem.with_suffix(ext).exists():
            shutil.copyfile(stem.with_suffix(ext), out_dir / f"{prefix}{ext}")
    print(report)
    print(f"\nraw figures: {stem.with_suffix('.json')}\nplot: {stem.with_suffix('.png')}")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    if args.strict and ran_all and not all(t["ok"] for t in res["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
