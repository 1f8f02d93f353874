"""A user's edits of a clip: new boundaries, title, description or caption style
(update-clip), corrected words (clip-transcript, update-transcript). Each edit renders the clip
again as a new version, in a render-only execution of the state machine named ``edt_<ULID>``
(its call id, which process-video-result answers for). The clip keeps showing its latest ready
version, with ``pending_version`` while the next one renders; the video's current job, its
status and its clip counts do not change.

The words come from the video's transcript, kept with the video (``transcript_key``), where
corrections are stored, so they hold for every later clip of the video; a video transcribed
before that copy existed gets it from its job's transcript on its first edit.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.dynamo import ConditionFailed
from chalicelib.adapters.s3 import transcript_key, work_key
from chalicelib.domain import edits
from chalicelib.domain.clock import now_iso
from chalicelib.domain.ids import new_id
from chalicelib.domain.transcript import Transcript
from chalicelib.errors import BadRequest, Conflict
from chalicelib.job import ClipRef, EditRef, Media, RenderItem, SourceRef
from chalicelib.models import (
    CaptionStyleOptions,
    ClipTranscript,
    ClipTranscriptQuery,
    ClipUpdated,
    JobOptions,
    TranscriptWord,
    UpdateClip,
    UpdateTranscript,
)
from chalicelib.services import wiring
from chalicelib.services.exports import own_clip
from chalicelib.services.videos import own_video


def update_clip(caller: str, req: UpdateClip) -> ClipUpdated:
    clip = own_clip(caller, req.clipId)
    video = own_video(caller, clip["videoId"])
    _check_editable(clip)
    start = req.startSeconds if req.startSeconds is not None else float(clip["start"])
    end = req.endSeconds if req.endSeconds is not None else float(clip["end"])
    transcript, key = video_transcript(video, clip)
    duration = float((video.get("media") or {}).get("durationSeconds") or 0.0)
    if req.startSeconds is not None or req.endSeconds is not None:
        try:
            span = edits.snap(transcript.words if transcript else [], start, end, duration)
        except edits.EditRejected as err:
            raise BadRequest(str(err)) from None
        start, end = span.start, span.end
    options = job_options(clip)
    if req.captionStyle is not None:
        options = options.model_copy(update={"captionStyle": req.captionStyle})
    return rerender(caller, video, clip, start, end, options, key, title=req.title, description=req.description)


def job_options(clip: dict[str, Any]) -> JobOptions:
    """The options the clip was rendered with: its job's, with the caption style an edit gave it."""
    call = wiring.records().get_call(clip["callId"]) or {}
    options = JobOptions.model_validate(call.get("options") or {})
    if clip.get("captionStyle") is not None:
        options = options.model_copy(update={"captionStyle": CaptionStyleOptions.model_validate(clip["captionStyle"])})
    return options


def _check_editable(clip: dict[str, Any]) -> None:
    if clip["status"] == "draft":
        raise Conflict(f"clipId: clip {clip['id']} is still being rendered by its job")
    if clip.get("pendingVersion"):
        raise Conflict(f"clipId: version {clip['pendingVersion']} of clip {clip['id']} is rendering "
                       f"(callId {clip.get('pendingCallId')}); edit it once that is done")


def video_transcript(video: dict[str, Any], clip: dict[str, Any]) -> tuple[Transcript | None, str]:
    """(the video's transcript in the clip's language, its key); a copy of the clip's job's
    transcript is made there when the video has none yet. None without speech."""
    blobs = wiring.blobs()
    language = clip.get("language") or ""
    job_key = work_key(video["accountId"], video["id"], clip["callId"], "transcript.json")
    if not language:
        return None, job_key
    key = transcript_key(video["accountId"], video["id"], language)
    if blobs.head(key):
        return Transcript.from_dict(json.loads(blobs.get_bytes(key))), key
    if not blobs.head(job_key):
        raise Conflict(f"clipId: the transcript of clip {clip['id']}'s job has expired; submit the video again")
    from chalicelib.services.pipeline import store_video_transcript

    transcript = Transcript.from_dict(json.loads(blobs.get_bytes(job_key)))
    return transcript, store_video_transcript(video["accountId"], video["id"], transcript,
                                              video.get("sourceVersionId"))


def rerender(caller: str, video: dict[str, Any], clip: dict[str, Any], start: float, end: float,
             options: JobOptions, transcript: str, *, title: str | None = None,
             description: str | None = None) -> ClipUpdated:
    """Start the render-only execution of the clip's next version."""
    records = wiring.records()
    edit_id = new_id("edit")
    version = int(clip.get("version") or 1) + 1
    now = now_iso()
    try:
        records.start_clip_version(clip["videoId"], clip["callId"], clip["index"], version,
                                   [*(clip.get("editCallIds") or []), edit_id], now)
    except ConditionFailed:
        raise Conflict(f"clipId: another version of clip {clip['id']} is rendering; edit it once that is done") \
            from None
    records.put_call({
        "id": edit_id, "kind": "edit", "accountId": caller, "videoId": video["id"], "clipId": clip["id"],
        "jobCallId": clip["callId"], "version": version, "options": options.model_dump(mode="json"),
        "language": clip.get("language") or "", "status": "running", "stage": "queued", "stages": {"queued": now},
        "createdAt": now, "updatedAt": now,
    })
    item = RenderItem(
        clip=ClipRef(index=clip["index"], id=clip["id"], start=start, end=end), callId=clip["callId"],
        videoId=video["id"], accountId=caller,
        source=SourceRef(key=video["sourceKey"], versionId=video.get("sourceVersionId")),
        media=Media.model_validate(video["media"]), transcriptKey=transcript, options=options,
        edit=EditRef(callId=edit_id, version=version, title=title, description=description),
    )
    try:
        arn = wiring.workflow().start(edit_id, item.wire())
    except Exception:
        records.end_clip_version(clip["videoId"], clip["callId"], clip["index"])
        records.update_call(edit_id, status="failed",
                            error={"code": "start_failed", "message": "the edit could not be started; retry"})
        raise
    records.update_call(edit_id, executionArn=arn)
    return ClipUpdated(clipId=clip["id"], version=version, callId=edit_id)


def clip_word_indexes(transcript: Transcript, start: float, end: float) -> list[int]:
    """The transcript's words the clip's captions show: those mostly inside [start, end)."""
    out = []
    for k, w in enumerate(transcript.words):
        inside = min(w.end, end) - max(w.start, start)
        if inside > 0 and inside >= 0.5 * (w.end - w.start) and w.text.strip():
            out.append(k)
    return out


def clip_transcript(caller: str, req: ClipTranscriptQuery) -> ClipTranscript:
    clip = own_clip(caller, req.clipId)
    video = own_video(caller, clip["videoId"])
    transcript, _ = video_transcript(video, clip)
    indexes = clip_word_indexes(transcript, float(clip["start"]), float(clip["end"])) if transcript else []
    return ClipTranscript(
        clipId=clip["id"], version=int(clip.get("version") or 1), language=clip.get("language") or None,
        words=[TranscriptWord(index=k, text=w.text, start=w.start, end=w.end, confidence=w.confidence)
               for k in indexes for w in [transcript.words[k]]] if transcript else [],
    )


def update_transcript(caller: str, req: UpdateTranscript) -> ClipUpdated:
    """Replace misheard words inside the clip's span in the video's transcript (where later clips
    read them too) and render the clip's captions and sidecars again as a new version."""
    clip = own_clip(caller, req.clipId)
    video = own_video(caller, clip["videoId"])
    _check_editable(clip)
    transcript, key = video_transcript(video, clip)
    indexes = clip_word_indexes(transcript, float(clip["start"]), float(clip["end"])) if transcript else []
    allowed = set(indexes)
    for n, word in enumerate(req.words):
        if word.index not in allowed:
            span = f"its words are {indexes[0]}-{indexes[-1]}" if indexes else "it has no words"
            raise BadRequest(f"words.{n}.index: word {word.index} is not in clip {clip['id']} ({span})")
    assert transcript is not None  # words were allowed, so there is a transcript
    corrected = edits.correct(transcript, {w.index: " ".join(w.text.split()) for w in req.words})
    save_corrections(key, transcript, corrected, video.get("sourceVersionId"))
    return rerender(caller, video, clip, float(clip["start"]), float(clip["end"]), job_options(clip), key)


def save_corrections(key: str, before: Transcript, after: Transcript, source_version_id: str | None) -> None:
    """The corrected transcript over the video's, with the list of corrections so far (a later
    transcription of the same source applies them again: ``pipeline.with_corrections``)."""
    blobs = wiring.blobs()
    stored = json.loads(blobs.get_bytes(key)) if blobs.head(key) else {}
    corrections = {c["index"]: c for c in stored.get("corrections") or []}
    now = now_iso()
    for k, (old, new) in enumerate(zip(before.words, after.words)):
        if old.text != new.text:
            corrections[k] = {"index": k, "start": new.start, "end": new.end, "heard": corrections.get(k, {})
                              .get("heard", old.text), "text": new.text, "at": now}
    doc = {**after.to_dict(), "sourceVersionId": stored.get("sourceVersionId", source_version_id),
           "corrections": sorted(corrections.values(), key=lambda c: c["index"])}
    blobs.put_bytes(key, json.dumps(doc, separators=(",", ":")).encode())
