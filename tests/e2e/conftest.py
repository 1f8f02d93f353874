"""One real local stack (python -m devstack) for the end-to-end tests, stopped with Ctrl-C."""
from __future__ import annotations

import os
import socket
import tempfile
import time

import pytest

from devstack.client import LocalStackProcess


def free_port_pair() -> int:
    """A port p with p+1 free too (the API and its AWS stand-in)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    log = tmp_path_factory.mktemp("stack") / "local-stack.log"
    # Ranged reads as `make run` has them (tests/conftest.py turns them off for in-process moto).
    proc = LocalStackProcess(free_port_pair(), log_path=log, env={"KLYPH_RANGED_READS": "1"}).start()
    yield proc
    started = time.time()
    pid = proc.proc.pid if proc.proc else None
    code = proc.stop()
    assert code == 0, f"Ctrl-C should stop the stack cleanly, got {code}; log: {log.read_text()[-2000:]}"
    assert time.time() - started < 15
    # The sources it downloaded for its jobs went with it.
    assert not os.path.exists(os.path.join(tempfile.gettempdir(), f"klyph-sources-{pid}"))


