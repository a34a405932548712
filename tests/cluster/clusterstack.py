"""The stack of `make cluster-test`, all local processes on loopback:

    nginx ──TCP FastCGI──▶ pool A ─┐  (MYSQL_HOST=node1,node2,node3: single writer)
      (upstream of A and B)        ├──▶ Galera node1 ◀──▶ node2 ◀──▶ node3
                          pool B ─┘
    race nginx ─────────▶ pool R ────▶ node2 first (MYSQL_HOST=node2,node1,node3)
    es256 nginx ────────▶ pool E ────▶ node3 first (the e2e suite's ES256 door)
    mailer M1 (node1 first), mailer M2 (node2 first) ──SMTP──▶ capture

Pools A and B are two "hosts" (each its own master, lanes on port and
port + 1); R exists only for the races across nodes; E is the e2e suite's
second deployment (JWT_ALG=ES256, the default Argon2 cost), on node 3. The
main nginx also has a TLS door and the auth_request example, and a second
nginx in front of A and B limits each address (the e2e suite's doors). Driven from Python so
that a test can kill a node or a pool and bring it back. Everything lives in
one temp directory, removed at the end (CLUSTER_KEEP=1 keeps it, logs too).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "faults"))
from faultstack import alive, children_of, free_port  # noqa: E402

GALERA = ROOT / "scripts" / "galera.sh"
FAILBACK_S = 5  # MYSQL_FAILBACK_S: the default, as users get it
# What the e2e suite's doors are set to (scripts/e2e-stack.sh's values).
RATE_LIMIT_TEST = 30
TRUSTED_PROXY = "127.0.0.2"
ES256_REFRESH_REUSE_GRACE = 2
WEBAUTHN_RP_ID = "localhost"


@dataclass
class Pool:
    name: str
    port: int
    hosts: str  # MYSQL_HOST, the preferred node first
    workers: int
    fast_workers: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        if not self.proc or self.proc.poll() is not None:
            return []
        return [p for p in children_of(self.proc.pid) if alive(p)]


@dataclass
class ClusterStack:
    build_dir: Path
    tmp: Path = None
    env_base: dict = field(default_factory=dict)  # MYSQL_DB/USER/PASSWORD/MIGRATE_*
    node_ports: list[int] = field(default_factory=list)
    pools: dict = field(default_factory=dict)
    nginx: dict = field(default_factory=dict)  # name -> (Popen, port)
    mailers: dict = field(default_factory=dict)
    smtp_port: int = 0
    smtp_password: str = ""
    https_port: int = 0
    main_port: int = 0
    auth_request_port: int = 0
    secret_key: str = ""
    mfa_key: str = ""

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> "ClusterStack":
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> "ClusterStack":
        self.tmp = Path(tempfile.mkdtemp(prefix="authd-cluster."))
        self.tmp.chmod(0o711)  # the nodes run as `mysql` when we are root (scripts/galera.sh)
        for d in ("run", "log", "mail"):
            (self.tmp / d).mkdir()
        started = time.monotonic()
        self.galera("start", "3", timeout=300)
        for line in (self.tmp / "galera" / "env.base").read_text().splitlines():
            k, _, v = line.partition("=")
            self.env_base[k] = v
        for k in (1, 2, 3):
            self.node_ports.append(int((self.tmp / "galera" / f"node{k}" / "ports").read_text().split()[0]))
        print(f"\n[cluster] 3 Galera nodes Synced in {time.monotonic() - started:.1f} s: "
              f"SQL ports {self.node_ports}")
        self.secret_key = "cluster-tests-" + os.urandom(24).hex()
        self.mfa_key = __import__("base64").b64encode(os.urandom(32)).decode()
        self.start_smtp()
        # The main nginx's doors are known before anything runs authd: they are
        # the passkey tests' origins (WEBAUTHN_ORIGINS), as in scripts/e2e-stack.sh.
        self.main_port = free_port()
        self.https_port = free_port()
        subprocess.run([str(self.authd), "migrate"], env=self.env(self.hosts(1, 2, 3)), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        self.pools = {
            "A": Pool("A", free_port_pair(), self.hosts(1, 2, 3), 2, 1, self.tmp / "log" / "worker-a.log"),
            "B": Pool("B", free_port_pair(), self.hosts(1, 2, 3), 2, 1, self.tmp / "log" / "worker-b.log"),
            "R": Pool("R", free_port_pair(), self.hosts(2, 1, 3), 1, 1, self.tmp / "log" / "worker-r.log"),
            "E": Pool("E", free_port_pair(), self.hosts(3, 1, 2), 1, 1, self.tmp / "log" / "worker-es256.log"),
        }
        self.make_es256_keys()
        for pool in self.pools.values():
            self.start_pool(pool)
        both = [self.pools["A"].target, self.pools["B"].target]
        self.auth_request_port = free_port()
        self.start_nginx("main", both, port=self.main_port, TLS_CERT=self.tmp / "tls" / "cert.pem",
                         TLS_KEY=self.tmp / "tls" / "key.pem", HTTPS_PORT=self.https_port,
                         HTTP_REDIRECT_TO_HTTPS="false",
                         AUTH_REQUEST_EXAMPLE_PORT=self.auth_request_port,
                         AUTH_REQUEST_EXAMPLE_UPSTREAM_PORT=free_port())
        # ADMIN_ALLOW wider than the pools' (loopback 127.0.0.1 only), as the
        # e2e stack's rate-limited door has it: the worker's own check shows.
        self.start_nginx("limited", both, IP_RATE_LIMIT=RATE_LIMIT_TEST, ADMIN_ALLOW="127.0.0.0/8")
        self.start_nginx("race", [self.pools["R"].target])
        self.start_nginx("es256", [self.pools["E"].target], TRUSTED_PROXIES=f"{TRUSTED_PROXY}/32")
        self.start_mailer("M1", self.hosts(1, 2, 3), respawn=True)
        self.start_mailer("M2", self.hosts(2, 1, 3), respawn=False)
        for name in self.nginx:
            self.wait_ready(self.url(name))
        return self

    def make_es256_keys(self) -> None:
        keys = self.tmp / "keys"
        keys.mkdir()
        for k in ("es256", "es256-previous"):
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-out", str(keys / f"{k}.pem")],
                           check=True, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", str(keys / "es256-previous.pem"), "-pubout",
                        "-out", str(keys / "es256-previous.pub.pem")], check=True)

    def close(self) -> None:
        for proc, port in self.nginx.values():
            stop(proc, signal.SIGQUIT)
        for proc in self.mailers.values():
            stop(proc, signal.SIGTERM)
        for pool in self.pools.values():
            stop(pool.proc, signal.SIGTERM)
        if self.tmp is None:
            return
        pid_file = self.tmp / "run" / "smtp.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        subprocess.run([str(GALERA), "wipe" if not os.environ.get("CLUSTER_KEEP") else "stop",
                        str(self.tmp / "galera")], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        if os.environ.get("CLUSTER_KEEP"):
            print(f"clusterstack: kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- settings ----------------------------------------------------------------------
    @property
    def authd(self) -> Path:
        return Path(os.environ.get("AUTHD_BIN", self.build_dir / "authd"))

    def hosts(self, *nodes: int) -> str:
        return ",".join(f"127.0.0.1:{self.node_ports[k - 1]}" for k in nodes)

    def env(self, mysql_host: str, **extra) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
        env.update(self.env_base)
        env.update({
            "MYSQL_HOST": mysql_host,
            "MYSQL_FAILBACK_S": str(FAILBACK_S),
            "SECRET_KEY": self.secret_key,
            "MFA_ENCRYPTION_KEY": self.mfa_key,
            "LOGLEVEL": "DEBUG",
            "ARGON2_MEMORY_KIB": "4096",
            # Below OWASP's floor on purpose (speed), as the e2e stack: authd
            # refuses it unless told this is a test run.
            "AUTHD_TEST_WEAK_ARGON2": "1",
            "MAIL_MODE": "smtp",
            "SMTP_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "SMTP_USER": "authd-cluster",
            "SMTP_PASSWORD": self.smtp_password,
            "SMTP_CA_FILE": str(self.tmp / "tls" / "ca.pem"),
            "MAIL_FROM": "authd e2e <noreply@authd.test>",
            "PUBLIC_BASE_URL": "https://localhost:8443",
            "MAIL_POLL_MS": "100",
            "WEBAUTHN_RP_ID": WEBAUTHN_RP_ID,
            "WEBAUTHN_ORIGINS": self.webauthn_origins(),
        })
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def webauthn_origins(self) -> str:
        """The relying party's origins: the main nginx's two doors by the name localhost."""
        return f"http://localhost:{self.main_port},https://localhost:{self.https_port}"

    def url(self, nginx_name: str) -> str:
        return f"http://127.0.0.1:{self.nginx[nginx_name][1]}"

    def auth_request_url(self) -> str:
        return f"http://127.0.0.1:{self.auth_request_port}"

    def port(self, nginx_name: str) -> int:
        return self.nginx[nginx_name][1]

    # --- database nodes ------------------------------------------------------------------
    def galera(self, *args: str, timeout: float = 180) -> str:
        r = subprocess.run([str(GALERA), args[0], str(self.tmp / "galera"), *args[1:]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"galera.sh {' '.join(args)}: {r.stderr[-2000:]}")
        return r.stdout

    def kill_node(self, k: int) -> None:
        self.galera("kill", str(k))

    def start_node(self, k: int) -> None:
        self.galera("start-node", str(k))

    def wait_synced(self, k: int, seconds: int = 120) -> None:
        self.galera("wait-synced", str(k), str(seconds), timeout=seconds + 30)

    def node_log(self, k: int) -> Path:
        return self.tmp / "galera" / f"node{k}" / "mysqld.log"

    def db(self, k: int, causal: bool = True):
        """The app account on node k; causal (wsrep_sync_wait=1) unless told."""
        conn = pymysql.connect(host="127.0.0.1", port=self.node_ports[k - 1],
                               user=self.env_base["MYSQL_USER"],
                               password=self.env_base["MYSQL_PASSWORD"],
                               database=self.env_base["MYSQL_DB"], autocommit=True,
                               connect_timeout=5, read_timeout=30)
        if causal:
            with conn.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
        return conn

    def root_sql(self, k: int, sql: str) -> str:
        return self.galera("sql", str(k), sql)

    def node_status(self, k: int) -> str:
        try:
            return self.root_sql(k, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                                    " WHERE VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT'").strip()
        except RuntimeError:
            return "down"

    def app_connections(self, k: int) -> int:
        """The app account's sessions open on node k (the pools' workers)."""
        out = self.root_sql(k, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '"
                               + self.env_base["MYSQL_USER"] + "'")
        return int(out.strip() or 0)

    def emails_on(self, k: int, prefix: str) -> set[str]:
        with self.db(k) as conn, conn.cursor() as cur:
            cur.execute("SELECT email FROM users WHERE email LIKE %s", (prefix + "%",))
            return {row[0].decode() if isinstance(row[0], bytes) else row[0]
                    for row in cur.fetchall()}

    def checksums(self, k: int) -> dict[str, str]:
        """Each table's checksum on node k. CHECKSUM TABLE, except for a table with
        a stored generated column (admin_keys.active_name): MariaDB 10.11 leaves
        such a column out of the read set and checksums whatever its buffer holds
        (MDEV-22943), so identical rows gave different sums on different nodes.
        Those tables are summed by a query over their written columns instead."""
        db = self.env_base["MYSQL_DB"]
        tables = self.root_sql(k, "SELECT TABLE_NAME FROM information_schema.TABLES"
                                  f" WHERE TABLE_SCHEMA = '{db}' ORDER BY TABLE_NAME").split()
        generated = set(self.root_sql(k, "SELECT DISTINCT TABLE_NAME FROM information_schema.COLUMNS"
                                         f" WHERE TABLE_SCHEMA = '{db}' AND IS_GENERATED = 'ALWAYS'").split())
        out = {}
        for t in tables:
            if t in generated:
                columns = self.root_sql(k, "SELECT COLUMN_NAME FROM information_schema.COLUMNS"
                                           f" WHERE TABLE_SCHEMA = '{db}' AND TABLE_NAME = '{t}'"
                                           " AND IS_GENERATED = 'NEVER' ORDER BY ORDINAL_POSITION").split()
                row = ", ".join(f"HEX(`{c}`), ISNULL(`{c}`)" for c in columns)
                out[t] = self.root_sql(k, "SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*),"
                                          f" COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', {row}))), 0)"
                                          f" FROM `{db}`.`{t}`").strip()
                continue
            line = self.root_sql(k, f"SET SESSION wsrep_sync_wait = 1; CHECKSUM TABLE "
                                    f"`{db}`.`{t}`")
            out[t] = line.split()[-1]
        return out

    # --- pools, nginx, mail ----------------------------------------------------------------
    def start_pool(self, pool: Pool) -> None:
        env = self.env(pool.hosts, API_WORKERS=pool.workers, API_FAST_WORKERS=pool.fast_workers,
                       FCGI_LISTEN=pool.target, MYSQL_CONNECT_TIMEOUT=1, MYSQL_READ_TIMEOUT=5)
        if pool.name == "E":
            # The e2e suite's second deployment (scripts/e2e-stack.sh's ES256 pool).
            env.pop("ARGON2_MEMORY_KIB")
            env.pop("AUTHD_TEST_WEAK_ARGON2")
            env.update(JWT_ALG="ES256", JWT_PRIVATE_KEY_FILE=str(self.tmp / "keys" / "es256.pem"),
                       JWT_PREVIOUS_PUBLIC_KEY_FILE=str(self.tmp / "keys" / "es256-previous.pub.pem"),
                       REFRESH_REUSE_GRACE=str(ES256_REFRESH_REUSE_GRACE),
                       TRUSTED_PROXIES=f"{TRUSTED_PROXY}/32")
        with open(pool.log, "ab") as log:
            pool.proc = subprocess.Popen([str(self.authd), "serve"], env=env,
                                         stdout=subprocess.DEVNULL, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while len(pool.pids()) < pool.workers + pool.fast_workers:
            if pool.proc.poll() is not None:
                raise RuntimeError(f"pool {pool.name} exited; see {pool.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"pool {pool.name} did not start its workers")
            time.sleep(0.05)

    def kill_pool(self, name: str) -> None:
        """The pool's host dies: master and workers SIGKILLed at once."""
        pool = self.pools[name]
        os.killpg(pool.proc.pid, signal.SIGKILL)
        pool.proc.wait()

    def start_nginx(self, name: str, targets: list[str], port: int = 0, **settings) -> None:
        port = port or free_port()
        prefix = self.tmp / f"nginx-{name}"
        env = dict(os.environ, HTTP_PORT=str(port), IP_RATE_LIMIT="0", API_FAST_WORKERS="1",
                   NGINX_PREFIX=str(prefix), NGINX_LISTEN_ADDR="127.0.0.1",
                   NGINX_ACCESS_LOG=str(self.tmp / "log" / f"nginx-{name}-access.log"),
                   NGINX_ERROR_LOG=str(self.tmp / "log" / f"nginx-{name}-error.log"),
                   NGINX_DOCS_ROOT=str(self.tmp / "docs"))
        env.pop("FCGI_TARGET", None)
        env.pop("FCGI_TARGETS", None)
        env.update({k: str(v) for k, v in settings.items()})
        if len(targets) > 1:
            env["FCGI_TARGETS"] = ",".join(targets)
        else:
            env["FCGI_TARGET"] = targets[0]
        if not (self.tmp / "docs").exists():
            subprocess.run([str(ROOT / "scripts/build-docs.sh"), str(self.tmp / "docs")],
                           check=True, stdout=subprocess.DEVNULL, timeout=120)
        subprocess.run([str(ROOT / "nginx/render.sh"), str(prefix / "nginx.conf")], env=env,
                       check=True)
        proc = subprocess.Popen(["nginx", "-e", str(self.tmp / "log" / f"nginx-{name}-error.log"),
                                 "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.nginx[name] = (proc, port)

    def smtp_command(self) -> list[str]:
        """The capturing relay, as the e2e stack runs it: STARTTLS and AUTH."""
        return ["/usr/bin/python3", str(ROOT / "scripts/smtp-capture.py"), "--port",
                str(self.smtp_port), "--dir", str(self.tmp / "mail"),
                "--tls-cert", str(self.tmp / "tls" / "cert.pem"),
                "--tls-key", str(self.tmp / "tls" / "key.pem"),
                "--auth-user", "authd-cluster", "--auth-password", self.smtp_password,
                "--pidfile", str(self.tmp / "run" / "smtp.pid"), "--daemon", "--log",
                str(self.tmp / "log" / "smtp.log")]

    def start_smtp(self) -> None:
        self.smtp_port = free_port()
        self.smtp_password = os.urandom(12).hex()
        subprocess.run([str(ROOT / "scripts/local-tls.sh"), str(self.tmp / "tls")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        subprocess.run(self.smtp_command(), check=True, timeout=30)

    def start_mailer(self, name: str, hosts: str, respawn: bool) -> None:
        env = self.env(hosts)
        log = open(self.tmp / "log" / f"mailer-{name}.log", "ab")
        cmd = [str(self.authd), "mailer"]
        if respawn:
            cmd = [str(ROOT / "scripts/respawn.sh"), f"authd mailer {name}",
                   str(self.tmp / "run" / f"mailer-{name}.pid")] + cmd
        self.mailers[name] = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log,
                                              start_new_session=True)
        log.close()

    def mailer_pid(self, name: str) -> int:
        """The running `authd mailer` of M1 (under scripts/respawn.sh) or M2."""
        if name == "M1":
            return int((self.tmp / "run" / "mailer-M1.pid").read_text().strip())
        return self.mailers[name].pid

    @contextlib.contextmanager
    def mail_held(self):
        """Both mailers stopped (SIGSTOP) while the caller reads the nodes one
        after the other: a mailer draining the outbox (a send marked done, a
        retry scheduled) between the reads of two nodes made equal tables look
        different. A transaction a stopped mailer holds open commits nowhere,
        so every node still shows the same committed rows."""
        held = []
        try:
            for name in ("M1", "M2"):
                pid = self.mailer_pid(name)
                os.kill(pid, signal.SIGSTOP)
                held.append(pid)
            yield
        finally:
            for pid in held:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def wait_ready(self, url: str, timeout: float = 60) -> None:
        import urllib.request
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health/ready", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{url}/health/ready not 200 within {timeout} s")

    # --- logs --------------------------------------------------------------------------
    def log_files(self) -> list[Path]:
        return sorted((self.tmp / "log").glob("*.log"))

    def events(self, *names: str) -> list[dict]:
        """Every JSON line of the pools' logs (A, B, R), each with its pool."""
        out = []
        for name in names or tuple(self.pools):
            with open(self.pools[name].log, "rb") as f:
                for line in f.read().splitlines():
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    e["_pool"] = name
                    out.append(e)
        return out

    def nginx_access(self, name: str = "main") -> list[dict]:
        out = []
        with open(self.tmp / "log" / f"nginx-{name}-access.log") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out


def free_port_pair() -> int:
    """A port whose next one is free too (a pool's two lanes)."""
    import socket
    for _ in range(100):
        p = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 1))
                return p
            except OSError:
                continue
    raise RuntimeError("no two free ports in a row")


def stop(proc: subprocess.Popen | None, sig: int) -> None:
    if not proc:
        return
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
