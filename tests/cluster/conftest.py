"""`make cluster-test` (scripts/cluster-test.sh): the server on a three-node
Galera cluster of local processes, two worker pools behind one nginx, and a
pool that prefers another node for the races across nodes
(tests/cluster/clusterstack.py). One stack for the whole run."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterstack import ROOT, ClusterStack  # noqa: E402


@pytest.fixture(scope="session")
def cluster():
    build = Path(os.environ.get("BUILD_DIR", ROOT / "build"))
    if not build.is_absolute():
        build = ROOT / build
    stack = ClusterStack(build).start()
    yield stack
    stack.close()
