"""Clip-generation jobs: submit (start the state machine), poll, and the clip views."""
from __future__ import annotations

import functools
import logging
from typing import Any

from chalicelib.adapters.dynamo import ConditionFailed
from chalicelib.config import settings
from chalicelib.domain.clock import now_iso
from chalicelib.domain.ids import looks_like_id, new_id
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import SubmitJob
from chalicelib.services import wiring
from chalicelib.services.videos import own_video

log = logging.getLogger(__name__)

TERMINAL = ("succeeded", "failed")


def submit(caller: str, req: SubmitJob) -> dict[str, Any]:
    video = own_video(caller, req.videoId)
    if video["status"] == "processing" and video.get("currentCallId"):
        # A second submit while a job runs joins it instead of rendering everything twice.
        return {"callId": video["currentCallId"], "status": "running", "alreadyRunning": True}
    _check_submittable(video, req)
    records = wiring.records()
    call_id = new_id("call")
    previous_status = video["status"]
    try:
        records.start_job_on_video(video["id"], call_id, now_iso())
    except ConditionFailed:
        current = records.get_video(video["id"]) or video
        if current["status"] == "processing" and current.get("currentCallId"):
            return {"callId": current["currentCallId"], "status": "running", "alreadyRunning": True}
        raise BadRequest(f"videoId: video {video['id']} is {current['status']} and cannot be processed")
    options = req.model_dump(exclude={"videoId"})
    now = now_iso()
    records.put_call(
        {
            "id": call_id,
            "accountId": caller,
            "videoId": video["id"],
            "options": options,
            "status": "running",
            "stage": "queued",
            "stages": {"queued": now},
            "createdAt": now,
            "updatedAt": now,
        }
    )
    payload = {
        "callId": call_id,
        "videoId": video["id"],
        "accountId": caller,
        "sourceKey": video["sourceKey"],
        "options": options,
    }
    try:
        arn = wiring.workflow().start(call_id, payload)
    except Exception:
        # Leave the video as it was so the user can simply resubmit.
        records.update_video(video["id"], status=previous_status, currentCallId=video.get("currentCallId"))
        records.update_call(call_id, status="failed", error={"code": "start_failed", "message": "the job could not be started; retry"})
        raise
    records.update_call(call_id, executionArn=arn)
    return {"callId": call_id, "status": "running"}


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


def result(caller: str, call_id: str) -> tuple[int, dict[str, Any]]:
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
    body: dict[str, Any] = {"callId": call["id"], "videoId": call["videoId"], "status": call["status"]}
    if call["status"] == "succeeded":
        body["clips"] = clip_views(call["videoId"], call["id"])
    else:
        body["error"] = call.get("error") or {"code": "internal_error", "message": "the job failed"}
    body["createdAt"] = call["createdAt"]
    body["finishedAt"] = call.get("finishedAt")
    body["stages"] = call.get("stages", {})
    return 200, body


def _running_view(call: dict[str, Any]) -> dict[str, Any]:
    view = {"callId": call["id"], "videoId": call["videoId"], "status": "running", "stage": call.get("stage", "queued")}
    total = call.get("clipsTotal")
    if total:
        view["progress"] = {"clipsDone": int(call.get("clipsDone", 0)), "clipsTotal": int(total)}
    return view


def _execution_error(execution: dict[str, Any]) -> dict[str, str]:
    status = execution["status"]
    if status == "TIMED_OUT":
        return {"code": "timed_out", "message": "the job took too long and was stopped; retry, or try a shorter video"}
    if status == "ABORTED":
        return {"code": "aborted", "message": "the job was stopped by an operator"}
    return {"code": "internal_error", "message": "the job failed unexpectedly; it is safe to resubmit"}


def clip_views(video_id: str, call_id: str) -> list[dict[str, Any]]:
    blobs = wiring.blobs()
    expires = settings().preview_url_seconds
    views = []
    for clip in wiring.records().list_clips(video_id, call_id):
        signed = functools.partial(_signed_url, blobs, clip, expires)
        view = {
            "id": clip["id"],
            "title": clip["title"],
            "start_seconds": clip["start"],
            "end_seconds": clip["end"],
            "aspect_ratio": clip["aspectRatio"],
            "status": clip["status"],
            "preview_url": signed("key", "mp4"),
            "score": clip.get("score"),
            "reason": clip.get("reason"),
            "description": clip.get("description"),
            "thumbnail_url": signed("thumbnailKey", "jpg"),
            "captions_srt_url": signed("captionsSrtKey", "srt"),
            "captions_vtt_url": signed("captionsVttKey", "vtt"),
            "duration_seconds": clip.get("durationSeconds"),
            "width": clip.get("width"),
            "height": clip.get("height"),
            "call_id": call_id,
        }
        if clip.get("error"):
            view["error"] = clip["error"]
        views.append(view)
    return views


def _signed_url(blobs: Any, clip: dict[str, Any], expires: int, key_field: str, suffix: str) -> str | None:
    # Only a ready clip hands out links; a failed one may have partial files.
    key = clip.get(key_field) if clip["status"] == "ready" else None
    return blobs.presign_get(key, expires, f"{clip['id']}.{suffix}") if key else None


def list_clips(caller: str, video_id: str) -> dict[str, Any]:
    video = own_video(caller, video_id)
    call_id = video.get("currentCallId")
    return {"clips": clip_views(video["id"], call_id) if call_id else []}


def summary(caller: str, video_id: str) -> dict[str, Any]:
    video = own_video(caller, video_id)
    call_id = video.get("currentCallId")
    clips = wiring.records().list_clips(video["id"], call_id) if call_id else []
    counts = {"total": len(clips), "ready": 0, "draft": 0, "failed": 0}
    for clip in clips:
        if clip["status"] in counts:
            counts[clip["status"]] += 1
    view = {"id": video["id"], "title": video["title"], "status": video["status"]}
    if video.get("error"):
        view["error"] = video["error"]
    return {"video": view, "counts": counts}
