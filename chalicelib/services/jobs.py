"""Clip-generation jobs: submit (start the state machine), poll, and the clip views."""
from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import ConditionFailed
from chalicelib.config import settings
from chalicelib.domain import languages
from chalicelib.domain.clock import now_iso
from chalicelib.domain.ids import looks_like_id, new_id
from chalicelib.domain.media import low_resolution
from chalicelib.errors import BadRequest, NotFound
from chalicelib.job import JobState, Media, SourceRef
from chalicelib.models import (
    ClipCounts,
    ClipList,
    ClipView,
    Failure,
    JobFinished,
    JobRunning,
    Progress,
    SubmitJob,
    Submitted,
    SummaryVideo,
    VideoSummary,
)
from chalicelib.services import wiring
from chalicelib.services.videos import own_video

TERMINAL = ("succeeded", "failed")


def submit(caller: str, req: SubmitJob) -> Submitted:
    try:  # like every option, before the video is looked up
        languages.check_transcribable(req.language, settings().transcriber)
    except languages.UnsupportedLanguage as err:
        raise BadRequest(f"language: {err}") from None
    video = own_video(caller, req.videoId)
    if video["status"] == "processing" and video.get("currentCallId"):
        # A second submit while a job runs joins it instead of rendering everything twice.
        return Submitted(callId=video["currentCallId"], status="running", alreadyRunning=True)
    _check_submittable(video, req)
    records = wiring.records()
    call_id = new_id("call")
    previous_status = video["status"]
    try:
        records.start_job_on_video(video["id"], call_id, now_iso())
    except ConditionFailed:
        current = records.get_video(video["id"]) or video
        if current["status"] == "processing" and current.get("currentCallId"):
            return Submitted(callId=current["currentCallId"], status="running", alreadyRunning=True)
        raise BadRequest(f"videoId: video {video['id']} is {current['status']} and cannot be processed") from None
    options = req.options()
    now = now_iso()
    records.put_call(
        {
            "id": call_id,
            "accountId": caller,
            "videoId": video["id"],
            "options": options.model_dump(mode="json"),
            "status": "running",
            "stage": "queued",
            "stages": {"queued": now},
            "createdAt": now,
            "updatedAt": now,
        }
    )
    pinned = video.get("sourceVersionId")
    state = JobState(
        callId=call_id, videoId=video["id"], accountId=caller,
        source=SourceRef(key=video["sourceKey"], versionId=pinned), options=options,
        # The probe's facts hold for exactly the pinned version: Prepare need not probe again.
        media=Media.model_validate(video["media"]) if pinned else None,
    )
    try:
        arn = wiring.workflow().start(call_id, state.wire())
    except Exception:
        # Leave the video as it was so the user can simply resubmit.
        records.update_video(video["id"], status=previous_status, currentCallId=video.get("currentCallId"))
        records.update_call(
            call_id, status="failed", error={"code": "start_failed", "message": "the job could not be started; retry"}
        )
        raise
    records.update_call(call_id, executionArn=arn)
    return Submitted(callId=call_id, status="running")


def _check_submittable(video: dict[str, Any], req: SubmitJob) -> None:
    status = video["status"]
    if status == "uploading":
        raise BadRequest(f"videoId: video {video['id']} is still uploading; submit it once its status is 'uploaded'")
    media = video.get("media")
    if status == "failed" and not media:
        error = (video.get("error") or {}).get("message", "its upload failed")
        raise BadRequest(f"videoId: video {video['id']} cannot be processed: {error}")
    duration = (media or {}).get("durationSeconds") or 0
    if duration and duration < req.minDuration:
        raise BadRequest(
            f"minDuration: the video is {duration:.1f} s long, shorter than minDuration {req.minDuration:g} s"
        )


def result(caller: str, call_id: str) -> tuple[int, JobRunning | JobFinished]:
    """(HTTP status, body): 202 while running, 200 when done either way."""
    call = wiring.records().get_call(call_id) if looks_like_id(call_id) else None
    if not call or call["accountId"] != caller:
        raise NotFound(f"call {call_id} not found")
    if call["status"] not in TERMINAL and call.get("executionArn"):
        execution = wiring.workflow().describe(call["executionArn"])
        if execution["status"] == "RUNNING":
            return 202, _running_view(call)
        if execution["status"] != "SUCCEEDED":
            # The Catch path normally records the failure; this covers timeouts and aborts.
            call = {**call, "status": "failed", "error": call.get("error") or _execution_error(execution)}
        else:
            call = wiring.records().get_call(call_id) or call
    if call["status"] not in TERMINAL:
        return 202, _running_view(call)
    succeeded = call["status"] == "succeeded"
    if call.get("kind") == "edit":  # a re-render of one clip: that clip, at its latest version
        edited = wiring.records().find_clip(call["clipId"])
        clips = [clip_view(edited)] if edited else []
    else:
        clips = clip_views(call["videoId"], call["id"])
    return 200, JobFinished(
        callId=call["id"],
        videoId=call["videoId"],
        status=call["status"],
        clips=clips if succeeded else None,
        error=None if succeeded else Failure(
            **(call.get("error") or {"code": "internal_error", "message": "the job failed"})
        ),
        notes=list(call.get("notes") or []),
        createdAt=call["createdAt"],
        finishedAt=call.get("finishedAt"),
        stages=call.get("stages", {}),
        language=call_language(call),
    )


def call_language(call: dict[str, Any] | None) -> str | None:
    """The language a job used: detected or given once transcribed, else the one it asked for
    (None for "auto" until detection, and for a video without speech)."""
    if not call:
        return None
    if "language" in call:  # set when transcription finished; "" when there was no speech
        return call["language"] or None
    asked = (call.get("options") or {}).get("language", languages.AUTO)
    return None if asked == languages.AUTO else asked


def _running_view(call: dict[str, Any]) -> JobRunning:
    total = call.get("clipsTotal")
    progress = Progress(clipsDone=int(call.get("clipsDone", 0)), clipsTotal=int(total)) if total else None
    return JobRunning(callId=call["id"], videoId=call["videoId"], status="running",
                      stage=call.get("stage", "queued"), progress=progress, language=call_language(call))


def _execution_error(execution: dict[str, Any]) -> dict[str, str]:
    status = execution["status"]
    if status == "TIMED_OUT":
        return {"code": "timed_out", "message": "the job took too long and was stopped; retry, or try a shorter video"}
    if status == "ABORTED":
        return {"code": "aborted", "message": "the job was stopped by an operator"}
    return {"code": "internal_error", "message": "the job failed unexpectedly; it is safe to resubmit"}


def clip_views(video_id: str, call_id: str) -> list[ClipView]:
    return [clip_view(clip) for clip in wiring.records().list_clips(video_id, call_id)]


def clip_view(clip: dict[str, Any]) -> ClipView:
    # Only a ready clip hands out links; a failed one may have partial files.
    ready = clip["status"] == "ready"
    return ClipView(
        id=clip["id"],
        title=clip["title"],
        start_seconds=clip["start"],
        end_seconds=clip["end"],
        aspect_ratio=clip["aspectRatio"],
        status=clip["status"],
        preview_url=signed_link(clip.get("key"), f"{clip['id']}.mp4") if ready else None,
        score=clip.get("score"),
        reason=clip.get("reason"),
        description=clip.get("description"),
        hashtags=list(clip.get("hashtags") or []),
        thumbnail_url=signed_link(clip.get("thumbnailKey"), f"{clip['id']}.jpg") if ready else None,
        captions_srt_url=signed_link(clip.get("captionsSrtKey"), f"{clip['id']}.srt") if ready else None,
        captions_vtt_url=signed_link(clip.get("captionsVttKey"), f"{clip['id']}.vtt") if ready else None,
        duration_seconds=clip.get("durationSeconds"),
        width=clip.get("width"),
        height=clip.get("height"),
        low_resolution=_low_resolution(clip),
        layout=clip.get("layout"),
        call_id=clip["callId"],
        language=clip.get("language") or None,
        error=Failure(**clip["error"]) if clip.get("error") else None,
        version=int(clip.get("version") or 1),
        pending_version=int(clip["pendingVersion"]) if clip.get("pendingVersion") else None,
    )


def _low_resolution(clip: dict[str, Any]) -> bool | None:
    rendered = low_resolution(clip.get("width"), clip.get("height"))
    return rendered if rendered is not None else clip.get("lowResolution")


def signed_link(key: str | None, filename: str) -> str | None:
    """A download link valid for ``KLYPH_PREVIEW_URL_SECONDS`` (an hour), or None without a file."""
    return wiring.blobs().presign_get(key, settings().preview_url_seconds, filename) if key else None


def list_clips(caller: str, video_id: str) -> ClipList:
    video = own_video(caller, video_id)
    call_id = video.get("currentCallId")
    return ClipList(clips=clip_views(video["id"], call_id) if call_id else [])


def summary(caller: str, video_id: str) -> VideoSummary:
    video = own_video(caller, video_id)
    call_id = video.get("currentCallId")
    clips = wiring.records().list_clips(video["id"], call_id) if call_id else []
    counts = {"total": len(clips), "ready": 0, "draft": 0, "failed": 0}
    for clip in clips:
        if clip["status"] in counts:
            counts[clip["status"]] += 1
    error = video.get("error")
    language = call_language(wiring.records().get_call(call_id)) if call_id else None
    return VideoSummary(
        video=SummaryVideo(id=video["id"], title=video["title"], status=video["status"], language=language,
                           error=Failure(**error) if error else None),
        counts=ClipCounts(**counts),
    )
