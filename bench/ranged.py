"""``python -m bench ranged`` (``make bench-ranged``): what a render and the face analysis read from a
2 GB source in the local AWS stand-in, in place (ranged reads of a presigned URL) against the whole
download they made before, with the index up front (``+faststart``) and at the end (as phones write it).

The source is the cached 1080p bench clip (``--clip``, about 75 MB) joined to itself ``--copies``
times without re-encoding. Bytes are counted on the wire, by a proxy in front of the stand-in that
the app's S3 endpoint points at: the download, ffmpeg's and OpenCV's ranged requests and the index
reader's GETs all pass through it. Prints JSON and keeps it in ``bench-output/ranged-results.json``;
BENCHMARKS.md ("Reading only the clip") quotes it. About 6 minutes on 2 cores, 8 GB of disk for
the time it runs (deleted at the end).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import ROOT

DEFAULT_CLIP = Path("/work/main/bench-output/work/reframe/two-shot-camera-grain.mp4")
BUCKET = "klyph-bench-ranged"
# Small socket buffers on both sides of the proxy: what it counts is then what the reader
# consumed, give or take 128 KB per connection, not what the kernel buffered before a seek.
_SOCKET_BUFFER = 64 * 1024


class CountingProxy:
    """A TCP proxy on loopback in front of ``upstream`` (host, port) counting the bytes the
    upstream sent to clients (``received``) and the connections made (``connections``)."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.received = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._stopped = False

    def start(self) -> CountingProxy:
        threading.Thread(target=self._accept, name="counting-proxy", daemon=True).start()
        return self

    def reset(self) -> None:
        with self._lock:
            self.received = self.connections = 0

    def stop(self) -> None:
        self._stopped = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SOCKET_BUFFER)
            upstream = socket.socket()
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SOCKET_BUFFER)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while chunk := src.recv(_SOCKET_BUFFER):
                dst.sendall(chunk)
                if count:
                    with self._lock:
                        self.received += len(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


class StandIn:
    """The local stack's AWS stand-in (moto with object bodies as files, ranged GETs streamed
    from them) on a data directory of its own, a versioned bucket, and a ``CountingProxy`` in
    front that the app's clients and presigned URLs point at (``configure``)."""

    def __init__(self, root: Path, bucket: str = BUCKET):
        self.root, self.bucket = root, bucket

    def start(self) -> StandIn:
        from devstack.datadir import DataDir
        from devstack.persistence import MotoServer, Persistence

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.dir = DataDir(self.root).open()
        self.persistence = Persistence(self.dir, "123456789012", "us-east-1")
        self.server = MotoServer("127.0.0.1", port, wrap=self.persistence.wsgi).start()
        self.moto_endpoint = f"http://127.0.0.1:{port}"
        self.proxy = CountingProxy(("127.0.0.1", port)).start()
        self.persistence.load()
        return self

    def configure(self, *, ranged: bool) -> None:
        """Point the app at the proxy (the S3 endpoint its presigned URLs name) and switch ranged reads."""
        from chalicelib.services import sources, wiring

        os.environ.update(KLYPH_AWS_ENDPOINT_URL=self.proxy.endpoint, KLYPH_BUCKET=self.bucket,
                          KLYPH_RANGED_READS="1" if ranged else "0")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        wiring.reset()
        sources.clear()

    def create_bucket(self) -> None:
        from chalicelib.services import wiring

        wiring.blobs().create_bucket("us-east-1")

    def stop(self) -> None:
        from chalicelib.services import sources

        sources.clear()
        # moto's state is global: the next stand-in in this process starts from nothing.
        reset = urllib.request.Request(f"{self.moto_endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        self.proxy.stop()
        self.server.stop()
        self.persistence.close()
        self.dir.close()
        from devstack import objectfiles

        objectfiles.uninstall()


def build_source(clip: Path, copies: int, dst: Path, *, faststart: bool) -> Path:
    """``clip`` joined to itself ``copies`` times, stream copied; the index up front or at the end."""
    from bench.ffargs import ffmpeg_exe

    listing = dst.with_suffix(".txt")
    listing.write_text("".join(f"file '{clip}'\n" for _ in range(copies)))
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0",
                    "-i", str(listing), "-map", "0", "-c", "copy",
                    *(["-movflags", "+faststart"] if faststart else []), str(dst)], check=True)
    listing.unlink()
    return dst


def measure_source(stand_in: StandIn, path: Path, key: str, *, start: float, seconds: float,
                   faces: bool = True) -> dict[str, Any]:
    """Upload ``path`` under ``key``, then a render of [start, start + seconds) (and its thumbnail
    frame) and the face analysis of the same range, each from the whole download and in place."""
    from chalicelib.adapters import faces as face_finder
    from chalicelib.services import sources, wiring

    stand_in.configure(ranged=True)
    stand_in.create_bucket()
    blobs = wiring.blobs()
    blobs.upload_file(str(path), key, "video/mp4")
    version = (blobs.head(key) or {})["VersionId"]
    info = wiring.ffmpeg()._probe(str(path))  # the facts the upload probe stored
    size = path.stat().st_size
    result: dict[str, Any] = {"sizeBytes": size, "durationSeconds": info.duration_seconds,
                              "clip": [start, start + seconds]}

    def render(source: Any, tmp: str) -> None:
        ffmpeg = wiring.ffmpeg()
        ffmpeg.render_clip(source, os.path.join(tmp, "clip.mp4"), start=start, end=start + seconds, aspect="9:16",
                           info=info, normalize_loudness=False)
        ffmpeg.frame(source, os.path.join(tmp, "thumb.jpg"), at=start + seconds / 3, vf="scale=404:720",
                     representative=True)

    for mode in ("download", "ranged"):
        stand_in.configure(ranged=mode == "ranged")
        stand_in.proxy.reset()
        row: dict[str, Any] = {}
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            with sources.clip_source(key, version) as source:
                row["openSeconds"] = round(time.perf_counter() - started, 2)  # the download, when there is one
                row["openBytes"] = stand_in.proxy.received
                render(source, tmp)
                row["renderTaskSeconds"] = round(time.perf_counter() - started, 2)
                row["renderTaskBytes"] = stand_in.proxy.received
                row["renderTaskRequests"] = stand_in.proxy.connections
                if faces:
                    stand_in.proxy.reset()
                    began = time.perf_counter()
                    found = face_finder.detect_faces(source, start, start + seconds,
                                                     size=(info.width or 0, info.height or 0))
                    row["facesSeconds"] = round(time.perf_counter() - began, 2)
                    row["facesBytes"] = stand_in.proxy.received
                    row["facesRequests"] = stand_in.proxy.connections
                    row["samples"] = len(found)
        sources.clear()
        result[mode] = row
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ranged", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", default=str(DEFAULT_CLIP), help="the video joined to itself into the big source")
    parser.add_argument("--copies", type=int, default=27)
    parser.add_argument("--start", type=float, help="clip start (s); default: the middle of the source")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--skip-faces", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench-output"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # The stand-in's access log prints every URL it serves, presigned ones included: as in the local stack.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    results: dict[str, Any] = {"copies": args.copies, "clipSource": Path(args.clip).name}
    work = Path(tempfile.mkdtemp(prefix="klyph-bench-ranged-", dir=out))
    try:
        for faststart in (True, False):
            name = "faststart" if faststart else "moovAtEnd"
            started = time.perf_counter()
            path = build_source(Path(args.clip), args.copies, work / f"{name}.mp4", faststart=faststart)
            print(f"{name}: built {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - started:.0f} s",
                  flush=True)
            stand_in = StandIn(work / f"data-{name}").start()
            try:
                duration = _duration(path)
                start = args.start if args.start is not None else round(duration / 2, 3)
                results[name] = measure_source(stand_in, path, f"accounts/acc_bench/videos/vid_{name}/source",
                                               start=start, seconds=args.seconds, faces=not args.skip_faces)
            finally:
                stand_in.stop()
                path.unlink(missing_ok=True)
            print(json.dumps({name: results[name]}, indent=2), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (out / "ranged-results.json").write_text(json.dumps(results, indent=2))
    return 0


def _duration(path: Path) -> float:
    from chalicelib.adapters.ffmpeg import Ffmpeg

    return Ffmpeg()._probe(str(path)).duration_seconds
