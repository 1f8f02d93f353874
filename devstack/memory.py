"""Freed memory handed back to the system after each Lambda task the local stack runs.

On AWS each task runs in a Lambda sandbox of its own. Here every task runs on a thread of one
long-lived process, so the memory a task frees stays with glibc's per-thread arenas unless
something returns it. That memory is the task's transient buffers: audio arrays, decoded
frames, the 1 MB chunks of an upload the trigger probed.

Returning it once, when the task is over, keeps the stack's size bounded. During the task the
allocator recycles freely.

The earlier fix forced every buffer of 128 KB or more through mmap (a fixed
``M_MMAP_THRESHOLD``). That kept memory flat but had every such allocation fault its pages in
anew. Measured inside the stack on the preparation of a 240 s talking head (Prepare and
transcription), the two ways taking turns:
- 2.7 M minor page faults instead of 0.9 M, and 8.4 s of system time instead of 2.5 s;
- StartTranscription 19-24 s, against 14-16 s. Standalone faster-whisper on the same audio
  took 12-14 s at the time. On a quiet machine the stack's transcription now takes what ours
  takes standalone (10.6-11.3 s against 10.7-11.5 s).
"""
from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any


@functools.cache
def _glibc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - musl and others have no malloc_trim: leave them alone
    except (OSError, AttributeError):
        return None
    return libc


def release_freed_memory() -> bool:
    """Return the free pages of every arena to the system (glibc's ``malloc_trim(0)``); False
    where the allocator has no such call."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
