"""HTTPS at nginx: certificate verification against the stack's CA, TLS
1.2 and 1.3 only, no CBC or static-RSA suites, HSTS on every HTTPS answer
(errors included) and never over plain HTTP, the worker told the request
was secure, and the optional HTTP→HTTPS redirect."""
import json
import os
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

from authd_e2e import Api, raw_exchange
from mail_capture import report

pytestmark = [pytest.mark.once]

HSTS = "max-age=63072000"


def host_port(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def handshake(url: str, ca: str, *, version: ssl.TLSVersion | None = None,
              ciphers: str | None = None, server_name: str = "localhost"):
    """One TLS handshake with the given limits; returns (protocol, cipher)."""
    host, port = host_port(url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    if ciphers is not None or version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        # OpenSSL 3 will not even offer the old protocols at its default level.
        ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.version(), tls.cipher()[0]


def client_can_offer(version: ssl.TLSVersion) -> bool:
    """Whether this OpenSSL can speak `version` at all (against our own
    loopback server), so a refusal by nginx is nginx's and not ours."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.minimum_version = version
        ctx.maximum_version = version
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return False
    return True


def test_https_verifies_against_the_generated_ca(tls_doors):
    r = requests.get(tls_doors["https"] + "/health", verify=tls_doors["ca"], timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers.get("Strict-Transport-Security") == HSTS
    # The certificate names 127.0.0.1 too.
    _, port = host_port(tls_doors["https"])
    r = requests.get(f"https://127.0.0.1:{port}/health", verify=tls_doors["ca"], timeout=10)
    assert r.status_code == 200


def test_https_is_refused_by_a_client_that_does_not_trust_the_ca(tls_doors):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_doors["https"] + "/health", verify=True, timeout=10)
    # Nor is it valid for another name.
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_doors["https"], tls_doors["ca"], server_name="example.com")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["TLSv1.2", "TLSv1.3"])
def test_tls_1_2_and_1_3_are_spoken(tls_doors, version):
    protocol, cipher = handshake(tls_doors["https"], tls_doors["ca"], version=version)
    report(f"{protocol}: {cipher}")
    assert protocol == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    if version == ssl.TLSVersion.TLSv1_2:
        assert "GCM" in cipher or "CHACHA20" in cipher, cipher
        assert cipher.startswith("ECDHE"), cipher


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")  # on purpose
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1],
                         ids=["TLSv1.0", "TLSv1.1"])
def test_tls_1_0_and_1_1_are_refused(tls_doors, version):
    if not client_can_offer(version):
        pytest.fail(f"this Python/OpenSSL cannot offer {version.name}; the check would prove nothing")
    with pytest.raises(ssl.SSLError) as refused:
        handshake(tls_doors["https"], tls_doors["ca"], version=version)
    report(f"{version.name}: {refused.value}")


@pytest.mark.parametrize("suite", [
    "ECDHE-ECDSA-AES128-SHA",     # CBC
    "ECDHE-ECDSA-AES256-SHA384",  # CBC
    "AES128-GCM-SHA256",          # static RSA key exchange
    "AES256-SHA",                 # static RSA, CBC
])
def test_cbc_and_static_rsa_suites_are_refused(tls_doors, suite):
    with pytest.raises(ssl.SSLError):
        handshake(tls_doors["https"], tls_doors["ca"], version=ssl.TLSVersion.TLSv1_2,
                  ciphers=suite)


def answers_over(base: str, ca: str) -> dict[str, requests.Response]:
    s = requests.Session()
    kw = {"timeout": 10, "verify": ca}
    json_type = {"Content-Type": "application/json"}
    try:
        return {
            "200 worker": s.get(base + "/health", **kw),
            "401 worker": s.get(base + "/auth/me", **kw),
            "405 worker": s.get(base + "/auth/login", **kw),
            "400 worker": s.post(base + "/auth/login", data=b"{", headers=json_type, **kw),
            "404 nginx": s.get(base + "/no/such/route", **kw),
            "413 nginx": s.post(base + "/auth/login", data=b"x" * 20000, headers=json_type, **kw),
            "405 nginx": s.put(base + "/auth/login", data=b"x" * 20000, headers=json_type, **kw),
            "200 docs": s.get(base + "/openapi.json", **kw),
            "404 docs": s.get(base + "/docs/nope.js", **kw),
            "405 docs": s.post(base + "/openapi.json", **kw),
        }
    finally:
        s.close()


def test_hsts_on_every_https_answer_and_never_over_http(tls_doors):
    for name, r in answers_over(tls_doors["https"], tls_doors["ca"]).items():
        assert r.status_code == int(name.split()[0]), (name, r.status_code, r.text[:200])
        assert r.raw.headers.getlist("Strict-Transport-Security") == [HSTS], (name, r.headers)
    for name, r in answers_over(tls_doors["http"], tls_doors["ca"]).items():
        assert r.status_code == int(name.split()[0]), (name, r.status_code)
        assert "Strict-Transport-Security" not in r.headers, (name, r.headers)


def test_the_worker_is_told_whether_the_request_was_secure(tls_doors, log_files):
    ids = {}
    for door in ("https", "http"):
        rid = f"tls-{door}-{secrets.token_hex(6)}"
        r = requests.get(tls_doors[door] + "/health", verify=tls_doors["ca"], timeout=10,
                         headers={"X-Request-ID": rid})
        assert r.status_code == 200
        ids[rid] = door == "https"
    seen = {}
    deadline = time.monotonic() + 5
    while len(seen) < len(ids) and time.monotonic() < deadline:
        for f in log_files:
            with open(f, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if '"event":"request"' in line and any(rid in line for rid in ids):
                        event = json.loads(line)
                        if event.get("request_id") in ids:
                            seen[event["request_id"]] = event.get("secure")
        time.sleep(0.1)
    assert seen == ids, f"secure flags in the worker's request lines: {seen}, want {ids}"


def test_plain_http_can_redirect_to_https(tls_doors):
    """A second nginx from the same template with HTTP_REDIRECT_TO_HTTPS=true,
    in front of the same pool."""
    root = os.environ.get("E2E_ROOT")
    sock = os.environ.get("E2E_FCGI_SOCKET")
    if not root or not sock:
        pytest.skip("E2E_ROOT / E2E_FCGI_SOCKET not set: cannot start a second nginx")
    tls_dir = os.path.dirname(tls_doors["ca"])

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    http_port, https_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, HTTP_PORT=str(http_port), HTTPS_PORT=str(https_port),
                   TLS_CERT=f"{tls_dir}/cert.pem", TLS_KEY=f"{tls_dir}/key.pem",
                   HTTP_REDIRECT_TO_HTTPS="true", IP_RATE_LIMIT="0", NGINX_PREFIX=d,
                   FCGI_TARGET=sock, NGINX_LISTEN_ADDR="127.0.0.1",
                   NGINX_ACCESS_LOG=f"{d}/access.log", NGINX_ERROR_LOG=f"{d}/error.log")
        subprocess.run([f"{root}/nginx/render.sh", f"{d}/nginx.conf"], env=env, check=True)
        nginx = subprocess.Popen(["nginx", "-e", f"{d}/error.log", "-p", d, "-c",
                                  f"{d}/nginx.conf"], start_new_session=True)
        try:
            base = f"http://127.0.0.1:{http_port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    r = requests.post(base + "/auth/login?x=1", json={}, timeout=2,
                                      allow_redirects=False)
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, "the second nginx did not start"
                    time.sleep(0.1)
            assert r.status_code == 308, r.status_code
            assert r.headers["Location"] == f"https://127.0.0.1:{https_port}/auth/login?x=1"
            assert "Strict-Transport-Security" not in r.headers
            # nginx's own error answers are not redirected: a request it
            # cannot parse gets its 400 problem on the plain door.
            bad = raw_exchange(b"GARBAGE\r\n\r\n", base_url=base)
            assert bad.status == 400 and json.loads(bad.body)["code"] == "bad_request", bad
            a = Api(base_url=f"https://localhost:{https_port}")
            try:
                h = a.get("/health")
                assert h.status_code == 200
                assert h.headers.get("Strict-Transport-Security") == HSTS
            finally:
                a.close()
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
