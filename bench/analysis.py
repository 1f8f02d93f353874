"""From the raw measurements to the figures the report shows."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import Any

from bench.ffargs import classify_ffmpeg, seek_of
from bench.history import (
    Span,
    event_counts,
    event_details,
    execution_span,
    orchestration,
    stage_spans,
    state_spans,
    task_output,
    task_spans,
)
from bench.procs import ChildRecord, stolen_cores


def selected_clips(events: list[dict], result: dict) -> list[dict]:
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
    # A job submitted while its upload is prepared waits for that execution's tasks (Prepare,
    # transcription): they are the job's stages too. (Each history is read apart: event ids
    # repeat across executions.)
    tasks = sorted(task_spans(events) + task_spans(job.get("preparation_events") or []), key=lambda t: t.start)
    execution = execution_span(events)
    assert execution is not None, "the job finished, so its history has its start and its end"
    clips = raw["clips"]
    children = [ChildRecord(**{k: v for k, v in c.items() if k != "seconds"}) for c in job["children"]]
    samples = job["samples"]
    host = job.get("host_cpu") or []  # not in runs before the bench read the host's steal
    cores = (raw.get("machine") or {}).get("cores")

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
            # A render's encode starts a few ms after its PlanReframe ended: the 50 ms of slack
            # (sampling, clock) must not hand it to the task before.
            owners = [t for t in owners if t.start <= child.first_seen <= t.end] or owners
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
    marked: set[str] = set()
    for t in tasks:
        row = {
            "state": t.name,
            "index": t.index,
            "seconds": t.seconds,
            "status": t.status,
            "mem": mem(t),
            "ffmpeg": kinds(t.name, t.index),
            "stolen_cores": stolen_cores(host, t.start, t.end, cores),
        }
        mark = stages.get(first_line.get(t.name, ""))
        # A stage is marked once, by its first task: a job waiting for its upload's preparation
        # runs Prepare again after each Wait, and those later runs mark nothing.
        if mark and t.name not in marked:
            marked.add(t.name)
            row["dispatch_to_first_line"] = mark.start - t.start
        rows.append(row)
    bare = raw["bare"]
    done = job.get("done_at", job["seen_done"])
    orch = orchestration(tasks, execution, job["submitted"], done)
    counts = event_counts(events)
    select_out = task_output(events, "SelectClips") or "{}"
    select_state = json.loads(select_out)
    per_clip_bytes = len(json.dumps(select_state.get("clips", []), separators=(",", ":"))) / max(1, len(clips))
    map_exit = next((e for e in events if e["type"] == "MapStateExited"), None)
    rendered = json.loads(event_details(map_exit).get("output") or "{}").get("rendered", []) if map_exit else []
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
            if any(e["type"] == "MapStateEntered" and event_details(e).get("name") == s.name for e in events)
        },
        "unattributed_ffmpeg": by_task.get(("(no task)", None), []),
        "stolen_cores": stolen_cores(host, job["submitted"], done, cores),
        "bare": bare,
    }


def task_row(a: dict, name: str, index: int | None = None) -> dict | None:
    found = [t for t in a["tasks"] if t["state"] == name and t["index"] == index and t["status"] == "succeeded"]
    return found[-1] if found else None
