"""Export a clip, or every clip of a video's latest job, as a file an editor opens: an FCPXML,
OpenTimelineIO or EDL timeline on the source, or the captions as SRT or WebVTT
(``domain.timeline``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.s3 import transcript_key, work_key
from chalicelib.domain import captions
from chalicelib.domain.filenames import clean_title
from chalicelib.domain.slug import slugify
from chalicelib.domain.timeline import CONTENT_TYPES, EXTENSIONS, Crop, Source, TimelineClip, export
from chalicelib.domain.transcript import Transcript, Word
from chalicelib.errors import Conflict
from chalicelib.models import ExportClip, ExportVideo
from chalicelib.services import wiring
from chalicelib.services.projects import owned
from chalicelib.services.videos import own_video


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    text: str


def own_clip(caller: str, clip_id: str) -> dict[str, Any]:
    return owned(caller, "clip", clip_id, wiring.records().find_clip)


def export_clip(caller: str, req: ExportClip) -> ExportFile:
    clip = own_clip(caller, req.clipId)
    if clip["status"] != "ready":
        raise Conflict(f"clipId: clip {clip['id']} is {clip['status']}; it can be exported once it is ready")
    video = own_video(caller, clip["videoId"])
    words = _TranscriptCache(video)
    text = export(req.format, _source(video), [_timeline_clip(clip, words)], clip.get("title") or video["title"])
    return ExportFile(f"{slugify(clip.get('title') or clip['id']) or clip['id']}.{EXTENSIONS[req.format]}",
                      CONTENT_TYPES[req.format], text)


def export_video(caller: str, req: ExportVideo) -> ExportFile:
    video = own_video(caller, req.videoId)
    call_id = video.get("currentCallId")
    clips = [c for c in wiring.records().list_clips(video["id"], call_id) if c["status"] == "ready"] if call_id else []
    if not clips:
        raise Conflict(f"videoId: video {video['id']} has no ready clips to export")
    words = _TranscriptCache(video)
    clips.sort(key=lambda c: c["index"])
    text = export(req.format, _source(video), [_timeline_clip(c, words) for c in clips], video["title"])
    return ExportFile(f"{slugify(video['title']) or video['id']}-clips.{EXTENSIONS[req.format]}",
                      CONTENT_TYPES[req.format], text)


def _source(video: dict[str, Any]) -> Source:
    media = video.get("media") or {}
    return Source(
        filename=clean_title(video.get("filename") or "") or f"{video['id']}.{media.get('container') or 'mp4'}",
        duration=float(media.get("durationSeconds") or 0.0), fps=media.get("fps"), width=media.get("width"),
        height=media.get("height"), has_audio=bool(media.get("hasAudio", True)),
    )


def _timeline_clip(clip: dict[str, Any], transcripts: _TranscriptCache) -> TimelineClip:
    crop = clip.get("crop")
    start, end = float(clip["start"]), float(clip["end"])
    words = captions.clip_words(transcripts.words(clip), start, end)
    return TimelineClip(
        name=clip.get("title") or clip["id"], start=start, end=end, layout=clip.get("layout"),
        crop=Crop(int(crop["x"]), int(crop["y"]), int(crop["w"]), int(crop["h"]), int(clip["width"]),
                  int(clip["height"])) if crop and clip.get("width") and clip.get("height") else None,
        cues=captions.cues(words, clip.get("language")) if words else [],
    )


class _TranscriptCache:
    """The words of each job's transcript, read once per export."""

    def __init__(self, video: dict[str, Any]):
        self.video = video
        self.loaded: dict[str, list[Word]] = {}

    def words(self, clip: dict[str, Any]) -> list[Word]:
        call_id = clip["callId"]
        if call_id not in self.loaded:
            blobs = wiring.blobs()
            # The video's transcript (with the user's corrections), else the job's.
            key = transcript_key(self.video["accountId"], self.video["id"], clip.get("language") or "-")
            if not clip.get("language") or not blobs.head(key):
                key = work_key(self.video["accountId"], self.video["id"], call_id, "transcript.json")
            # The work/ prefix expires: a timeline without captions then.
            self.loaded[call_id] = (Transcript.from_dict(json.loads(blobs.get_bytes(key))).words
                                    if blobs.head(key) else [])
        return self.loaded[call_id]
