"""Stage times from a Step Functions execution history: task and state spans, the wall time no task
covered (orchestration), and how many events and transitions a job costs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def to_epoch(ts: Any) -> float:
    """Seconds since the epoch from a datetime (naive = UTC), an ISO 8601 string or a number."""
    if isinstance(ts, (int, float)):
        return float(ts)
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)  # Python 3.11 reads a "Z" suffix too
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
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


def event_details(event: dict) -> dict:
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
        details = event_details(e)
        if kind.endswith("StateEntered"):
            state[e["id"]] = details.get("name")
        else:
            state[e["id"]] = state.get(prev)
        if kind in _ITERATION_EVENTS:
            iteration[e["id"]] = details.get("index")
        elif kind.startswith(("MapState", "Execution")):
            iteration[e["id"]] = None
        else:
            iteration[e["id"]] = iteration.get(prev)
    return by_id, state, iteration


def task_spans(events: Sequence[dict]) -> list[Span]:
    """Each task attempt, from scheduled to succeeded (or failed), with its state and Map iteration."""
    _, state, iteration = _contexts(events)
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
    by_id, _, iteration = _contexts(events)
    spans = []
    for e in sorted(events, key=lambda e: e["id"]):
        if not e["type"].endswith("StateExited"):
            continue
        name = event_details(e)["name"]  # a StateExited event always names its state
        cursor = by_id.get(e.get("previousEventId") or 0)
        while cursor is not None:
            if cursor["type"].endswith("StateEntered") and event_details(cursor).get("name") == name:
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


def orchestration(spans: Sequence[Span], execution: Span, submitted: float, done: float) -> dict[str, Any]:
    """Where the wall time that no task spent went.

    ``submitted``: when the client sent the submit request; ``done``: when the job was done (the
    result's finishedAt; in results recorded before it was kept, when a poll first answered 200).
    Overhead = wall - time covered by at least one task, split into before the execution started
    (API + StartExecution), the gaps between tasks inside the execution (transitions, Map
    scheduling) and after it ended (negative when the record said done before the execution
    closed, as Finalize writes finishedAt).
    """
    inside = merge_intervals((max(s.start, execution.start), min(s.end, execution.end)) for s in spans)
    covered = sum(b - a for a, b in inside)
    gaps = []
    edges = [execution.start] + [x for ab in inside for x in ab] + [execution.end]
    for i in range(0, len(edges) - 1, 2):
        gap = edges[i + 1] - edges[i]
        if gap > 0:
            gaps.append((edges[i], gap))
    wall = done - submitted
    return {
        "wall": wall,
        "covered_by_tasks": covered,
        "before_execution": execution.start - submitted,
        "inside_execution": execution.seconds - covered,
        "after_execution": done - execution.end,
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
            found = event_details(e).get("output")
    return found


def stage_spans(stages: dict[str, str], finished_at: str | None) -> list[Span]:
    """The call's recorded stages (name -> start time) as spans ending where the next begins."""
    ordered = sorted(((name, to_epoch(ts)) for name, ts in stages.items()), key=lambda kv: kv[1])
    ends = [t for _, t in ordered[1:]] + [to_epoch(finished_at) if finished_at else (ordered[-1][1] if ordered else 0)]
    return [Span(name, start, end) for (name, start), end in zip(ordered, ends)]


def first_render_done(events: Sequence[dict]) -> float | None:
    """When the first clip was ready: the earliest RenderClip task that succeeded (it writes the
    clip's record, which list-clips shows, before it returns); None when none did."""
    ends = [s.end for s in task_spans(events) if s.name == "RenderClip" and s.status == "succeeded"]
    return min(ends, default=None)
