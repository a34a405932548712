"""The end-to-end suite (e2e/) through the cluster's nginx: requests spread
over two pools on two "hosts", every write through Galera node 1, read back
by the tests on that node. What the stack cannot offer is skipped by the
suite itself, with its reason (the single-pool checks of /metrics and the
lanes' log lines, the database outage and pool stop of the single-server
stack, the second doors: ES256, per-address limits, TLS, auth_request)."""
from __future__ import annotations

import os
import shlex
import subprocess
import time

from clusterstack import (ES256_REFRESH_REUSE_GRACE, RATE_LIMIT_TEST, ROOT, TRUSTED_PROXY,
                          WEBAUTHN_RP_ID)


def test_e2e_suite_through_two_pools_on_the_cluster(cluster):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "E2E_"))}
    env.update({
        "E2E_BASE_URL": cluster.url("main"),
        "E2E_HTTP_URL": cluster.url("main"),
        "E2E_MYSQL_HOST": "127.0.0.1",
        "E2E_MYSQL_PORT": str(cluster.node_ports[0]),
        "E2E_MYSQL_USER": cluster.env_base["MYSQL_USER"],
        "E2E_MYSQL_PASSWORD": cluster.env_base["MYSQL_PASSWORD"],
        "E2E_MYSQL_DB": cluster.env_base["MYSQL_DB"],
        "E2E_MYSQL_MIGRATE_PASSWORD": cluster.env_base["MYSQL_MIGRATE_PASSWORD"],
        "E2E_LOG_FILES": ":".join(str(p) for p in cluster.log_files()),
        "E2E_SECRET_KEY": cluster.secret_key,
        "E2E_MFA_ENCRYPTION_KEY": cluster.mfa_key,
        "E2E_AUTHD_BIN": str(cluster.authd),
        "E2E_MAIL_DIR": str(cluster.tmp / "mail"),
        "E2E_PUBLIC_BASE_URL": "https://localhost:8443",
        "E2E_SMTP_USER": "authd-cluster",
        "E2E_SMTP_PASSWORD": cluster.smtp_password,
        "E2E_SMTP_STOP_CMD": (f"kill -TERM $(cat '{cluster.tmp}/run/smtp.pid') && while kill -0 "
                              f"$(cat '{cluster.tmp}/run/smtp.pid') 2>/dev/null; do sleep 0.05; done"),
        "E2E_SMTP_START_CMD": " ".join(f"'{a}'" for a in cluster.smtp_command()),
        "E2E_MAILER_PID_FILE": str(cluster.tmp / "run" / "mailer-M1.pid"),
        "E2E_ARTIFACT_DIR": str(cluster.tmp / "e2e"),
        # The tests' own reads wait for the node to catch up, as the server's do.
        "E2E_MYSQL_INIT_COMMAND": "SET SESSION wsrep_sync_wait = 1",
        "E2E_HTTPS_URL": f"https://localhost:{cluster.https_port}",
        "E2E_CA_BUNDLE": str(cluster.tmp / "tls" / "ca.pem"),
        "E2E_FCGI_SOCKET": cluster.pools["A"].target,
        "E2E_ROOT": str(ROOT),
        "E2E_AUTH_REQUEST_URL": cluster.auth_request_url(),
        "E2E_RATE_LIMITED_URL": cluster.url("limited"),
        "E2E_IP_RATE_LIMIT_TEST": str(RATE_LIMIT_TEST),
        "E2E_ES256_URL": cluster.url("es256"),
        "E2E_ES256_KEY_FILE": str(cluster.tmp / "keys" / "es256.pem"),
        "E2E_ES256_PREVIOUS_KEY_FILE": str(cluster.tmp / "keys" / "es256-previous.pem"),
        "E2E_ES256_REFRESH_REUSE_GRACE": str(ES256_REFRESH_REUSE_GRACE),
        "E2E_TRUSTED_PROXY": TRUSTED_PROXY,
        "E2E_WEBAUTHN_RP_ID": WEBAUTHN_RP_ID,
        "E2E_WEBAUTHN_ORIGINS": cluster.webauthn_origins(),
    })
    started = time.monotonic()
    # CLUSTER_E2E_ARGS: more pytest arguments, shell-quoted (e.g. "-k 'login or refresh'").
    extra = shlex.split(os.environ.get("CLUSTER_E2E_ARGS", ""))
    r = subprocess.run(["/usr/bin/python3", "-m", "pytest", str(ROOT / "e2e"), "-q",
                        "-m", "not single_pool", "-p", "no:cacheprovider", *extra],
                       env=env, cwd=str(ROOT / "e2e"), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=1200)
    lines = r.stdout.splitlines()
    tail = "\n".join(lines if r.returncode else lines[-40:])
    print(f"\n[e2e through the cluster] {time.monotonic() - started:.0f} s\n{tail}")
    assert r.returncode == 0, "the e2e suite failed through the cluster (output above)"
