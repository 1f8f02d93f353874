"""``python -m bench persistence`` (``make bench-persistence``): what keeping the local stack's data costs.

1. Start-up with a big data directory. One real job (a 60 s speech video, 5 clips of 5-12 s) runs
   on a stack with its own data directory; its items and objects are then cloned, with new ids
   (object bodies hard-linked, so the copies cost no disk), into a directory of ``--videos``
   videos (default 1,000, so 5,000 clips). A stack started on it reports how long loading took
   (its banner) and how long it took to answer at all; a second ``--videos`` directory is loaded
   in process to time the alternative its maintainers suggest for moto: pickling the backends
   (bodies left out), which a snapshot-per-change design would pay on every write.
2. Memory over uploads: a fresh stack's resident memory before and after ten presigned uploads
   of a ~65 MB video (each probed by the upload trigger, as a user's would be).
3. Disk per hour of source: the sizes the real job stored, by kind, scaled to one hour.

Prints the figures; README.md quotes them.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.ffargs import ffmpeg_exe
from bench.run import free_port_pair, make_bench_video


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def one_real_job(out: Path, data: Path) -> dict[str, Any]:
    """A stack on ``data`` runs one job to the end and stops; returns its ids and timings."""
    from devstack.client import LocalStackProcess

    video = make_bench_video(out, 60, 640, 360)
    stack = LocalStackProcess(free_port_pair(), log_path=out / "persistence-job.log", data_dir=data,
                              pin_workspace=False).start()
    try:
        client = stack.client()
        project = client.create_project("Bench", stack.account_id)
        uploaded = client.upload_large(video, stack.account_id, project["id"])
        call_id = client.submit(uploaded["id"], maxClips=5, minDuration=5, maxDuration=12, aspectRatio="9:16")
        result = client.wait(call_id, timeout=900)
        assert result["status"] == "succeeded", result
    finally:
        stack.stop()
    return {"project": project["id"], "video": uploaded["id"], "call": call_id,
            "clips": [c["id"] for c in result["clips"]], "seconds": 60.0, "sourceBytes": video.stat().st_size}


def clone(src: Path, dst: Path, job: dict[str, Any], videos: int) -> None:
    """``dst``: ``src``'s data with its one video repeated ``videos`` times under new ids."""
    from chalicelib.domain.ids import new_id

    shutil.rmtree(dst, ignore_errors=True)
    (dst / "objects").mkdir(parents=True)
    shutil.copy(src / "workspace.json", dst / "workspace.json")
    db = sqlite3.connect(src / "state.sqlite3")
    items = db.execute("SELECT tbl, hk, rk, item FROM items").fetchall()
    objects = db.execute("SELECT bucket, name, versions FROM objects").fetchall()
    meta = db.execute("SELECT k, v FROM meta").fetchall()
    db.close()
    ids = [job["video"], job["call"], *job["clips"]]
    pattern = re.compile("|".join(re.escape(i) for i in ids))
    per_video = [row for row in items if any(i in row[1] + row[2] for i in ids)]
    shared = [row for row in items if row not in per_video]
    out_items = list(shared)
    out_objects = []
    for n in range(videos):
        names = {job["video"]: new_id("video"), job["call"]: new_id("call"),
                 **{clip: new_id("clip") for clip in job["clips"]}}

        def swap(text: str, names: dict[str, str] = names) -> str:
            return pattern.sub(lambda m: names[m.group(0)], text)

        out_items += [tuple(swap(col) for col in row) for row in per_video]
        for bucket, name, versions in objects:
            if not pattern.search(name):
                if n == 0:
                    out_objects.append((bucket, name, versions, json.loads(versions)))
                continue
            copies = json.loads(versions)
            for version in copies:
                if "blob" in version:
                    ident = version["blob"].split("/")[1]
                    blob = f"{ident[:2]}/{ident}-{n:05d}"
                    (dst / "objects" / blob).parent.mkdir(exist_ok=True)
                    os.link(src / "objects" / version["blob"], dst / "objects" / blob)
                    version["blob"] = blob
            out_objects.append((bucket, swap(name), None, copies))
    db = sqlite3.connect(dst / "state.sqlite3")
    db.executescript(
        """
        CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE items (tbl TEXT NOT NULL, hk TEXT NOT NULL, rk TEXT NOT NULL,
            item TEXT NOT NULL, PRIMARY KEY (tbl, hk, rk)) WITHOUT ROWID;
        CREATE TABLE objects (bucket TEXT NOT NULL, name TEXT NOT NULL,
            versions TEXT NOT NULL, PRIMARY KEY (bucket, name)) WITHOUT ROWID;
        """
    )
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", out_items)
    db.executemany("INSERT INTO objects VALUES (?, ?, ?)",
                   [(b, n, json.dumps(v, separators=(",", ":"))) for b, n, _, v in out_objects])
    db.commit()
    db.close()


def start_on(data: Path, log: Path) -> dict[str, Any]:
    """Start a stack on ``data``: seconds to a healthy answer, the banner's load figures, RSS."""
    from devstack.client import LocalStackProcess

    log.unlink(missing_ok=True)  # the stack appends to its log
    stack = LocalStackProcess(free_port_pair(), log_path=log, data_dir=data, pin_workspace=False)
    started = time.perf_counter()
    stack.start(timeout=300)
    ready = time.perf_counter() - started
    assert stack.proc is not None
    rss = rss_mb(stack.proc.pid)
    client = stack.client()
    _, page = client._call("GET", "/dev/list-projects", params={"accountId": stack.account_id})
    stack.stop()
    banner = re.search(r"loaded (\d+) projects, (\d+) videos, (\d+) clips in ([\d.]+) s", log.read_text())
    assert banner, log.read_text()[-2000:]
    return {"secondsToHealthy": round(ready, 2), "loadSeconds": float(banner.group(4)),
            "videos": int(banner.group(2)), "clips": int(banner.group(3)), "rssMB": round(rss),
            "projectsListed": len(page["projects"])}


def snapshot_cost(data: Path) -> dict[str, Any]:
    """Load ``data`` into moto in this process, then time pickling the DynamoDB and S3 backends."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import FakeKey, s3_backends

    from devstack import objectfiles
    from devstack.datadir import DataDir
    from devstack.persistence import Persistence

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        from chalicelib.adapters.dynamo import Table

        Table(boto3.client("dynamodb", region_name="us-east-1"), "klyph").create()
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="klyph-media")
        s3.put_bucket_versioning(Bucket="klyph-media", VersioningConfiguration={"Status": "Enabled"})
        work = DataDir(data).open()
        persistence = Persistence(work, "123456789012", "us-east-1")
        report = persistence.load()
        original = FakeKey.__getstate__

        def metadata_only(self: Any) -> dict[str, Any]:
            state = self.__dict__.copy()
            state.pop("_value_buffer", None)
            state.pop("lock", None)
            return state

        setattr(FakeKey, "__getstate__", metadata_only)  # noqa: B010 - bodies stay files in a snapshot too
        try:
            started = time.perf_counter()
            blob = pickle.dumps((dynamodb_backends["123456789012"]["us-east-1"], s3_backends["123456789012"]["aws"]))
            pickled = time.perf_counter() - started
        finally:
            setattr(FakeKey, "__getstate__", original)  # noqa: B010
            persistence.close()
            objectfiles.uninstall()
            work.close()
    return {"itemsLoaded": report.items, "versionsLoaded": report.versions, "inProcessLoadSeconds":
            round(report.seconds, 2), "pickleSeconds": round(pickled, 2), "pickleMB": round(len(blob) / 1e6, 1)}


def memory_over_uploads(out: Path, uploads: int) -> dict[str, Any]:
    from devstack.client import LocalStackProcess

    video = out / "upload-65mb.mp4"
    if not video.exists():
        subprocess.run(
            [ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60", "-vf", "noise=alls=40:allf=t",
             "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8500k", "-maxrate", "8500k", "-bufsize", "4M",
             "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(video)],
            check=True,
        )
    stack = LocalStackProcess(free_port_pair(), log_path=out / "persistence-uploads.log").start()
    try:
        assert stack.proc is not None
        client = stack.client()
        project = client.create_project("Uploads", stack.account_id)
        before = rss_mb(stack.proc.pid)
        seen = []
        for _ in range(uploads):
            uploaded = client.upload_large(video, stack.account_id, project["id"])
            assert uploaded["status"] == "uploaded", uploaded
            seen.append(round(rss_mb(stack.proc.pid)))
        after = rss_mb(stack.proc.pid)
    finally:
        stack.stop()
    return {"uploadMB": round(video.stat().st_size / 1e6, 1), "uploads": uploads, "rssBeforeMB": round(before),
            "rssAfterMB": round(after), "rssEachMB": seen}


def disk_per_hour(data: Path, job: dict[str, Any]) -> dict[str, Any]:
    """What the job stored, by kind; per hour of source for what grows with the source."""
    db = sqlite3.connect(data / "state.sqlite3")
    sizes: dict[str, int] = {"source": 0, "work": 0, "clips": 0}
    for name, versions in db.execute("SELECT name, versions FROM objects"):
        total = sum(v.get("size", 0) for v in json.loads(versions))
        kind = "work" if name.startswith("work/") else "source" if name.endswith("/source") else "clips"
        sizes[kind] += total
    db.close()
    sqlite_bytes = sum(p.stat().st_size for p in data.glob("state.sqlite3*"))
    hours = job["seconds"] / 3600
    return {"sourceBytes": sizes["source"], "workBytes": sizes["work"], "clipsBytes": sizes["clips"],
            "clips": len(job["clips"]), "workMBPerHour": round(sizes["work"] / hours / 1e6),
            "sqliteBytes": sqlite_bytes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench persistence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench-output"))
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--skip-uploads", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="klyph-bench-data-") as tmp:
        one, big = Path(tmp) / "one", Path(tmp) / "big"
        job = one_real_job(out, one)
        results["disk"] = disk_per_hour(one, job)
        clone(one, big, job, args.videos)
        results["startupEmpty"] = start_on(Path(tmp) / "empty", out / "persistence-startup-empty.log")
        results["startup"] = start_on(big, out / "persistence-startup.log")
        results["loadAverage"] = [round(x, 1) for x in os.getloadavg()]
        results["snapshot"] = snapshot_cost(big)
    if not args.skip_uploads:
        results["uploads"] = memory_over_uploads(out, args.uploads)
    print(json.dumps(results, indent=2))
    (out / "persistence-results.json").write_text(json.dumps(results, indent=2))
    return 0
