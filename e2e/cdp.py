"""A small driver for headless Chromium over the Chrome DevTools Protocol:
enough to open a page, run JavaScript in it, wait for conditions, click,
collect console errors and Content-Security-Policy violations, and take a
screenshot. Debian's chromium and python3-websocket; nothing downloaded.

    with Browser.launch() as browser:
        page = browser.page()
        page.navigate("http://127.0.0.1:8080/docs")
        page.wait_for("document.querySelectorAll('.opblock').length > 0")
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from typing import Any

import websocket

# The flags these machines need (no sandbox as root; no background traffic,
# which a closed network refuses), and a fresh profile every time.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--remote-debugging-port=0", "--window-size=1280,1000"]


class BrowserError(AssertionError):
    pass


def find_chromium() -> str:
    for candidate in (os.environ.get("E2E_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserError("Chromium is not installed (Debian package `chromium`; "
                       "scripts/install-deps.sh installs it, or set E2E_CHROMIUM)")


class Page:
    def __init__(self, ws_url: str, timeout: float):
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def close(self) -> None:
        self.ws.close()

    def call(self, method: str, **params: Any) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression: str) -> Any:
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise BrowserError(f"{expression[:80]}: {r['exceptionDetails'].get('text')} "
                               f"{r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, what: str | None = None) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"waited {timeout:.0f} s for {what or expression}")
            time.sleep(0.1)

    def navigate(self, url: str) -> None:
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise BrowserError(f"navigating to {url}: {r['errorText']}")

    def screenshot(self, path: str) -> int:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        with open(path, "wb") as f:
            f.write(data)
        return len(data)

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and log errors seen so far."""
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                  for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('text')} "
                           f"{d.get('exception', {}).get('description', '')}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log ({p['entry'].get('source')}): {p['entry'].get('text')} "
                           f"{p['entry'].get('url', '')}")
        return out


class Browser:
    def __init__(self, proc: subprocess.Popen, profile: str, port: int, stderr_path: str):
        self.proc = proc
        self.profile = profile
        self.port = port
        self.stderr_path = stderr_path
        self.pages: list[Page] = []

    @classmethod
    def launch(cls, timeout: float = 30) -> "Browser":
        exe = find_chromium()
        profile = tempfile.mkdtemp(prefix="authd-chromium-")
        stderr_path = os.path.join(profile, "stderr.log")
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                tail = open(stderr_path, errors="replace").read()[-2000:]
                shutil.rmtree(profile, ignore_errors=True)
                raise BrowserError(f"Chromium ({exe}) exited with status {proc.returncode} "
                                   f"before it was ready:\n{tail}")
            if os.path.exists(port_file):
                lines = open(port_file).read().split()
                if len(lines) >= 2:
                    return cls(proc, profile, int(lines[0]), stderr_path)
            if time.monotonic() > deadline:
                browser = cls(proc, profile, 0, stderr_path)
                tail = open(stderr_path, errors="replace").read()[-2000:]
                browser.close()
                raise BrowserError(f"Chromium ({exe}) did not open its DevTools port "
                                   f"within {timeout:.0f} s:\n{tail}")
            time.sleep(0.05)

    def page(self, timeout: float = 30) -> Page:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                    timeout=timeout) as r:
            targets = json.load(r)
        target = next((t for t in targets if t.get("type") == "page"), None)
        if target is None:
            raise BrowserError(f"no page target among {targets}")
        page = Page(target["webSocketDebuggerUrl"], timeout)
        self.pages.append(page)
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        return page

    def close(self) -> None:
        for p in self.pages:
            try:
                p.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
