"""In-memory stand-ins for the adapters, shared by the tests that exercise one service or task
without moto: install them with ``install(monkeypatch, records=..., blobs=...)``."""
from __future__ import annotations

import json
from typing import Any


class FakeBlobs:
    """S3 objects in a dict: JSON documents are stored as their encoded bytes."""

    def __init__(self, docs: dict[str, Any] | None = None):
        self.objects = {key: json.dumps(doc).encode() for key, doc in (docs or {}).items()}

    def get_bytes(self, key: str) -> bytes:
        return self.objects[key]

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        self.objects[key] = data


class FakeRecords:
    """The records a task writes, kept in lists and dicts for the test to read."""

    def __init__(self) -> None:
        self.clips: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.stages: list[str] = []
        self.videos: dict[str, dict[str, Any]] = {}

    def mark_stage(self, call_id: str, stage: str, now: str) -> None:
        self.stages.append(stage)

    def put_clip(self, clip: dict[str, Any]) -> None:
        self.clips.append(clip)

    def update_call(self, call_id: str, **fields: Any) -> None:
        self.calls.append(fields)

    def get_call(self, call_id: str) -> dict[str, Any] | None:
        return {"id": call_id, "stage": self.stages[-1]} if self.stages else None

    def update_video(self, video_id: str, **fields: Any) -> None:
        self.videos.setdefault(video_id, {}).update(fields)

    def list_clips(self, video_id: str, call_id: str) -> list[dict[str, Any]]:
        return [c for c in self.clips if c["videoId"] == video_id and c["callId"] == call_id]

    def update_clip(self, video_id: str, call_id: str, index: int, **fields: Any) -> None:
        for clip in self.list_clips(video_id, call_id):
            if clip["index"] == index:
                clip.update(fields)


def install(monkeypatch: Any, **adapters: Any) -> None:
    """Make ``wiring.<name>()`` return each given fake for the rest of the test."""
    from chalicelib.services import wiring

    wiring.reset()
    for name, fake in adapters.items():
        monkeypatch.setattr(wiring, name, lambda fake=fake: fake)
