"""The per-process cache of downloaded sources never outlives its process."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from chalicelib.services import sources


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_caches_of_dead_processes_are_removed_and_live_ones_kept():
    tmp = tempfile.gettempdir()
    dead = os.path.join(tmp, f"klyph-sources-{_dead_pid()}")
    live_child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    live = os.path.join(tmp, f"klyph-sources-{live_child.pid}")
    try:
        for folder in (dead, live):
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "source"), "wb") as fh:
                fh.write(b"\0" * 1024)
        removed = sources.remove_stale_caches()
        assert os.path.basename(dead) in removed and not os.path.exists(dead)
        assert os.path.exists(live), "a running process keeps its cache"
    finally:
        live_child.kill()
        live_child.wait()
        sources.remove_stale_caches()
    assert not os.path.exists(live)
