"""Videos: multipart upload, presigned upload + S3 trigger, listing, deletion, and the video view."""
from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.adapters.dynamo import ConditionFailed
from chalicelib.adapters.records import video_listing
from chalicelib.adapters.s3 import parse_source_key, source_key, video_prefix, work_prefix
from chalicelib.config import settings
from chalicelib.domain import cursor as cursors
from chalicelib.domain.clock import now_iso
from chalicelib.domain.filenames import clean_title, title_from_filename
from chalicelib.domain.ids import new_id
from chalicelib.errors import BadRequest, MediaError, NotFound
from chalicelib.models import (
    CreateUpload,
    DeleteVideo,
    Failure,
    ListVideos,
    UploadForm,
    UploadTicket,
    VideoDeleted,
    VideoList,
    VideoView,
)
from chalicelib.services import wiring
from chalicelib.services.projects import own_project, owned
from chalicelib.services.sources import local_source

log = logging.getLogger(__name__)

# How long a deleted video's tombstone outlives it: far longer than any upload URL it handed out
# (KLYPH_UPLOAD_URL_SECONDS, 15 minutes by default).
DELETED_TOMBSTONE_SECONDS = 7 * 24 * 3600


def own_video(caller: str, video_id: str) -> dict[str, Any]:
    return owned(caller, "video", video_id, wiring.records().get_video)


def video_view(video: dict[str, Any]) -> VideoView:
    media = video.get("media") or {}
    error = video.get("error")
    return VideoView(
        id=video["id"],
        title=video["title"],
        status=video["status"],
        accountId=video["accountId"],
        projectId=video["projectId"],
        filename=video.get("filename"),
        createdAt=video["createdAt"],
        updatedAt=video.get("updatedAt"),
        durationSeconds=media.get("durationSeconds"),
        width=media.get("width"),
        height=media.get("height"),
        fps=media.get("fps"),
        hasAudio=media.get("hasAudio"),
        container=media.get("container"),
        sizeBytes=media.get("sizeBytes"),
        currentCallId=video.get("currentCallId"),
        preparation=(video.get("preparation") or {}).get("status"),
        error=Failure(**error) if error else None,
    )


def list_videos(caller: str, req: ListVideos) -> VideoList:
    project = own_project(caller, caller, req.projectId)
    after = cursors.decode(req.cursor, video_listing(project["id"]), "VIDEO#")
    items, last = wiring.records().list_videos(project["id"], req.limit, after)
    return VideoList(videos=[video_view(v) for v in items], cursor=cursors.encode(last))


def delete_video(caller: str, req: DeleteVideo) -> VideoDeleted:
    """Delete a video that no job is processing: every version of every object under its two
    prefixes (source, clips, thumbnails, caption sidecars; the work/ intermediates), its clip
    records, the call records its clips and current job name, its listing item and its record.

    The record goes last and the steps may repeat, so a delete cut short (an S3 hiccup) is
    finished by retrying it; once the record is gone every route answers 404 for the video.
    """
    video = own_video(caller, req.videoId)
    records = wiring.records()
    try:
        video = records.mark_video_deleting(video["id"], now_iso())
    except ConditionFailed:
        current = records.get_video(video["id"])
        if current is None:
            raise NotFound(f"video {req.videoId} not found") from None
        raise BadRequest(
            f"videoId: video {video['id']} is processing (job {current.get('currentCallId')}); "
            "delete it once the job has finished"
        ) from None
    blobs = wiring.blobs()
    for prefix in (video_prefix(caller, video["id"]), work_prefix(caller, video["id"])):
        blobs.purge(prefix + "/")
    for call_id in records.video_call_ids(video):
        records.delete_call(call_id)
    records.delete_video(video, now_iso(), int(time.time()) + DELETED_TOMBSTONE_SECONDS)
    return VideoDeleted(videoId=video["id"], deleted=True)


def upload_multipart(caller: str, form: UploadForm, filename: str, data: bytes) -> VideoView:
    """Probe first, then store, then record: a rejected file leaves nothing behind."""
    own_project(caller, form.account_id, form.project_id)
    if not data:
        raise MediaError("empty_file", "file: the uploaded file is empty")
    limit = settings().max_multipart_bytes
    if len(data) > limit:
        raise BadRequest(
            f"file: {len(data)} bytes is over the {limit} byte limit for multipart upload; "
            "use POST /api/dev/create-upload for large files"
        )
    video_id = new_id("video")
    key = source_key(form.account_id, video_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "source")
        with open(path, "wb") as fh:
            fh.write(data)
        info = wiring.ffmpeg().probe(path)
        blobs = wiring.blobs()
        blobs.upload_file(path, key)
    # Pin the version just written: the key is new and no upload URL names it, so it is ours.
    stored = blobs.head(key) or {}
    now = now_iso()
    video = {
        "id": video_id,
        "accountId": form.account_id,
        "projectId": form.project_id,
        "title": clean_title(form.title) if form.title else title_from_filename(filename or ""),
        "filename": clean_title(filename or "")[:255],
        "status": "uploaded",
        "sourceKey": key,
        "sourceVersionId": stored.get("VersionId"),
        "media": info.to_dict(),
        "createdAt": now,
        "updatedAt": now,
    }
    try:
        _record_new_video(video)
    except NotFound:
        if stored.get("VersionId"):  # the project went while we probed: keep no orphan bytes
            blobs.delete_version(key, stored["VersionId"])
        raise
    return video_view(start_preparation(video))


def _record_new_video(video: dict[str, Any]) -> None:
    """Record a new video; NotFound if its project was deleted meanwhile (or is being deleted)."""
    try:
        wiring.records().put_video(video)
    except ConditionFailed:
        raise NotFound(f"project {video['projectId']} not found") from None


def create_upload(caller: str, req: CreateUpload) -> UploadTicket:
    own_project(caller, req.accountId, req.projectId)
    cfg = settings()
    if req.sizeBytes > cfg.max_upload_bytes:
        raise BadRequest(f"sizeBytes: {req.sizeBytes} is over the upload limit of {cfg.max_upload_bytes} bytes")
    video_id = new_id("video")
    key = source_key(req.accountId, video_id)
    now = now_iso()
    video = {
        "id": video_id,
        "accountId": req.accountId,
        "projectId": req.projectId,
        "title": clean_title(req.title) if req.title else title_from_filename(req.filename),
        "filename": clean_title(req.filename)[:255],
        "status": "uploading",
        "sourceKey": key,
        "declaredSizeBytes": req.sizeBytes,
        "createdAt": now,
        "updatedAt": now,
    }
    _record_new_video(video)
    return UploadTicket(
        videoId=video_id,
        uploadUrl=wiring.blobs().presign_put(key, cfg.upload_url_seconds, content_length=req.sizeBytes),
        method="PUT",
        headers={},
        expiresAt=now_iso(cfg.upload_url_seconds),
        video=video_view(video),
    )


def handle_uploaded_object(bucket: str, raw_key: str, version_id: str | None = None) -> dict[str, Any]:
    """S3 ObjectCreated: probe the new source and mark its video uploaded, or failed with a reason.

    The verdict is about one object version (the event's), and an accepted video pins it:
    Prepare and every render read that version, whatever is written to the key later. A
    write after acceptance (a still-valid upload URL used again) changes nothing: its
    version is deleted, so the accepted one stays the current object, and the record keeps
    what it says. A rejected upload stays replaceable and is probed afresh.
    """
    key = unquote_plus(raw_key)  # S3 events URL-encode keys
    ids = parse_source_key(raw_key)
    if ids is None:
        return {"ignored": key}
    account_id, video_id = ids
    head = wiring.blobs().head(key, version_id)
    if head is None:  # that version is gone already (deleted as a late write, or by an operator)
        return {"ignored": key}
    # S3 events name the version; the local stand-in's do not, and there the notification
    # runs inside the PUT, so the latest version is this event's.
    version_id = version_id or head.get("VersionId")
    records = wiring.records()
    video = records.get_video(video_id)
    if video is None:
        return _write_after_delete(account_id, video_id, key, version_id)
    if video["accountId"] != account_id:
        return {"ignored": key}
    if not _awaits_source(video):
        return _late_write(video, key, version_id)
    try:
        _check_declared_size(video, int(head["ContentLength"]))
        # Through the source cache: in the local stack (one process) the pipeline's
        # Prepare then reads this copy instead of downloading the file again.
        with local_source(key, version_id) as path:
            info = wiring.ffmpeg().probe(path)
    except MediaError as err:
        log.info("upload rejected", extra={"videoId": video["id"], "reason": err.code})
        verdict: dict[str, Any] = {"status": "failed", "error": {"code": err.code, "message": err.message}}
    else:
        # error=None: a corrected re-upload must not keep the first attempt's verdict.
        verdict = {"status": "uploaded", "media": info.to_dict(), "error": None, "sourceVersionId": version_id}
    try:
        settled = records.settle_upload(video["id"], updatedAt=now_iso(), **verdict)
    except ConditionFailed:  # another version of this key was accepted while we probed
        return _late_write(records.get_video(video_id) or video, key, version_id)
    if verdict["status"] == "uploaded":
        start_preparation(settled)
    return {"videoId": video["id"], "status": verdict["status"],
            **({"reason": verdict["error"]["code"]} if verdict.get("error") else {})}


def start_preparation(video: dict[str, Any]) -> dict[str, Any]:
    """Start preparing an accepted source at once (KLYPH_PREPARE_ON_UPLOAD): the state
    machine's preparation (execution ``prp_<videoId>``) extracts the audio, measures its
    loudness and transcribes it with the language detected, keeping all of it with the video.
    The video stays ``uploaded``; it shows ``preparation: pending`` until that is done. Not
    starting is no error: the job then does the work. Returns the video as recorded."""
    from chalicelib.job import JobState, Media, SourceRef
    from chalicelib.models import JobOptions

    version = video.get("sourceVersionId")
    if not settings().prepare_on_upload or not version or not video.get("media"):
        return video
    name = f"prp_{video['id']}"
    state = JobState(callId=name, videoId=video["id"], accountId=video["accountId"], prepareOnly=True,
                     source=SourceRef(key=video["sourceKey"], versionId=version), options=JobOptions(),
                     media=Media.model_validate(video["media"]))
    records = wiring.records()
    preparation = {"status": "pending", "sourceVersionId": version, "startedAt": now_iso(), "executionName": name}
    try:
        video = records.update_video(video["id"], preparation=preparation)
        wiring.workflow().start(name, state.wire())
    except ConditionFailed:  # the video was deleted meanwhile
        return video
    except Exception as exc:  # noqa: BLE001 - the upload stands; the job prepares the source itself
        log.warning("preparation not started: %s", exc, extra={"videoId": video["id"]})
        video = records.update_video(video["id"], preparation={**preparation, "status": "failed"})
    return video


def _write_after_delete(account_id: str, video_id: str, key: str, version_id: str | None) -> dict[str, Any]:
    """An upload through a URL handed out before its video was deleted: nothing may be left
    of a deleted video, so that version goes. Without a tombstone the record may simply not
    be written yet (the multipart path stores the source first): leave it alone."""
    tombstone = wiring.records().deleted_video(video_id)
    if tombstone is None or tombstone.get("accountId") != account_id or not version_id:
        return {"ignored": key}
    return _discard(video_id, key, version_id, "video_deleted", "upload to a deleted video discarded")


def _awaits_source(video: dict[str, Any]) -> bool:
    return video["status"] == "uploading" or (video["status"] == "failed" and not video.get("media"))


def _check_declared_size(video: dict[str, Any], size: int) -> None:
    declared = video.get("declaredSizeBytes")
    if declared is not None and size != declared:
        raise MediaError(
            "size_mismatch",
            f"The upload is {size} bytes but create-upload declared sizeBytes {declared}; "
            "upload the file you declared, or ask for a new upload URL with its real size.",
        )


def _late_write(video: dict[str, Any], key: str, version_id: str | None) -> dict[str, Any]:
    pinned = video.get("sourceVersionId")
    if version_id and pinned and version_id != pinned:
        return _discard(video["id"], key, version_id, "source_already_accepted",
                        "write to an accepted source ignored and its version deleted")
    return {"ignored": key}


def _discard(video_id: str, key: str, version_id: str, reason: str, why: str) -> dict[str, Any]:
    """Delete one version of a source that must not stay: the key's accepted version (if any)
    stays the current object."""
    log.warning(why, extra={"videoId": video_id, "versionId": version_id})
    wiring.blobs().delete_version(key, version_id)
    return {"videoId": video_id, "ignored": key, "reason": reason}
