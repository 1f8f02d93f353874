"""API latency under open-loop load, and the import time of the API module (what a cold start pays)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import ROOT


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, not {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def parse_importtime(stderr: str, module: str) -> tuple[float | None, list[tuple[str, float]]]:
    """From ``python -X importtime`` output: ``module``'s cumulative seconds and its heaviest
    direct imports (name, cumulative seconds)."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if m:
            rows.append((len(m.group(3)), m.group(4), int(m.group(2)) / 1e6))
    total = None
    top_index = None
    for i, (depth, name, cumulative) in enumerate(rows):
        if name == module and depth == 1:
            total, top_index = cumulative, i
    if top_index is None:
        return None, []
    # Children of the top-level module print before it, indented one level more (3 spaces).
    start = top_index
    while start > 0 and rows[start - 1][0] > 1:
        start -= 1
    direct = [(name, c) for depth, name, c in rows[start:top_index] if depth == 3]
    return total, sorted(direct, key=lambda kv: -kv[1])[:6]


def package_import_times(stderr: str, packages: Sequence[str]) -> dict[str, float]:
    """Cumulative import seconds of each named top-level package, wherever it was first imported."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+(\S+)", line)
        if m and m.group(2) in packages:
            found[m.group(2)] = max(found.get(m.group(2), 0.0), int(m.group(1)) / 1e6)
    return found


def steady_load(
    send: Callable[[Any], int],
    make_session: Callable[[], Any],
    rate: float,
    seconds: float,
    ok: Sequence[int] = (200,),
    workers: int = 16,
) -> dict[str, Any]:
    """Open-loop load: requests start on a fixed schedule (``rate`` per second), whatever the
    latency, and each latency counts from its scheduled start, so a stall shows up in p99
    instead of silently lowering the rate."""
    local = threading.local()
    n = max(1, int(rate * seconds))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(scheduled: float) -> None:
        if not hasattr(local, "session"):
            local.session = make_session()
        status: int | str
        try:
            status = send(local.session)
            good = status in ok
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            status, good = repr(exc)[:80], False
        done = time.perf_counter()
        with lock:
            latencies.append(done - scheduled)
            if not good:
                errors.append(str(status))

    t0 = time.perf_counter() + 0.05
    with ThreadPoolExecutor(workers) as pool:
        for i in range(n):
            scheduled = t0 + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, scheduled)
    elapsed = time.perf_counter() - t0
    return {
        "n": n,
        "rate": n / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
        "errors": len(errors),
        "error_sample": errors[:3],
    }


def import_time() -> dict[str, Any]:
    py = sys.executable
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    it = subprocess.run(
        [py, "-X", "importtime", "-c", "import app"], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    cumulative, top = parse_importtime(it.stderr, "app")
    packages = package_import_times(it.stderr, ("boto3", "pydantic", "chalice"))

    def best(code: str) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([py, "-c", code], cwd=ROOT, check=True, env=env)
            times.append(time.perf_counter() - t)
        return min(times)

    bare, with_app = best("pass"), best("import app")
    heavy = subprocess.run(
        [
            py,
            "-c",
            (
                "import app, sys; print(','.join(m for m in ('numpy', 'faster_whisper', 'ctranslate2', 'cv2', "
                "'wordllama', 'moviepy', 'PIL', 'onnxruntime') if m in sys.modules))"
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    ).stdout.strip()
    return {
        "importtime_cumulative": cumulative,
        "top": top,
        "packages": packages,
        "python_pass": bare,
        "python_import_app": with_app,
        "import_app": with_app - bare,
        "heavy_modules_loaded": heavy.split(",") if heavy else [],
    }
