"""Fault tests: each causes a fault for real against the real stack
(tests/faults/faultstack.py) and checks its invariant. Run by
scripts/fault-tests.sh (`make fault-test`, a step of `make test`)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faultstack import ROOT, Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    build = Path(os.environ.get("BUILD_DIR", ROOT / "build"))
    if not build.is_absolute():
        build = ROOT / build
    s = Stack(build, workers=2, env_extra={
        # Small database timeouts so an outage costs seconds, not minutes.
        "MYSQL_CONNECT_TIMEOUT": "1", "MYSQL_READ_TIMEOUT": "2", "MYSQL_WRITE_TIMEOUT": "2",
    }).start()
    yield s
    s.close()
