"""How tasks read a source video: in place over ranged requests (``clip_source``), or from a
small per-process cache of whole downloads (``local_source``).

Prepare reads all of the source's audio, so it downloads the source. A render or PlanReframe
needs only its clip: with ``KLYPH_RANGED_READS`` on (the default) ffmpeg and OpenCV read a
presigned GET of the pinned version, and the mov demuxer fetches the index and the clip's byte
ranges. A copy this process already holds is used instead: in the local stack all tasks share
one process, so a render right after prepare reads prepare's download for nothing. On Lambda
each warm container keeps its copy. Entries in use are never evicted.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.config import SOURCE_URL_SECONDS, media_sources, settings
from chalicelib.domain.media import Source, remote_input
from chalicelib.services import wiring

# Lambda's /tmp (10 GB at most) holds one 5 GB source safely, not two; the local stack
# serves several jobs from one process and keeps two.
MAX_CACHED = 1 if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else 2


class _Entry:
    def __init__(self, path: str):
        self.path = path
        self.users = 0
        self.ready = threading.Event()
        self.failed = False


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
# Per process: two processes on one machine (tests, a second local stack) must not share files.
_root = os.path.join(tempfile.gettempdir(), f"klyph-sources-{os.getpid()}")


@contextmanager
def local_source(key: str, version_id: str | None = None) -> Iterator[str]:
    """Yield a local path holding the S3 object ``key`` (that exact version when
    ``version_id`` is given), downloading each version at most once.

    The cache is keyed by version id, or ETag on an unversioned bucket: a source replaced
    by a second PUT to its upload URL is a different file and must not be served from the
    first one's copy.
    """
    head = wiring.blobs().head(key, version_id)
    if head is None:
        raise FileNotFoundError(f"s3 object {key} (version {version_id or 'latest'}) does not exist")
    version = f"{key}#{version_id or head.get('VersionId') or head.get('ETag', '')}"
    version_id = version_id or head.get("VersionId")
    with _lock:
        entry = _entries.get(version)
        stale = entry is not None and entry.ready.is_set() and not os.path.exists(entry.path)
        owner = entry is None or entry.failed or stale
        if owner:
            os.makedirs(_root, exist_ok=True)
            entry = _Entry(os.path.join(_root, hashlib.sha256(version.encode()).hexdigest()[:32]))
            _entries[version] = entry
        assert entry is not None  # owner covers a missing entry
        entry.users += 1
    try:
        if owner:
            try:
                wiring.blobs().download_file(key, entry.path, version_id)
            except BaseException:
                entry.failed = True
                raise
            finally:
                entry.ready.set()
        else:
            entry.ready.wait()
            if entry.failed:
                raise RuntimeError(f"download of {key} failed")
        yield entry.path
    finally:
        with _lock:
            entry.users -= 1
            _evict()


@contextmanager
def clip_source(key: str, version_id: str | None) -> Iterator[Source]:
    """What a render or PlanReframe opens to read a clip of the S3 object ``key``: a
    ``RemoteInput`` on the pinned version ``version_id`` (ranged reads), else a local copy.

    The local copy serves when ranged reads are off, when the source is not pinned (an older
    video whose bytes may change: it is read whole, as it is probed), and when this process
    already holds that version (no bytes to fetch at all)."""
    if not settings().ranged_reads or not version_id or _cached(key, version_id):
        with local_source(key, version_id) as path:
            yield path
        return
    blobs = wiring.blobs()
    head = blobs.head(key, version_id)
    if head is None:
        raise FileNotFoundError(f"s3 object {key} (version {version_id}) does not exist")
    size = int(head["ContentLength"])
    yield remote_input(
        blobs.presign_get(key, SOURCE_URL_SECONDS, version_id=version_id),
        allowed_prefixes=media_sources(settings()), key=key, version_id=version_id, name=f"s3://{blobs.bucket}/{key}",
        open=lambda: blobs.open_version(key, version_id, size),
    )


def _cached(key: str, version_id: str) -> bool:
    with _lock:
        entry = _entries.get(f"{key}#{version_id}")
        return entry is not None and entry.ready.is_set() and not entry.failed and os.path.exists(entry.path)


def _evict() -> None:
    idle = [k for k, e in _entries.items() if e.users == 0]
    while len(_entries) > MAX_CACHED and idle:
        key = idle.pop(0)
        entry = _entries.pop(key)
        if os.path.exists(entry.path):
            os.remove(entry.path)


def clear() -> None:
    """Forget every cached source and delete the files (a stopping process, a test)."""
    with _lock:
        _entries.clear()
        shutil.rmtree(_root, ignore_errors=True)


def remove_stale_caches() -> list[str]:
    """Delete the caches of processes that are gone (a crash, a ``kill -9``): each folder
    names its process, and one whose process no longer runs holds nothing anyone will read."""
    removed = []
    parent = os.path.dirname(_root)
    for name in os.listdir(parent):
        prefix, _, pid = name.rpartition("-")
        if prefix != "klyph-sources" or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
        removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
