#!/usr/bin/python3
"""A stand-in FastCGI responder, only for checking the nginx template.

It is NOT the server and never part of the test suite: it answers every
request with a JSON echo of the FastCGI params and body it received, so
scripts/nginx-check/check.py can see what nginx forwards. A request may ask
it, through headers, to misbehave the way a worker might:
  X-Standin-Status: N     answer with status N (a problem+json body)
  X-Standin-Sleep: S      sleep S seconds before answering
  X-Standin-Request-Id: V send its own X-Request-ID: V (nginx must hide it)

usage: fcgi_standin.py SOCKET_PATH_OR_HOST:PORT [LANE [POOL]]
LANE (default `hashing`) is echoed back, so check.py sees which of the
pool's two sockets nginx sent a request to; POOL (default empty) likewise
names which of several pools (FCGI_TARGETS) answered.
"""
import json
import os
import signal
import socket
import struct
import sys
import time

LANE = sys.argv[2] if len(sys.argv) > 2 else "hashing"
POOL = sys.argv[3] if len(sys.argv) > 3 else ""
FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_record(conn):
    header = read_exact(conn, 8)
    _version, rtype, req_id, clen, plen, _ = struct.unpack("!BBHHBB", header)
    content = read_exact(conn, clen)
    read_exact(conn, plen)
    return rtype, req_id, content


def parse_params(data):
    params, i = {}, 0
    while i < len(data):
        lens = []
        for _ in range(2):
            b = data[i]
            if b >> 7:
                lens.append(struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
            else:
                lens.append(b)
                i += 1
        name = data[i:i + lens[0]].decode("latin-1")
        i += lens[0]
        value = data[i:i + lens[1]].decode("latin-1")
        i += lens[1]
        params.setdefault(name, []).append(value)
    return params


def write_record(conn, rtype, req_id, content):
    for off in range(0, max(len(content), 1), 65535):
        chunk = content[off:off + 65535]
        conn.sendall(struct.pack("!BBHHBB", 1, rtype, req_id, len(chunk), 0, 0) + chunk)


def handle(conn):
    params_raw, body, req_id = b"", b"", 1
    while True:
        rtype, req_id, content = read_record(conn)
        if rtype == FCGI_PARAMS:
            params_raw += content
        elif rtype == FCGI_STDIN:
            if not content:
                break
            body += content
    params = parse_params(params_raw)
    p = {k: (v[0] if len(v) == 1 else v) for k, v in params.items()}
    if "HTTP_X_STANDIN_SLEEP" in p:
        time.sleep(float(p["HTTP_X_STANDIN_SLEEP"]))
    status = int(p.get("HTTP_X_STANDIN_STATUS", "200"))
    headers = []
    if "HTTP_X_STANDIN_REQUEST_ID" in p:
        headers.append("X-Request-ID: " + p["HTTP_X_STANDIN_REQUEST_ID"])
    if status == 204:
        payload = b""
    elif status >= 400:
        headers.append("Content-Type: application/problem+json")
        if status == 405:
            headers.append("Allow: POST")
        payload = json.dumps({"type": "about:blank", "title": "stand-in", "status": status,
                              "code": "standin", "detail": "from the stand-in",
                              "request_id": p.get("HTTP_X_REQUEST_ID", "")}).encode()
    else:
        headers.append("Content-Type: application/json")
        payload = json.dumps({"standin": True, "lane": LANE, "pool": POOL, "params": params,
                              "body_len": len(body)}).encode()
    head = "Status: %d\r\n%s\r\n\r\n" % (status, "\r\n".join(headers)) if headers else \
        "Status: %d\r\n\r\n" % status
    write_record(conn, FCGI_STDOUT, req_id, head.encode() + payload)
    write_record(conn, FCGI_STDOUT, req_id, b"")
    write_record(conn, FCGI_END_REQUEST, req_id, struct.pack("!IBBBB", 0, 0, 0, 0, 0))


def main():
    target = sys.argv[1]
    if target.startswith("/"):
        if os.path.exists(target):
            os.unlink(target)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(target)
        os.chmod(target, 0o666)
    else:
        host, port = target.rsplit(":", 1)
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, int(port)))
    srv.listen(64)
    children = []
    for _ in range(4):  # a small prefork pool, like the real one
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            while True:
                conn, _ = srv.accept()
                try:
                    handle(conn)
                except (EOFError, OSError):
                    pass
                finally:
                    conn.close()
        children.append(pid)

    def stop(_sig, _frame):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
