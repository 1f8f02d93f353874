"""Where the embedded local stack keeps its data (``KLYPH_DATA_DIR``), and ``make reset-data``.

A data directory holds:
- ``state.sqlite3`` (with SQLite's ``-wal`` and ``-shm`` files): every DynamoDB item and the
  S3 metadata (keys, versions, ETags, content types), written through before the AWS stand-in
  answers (``devstack/persistence.py``);
- ``objects/``: the S3 object bodies, one file per object version, never copied through memory;
- ``workspace.json`` (mode 0600): the seeded workspace's account id and API key, so ``make run``
  prints the same ones after a restart (the table only keeps the key's hash);
- ``lock``: held while a stack runs on the directory, so two stacks never share one.

Only the standard library here: ``make reset-data`` runs it without loading the stack.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / ".klyph-data"
STATE = "state.sqlite3"
OBJECTS = "objects"
WORKSPACE = "workspace.json"
LOCK = "lock"
# What a data directory may hold: reset-data removes these and nothing else.
ENTRIES = (STATE, f"{STATE}-wal", f"{STATE}-shm", f"{STATE}-journal", OBJECTS, WORKSPACE, LOCK)


def location(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``explicit``, else ``KLYPH_DATA_DIR``, else ``.klyph-data/`` in the checkout."""
    chosen = explicit or os.environ.get("KLYPH_DATA_DIR") or DEFAULT
    return Path(chosen).expanduser().resolve()


class InUse(RuntimeError):
    """Another local stack holds the directory."""


class DataDir:
    def __init__(self, root: Path):
        self.root = root
        self._lock: IO[str] | None = None

    @property
    def state(self) -> Path:
        return self.root / STATE

    @property
    def objects(self) -> Path:
        return self.root / OBJECTS

    def open(self) -> DataDir:
        """Create the directory (owner-only) and take its lock for the life of this process."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.objects.mkdir(mode=0o700, exist_ok=True)
        self._lock = _take_lock(self.root / LOCK)
        return self

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the lock
            self._lock = None

    def read_workspace(self) -> tuple[str, str] | None:
        return read_workspace(self.root)

    def write_workspace(self, account_id: str, api_key: str) -> None:
        """Replace ``workspace.json`` atomically, readable by its owner only (it holds a key in clear)."""
        path = self.root / WORKSPACE
        tmp = path.with_name(f".{WORKSPACE}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"accountId": account_id, "apiKey": api_key}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(self.root)


def read_workspace(root: Path) -> tuple[str, str] | None:
    try:
        doc = json.loads((root / WORKSPACE).read_text())
        return str(doc["accountId"]), str(doc["apiKey"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def fsync_dir(path: Path) -> None:
    """Make a new or renamed entry of ``path`` durable, not only its file's bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _take_lock(path: Path) -> IO[str]:
    fh = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise InUse(f"{path.parent} is in use by a running local stack ({holder}); stop it, "
                    "or set KLYPH_DATA_DIR to another directory") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")
    fh.flush()
    return fh


def disk_usage(root: Path) -> int:
    """Bytes the directory holds on disk."""
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - the loop returns


def reset(root: Path, force: bool = False, ask: IO[str] | None = None) -> int:
    """Delete what a data directory holds, after asking (unless ``force``); refuse while a stack runs."""
    if not root.exists():
        print(f"{root} does not exist: nothing to reset")
        return 0
    strangers = sorted(p.name for p in root.iterdir() if p.name not in ENTRIES and not p.name.startswith("."))
    if strangers:
        print(f"{root} holds files a Klyph data directory never has ({', '.join(strangers[:5])}); "
              "not touching it", file=sys.stderr)
        return 2
    try:
        lock = _take_lock(root / LOCK)
    except InUse as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        if not force:
            print(f"Delete everything the local stack keeps in {root} ({human(disk_usage(root))}): "
                  "projects, videos, clips, API keys? [y/N] ", end="", flush=True)
            answer = (ask or sys.stdin).readline().strip().lower()
            if answer not in ("y", "yes"):
                print("kept")
                return 0
        for name in ENTRIES:
            path = root / name
            if name == LOCK:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        for leftover in root.glob(f".{WORKSPACE}.*.tmp"):
            leftover.unlink()
    finally:
        lock.close()
    with contextlib.suppress(FileNotFoundError):
        (root / LOCK).unlink()
    with contextlib.suppress(OSError):
        root.rmdir()  # only if nothing else is left
    print(f"reset {root}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.datadir", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wipe = sub.add_parser("reset", help="delete everything the local stack keeps (make reset-data)")
    wipe.add_argument("--force", action="store_true", help="do not ask")
    wipe.add_argument("--dir", help="the data directory (default: KLYPH_DATA_DIR, else .klyph-data)")
    args = parser.parse_args(argv)
    return reset(location(args.dir), force=args.force)


if __name__ == "__main__":
    sys.exit(main())
