"""Heavy native libraries (OpenCV, numpy, faster-whisper, the sentence encoders), imported lazily and safely.

Workers import these on first use so the API function never pays for them. But the local
stack (and any threaded worker) runs several tasks at once, and Python's per-module import
lock does not cover OpenCV: its ``cv2/__init__.py`` swaps ``sys.modules["cv2"]`` while it
bootstraps, so a second thread importing it then gets the half-initialised native module
(``module 'cv2' has no attribute 'data'``; seen failing a clip in the end-to-end test).
Every lazy import of these libraries goes through ``load``, which serialises them under one
process-wide lock: after the first import the lock costs a dictionary lookup.
"""
from __future__ import annotations

import importlib
import threading
from types import ModuleType

# One lock for all of them: numpy is imported inside cv2's and faster-whisper's own imports.
_LOCK = threading.RLock()


def load(name: str) -> ModuleType:
    """``import name`` (a module or a dotted submodule), one heavy import at a time.

    Always under the lock: for a module already imported that is a dictionary lookup, and a
    fast path that skipped the lock could hand out a module another thread is still importing.
    """
    with _LOCK:
        return importlib.import_module(name)


def numpy() -> ModuleType:
    return load("numpy")


def cv2() -> ModuleType:
    return load("cv2")
