"""The local stack hands back what a task freed (devstack/memory.py): without it, buffers freed on
a worker thread stay with glibc's arena and the stack's resident size only grows."""
from __future__ import annotations

import threading

import pytest

from devstack.memory import release_freed_memory

MB = 1 << 20


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def test_memory_a_worker_thread_freed_goes_back_to_the_system():
    if not release_freed_memory():
        pytest.skip("not glibc: no malloc_trim")
    pinned: list[bytearray] = []

    def task() -> None:
        # Like a task on the stack's thread: a large free raises glibc's mmap threshold, and the
        # 1 MB buffers after it come from this thread's arena; the small objects left alive
        # between them keep the arena from shrinking on its own.
        warm = bytes(MB)
        del warm
        buffers = []
        for _ in range(200):
            buffers.append(bytearray(MB))
            pinned.append(bytearray(64))
        buffers.clear()

    worker = threading.Thread(target=task)
    worker.start()
    worker.join()
    held = _resident_mb()
    assert release_freed_memory()
    # 200 MB were freed on the worker; at least 150 MB of it leaves the process.
    assert held - _resident_mb() > 150
