"""What the local stack finds at start in a data directory: counts for the banner, and the jobs
that died with the previous process.

Step Functions executions run on threads of the stack's process and are not kept (only the
table and the bucket are): a job that was running when the process stopped, was killed or
crashed has no execution any more, and its call would poll 202 forever. Each such call is
settled as the state machine settles a failed job, by the real ``MarkJobFailed`` task
(``pipeline_failed``) with the error ``interrupted``: the call answers 200 ``failed``, the
clips it had not rendered are failed, the ones it had stay ready, and the video (which keeps
its source and media facts) can be submitted again. A video left ``processing`` by a submit
that died before its call was written is failed the same way, and a preparation left pending
(started at upload) is marked failed, so that no job waits for it.

This module reads the product's data model (README "Data model"): items of the one table by
their sort keys.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from devstack.persistence import Database

log = logging.getLogger("klyph.local")

CODE = "interrupted"
MESSAGE = ("the local stack stopped while this job was running (a restart, a crash or a kill); clips it had "
           "finished stay ready, and it is safe to resubmit the video")
TERMINAL = ("succeeded", "failed")


@dataclass
class Found:
    projects: int = 0
    videos: int = 0
    clips: int = 0
    interrupted: list[str] = field(default_factory=list)


def count(db: Database, table: str) -> Found:
    return Found(
        projects=db.count_with_range(table, "PROJECT#"),
        videos=db.count_with_range(table, "VIDEO", exact=True),
        clips=db.count_with_range(table, "CLIP#"),
    )


def settle_interrupted_jobs(app: Any, db: Database, table: str) -> list[str]:
    """Fail, with the code ``interrupted``, every job the previous process left running; return their call ids."""
    from chalicelib.adapters.dynamo import deserialize
    from chalicelib.domain.clock import now_iso
    from chalicelib.errors import encode
    from chalicelib.services import wiring
    from devstack.stack import LocalContext, function_name

    records = wiring.records()
    settled: list[str] = []
    calls = [deserialize(item) for item in db.items_with_range(table, "CALL", exact=True)]
    for call in calls:
        if call.get("status") in TERMINAL:
            continue
        video = records.get_video(call["videoId"])
        error = {"code": CODE, "message": MESSAGE}
        if video is None or video.get("currentCallId") != call["id"]:
            # Not (or no longer) the video's job: only the call is left to settle.
            now = now_iso()
            records.update_call(call["id"], status="failed", stage="failed", finishedAt=now, updatedAt=now,
                                error=error)
        else:
            event = {
                "callId": call["id"],
                "videoId": call["videoId"],
                "accountId": call["accountId"],
                "source": {"key": video["sourceKey"], **({"versionId": video["sourceVersionId"]}
                                                          if video.get("sourceVersionId") else {})},
                "options": call["options"],
                # What a Catch hands MarkJobFailed, with our error encoded as a task would raise it.
                "error": {"Error": "Interrupted", "Cause": json.dumps({"errorMessage": encode(CODE, MESSAGE)})},
            }
            try:
                app.handler_map["pipeline_failed"](event, LocalContext(function_name("pipeline_failed")))
            except Exception:  # e.g. options an older version stored: settle the records directly
                log.exception("MarkJobFailed could not settle %s; failing its records directly", call["id"])
                now = now_iso()
                records.update_video(call["videoId"], status="failed", error=error, updatedAt=now)
                records.update_call(call["id"], status="failed", stage="failed", finishedAt=now, updatedAt=now,
                                    error=error)
        settled.append(call["id"])
    known = {call["id"] for call in calls}
    for video in (deserialize(item) for item in db.items_with_range(table, "VIDEO", exact=True)):
        if video.get("status") == "processing" and video.get("currentCallId") not in known:
            # The submit died between marking the video and writing its call.
            records.update_video(video["id"], status="failed", error={"code": CODE, "message": MESSAGE},
                                 updatedAt=now_iso())
            settled.append(video["id"])
        preparation = video.get("preparation") or {}
        if preparation.get("status") == "pending":
            # Its execution died too: a job must not wait for it (the job prepares the source itself).
            records.update_video(video["id"], preparation={**preparation, "status": "failed",
                                                           "error": {"code": CODE, "message": MESSAGE}})
            settled.append(video["id"])
    if settled:
        log.warning("jobs interrupted by the previous stop, now failed (safe to resubmit): %s", ", ".join(settled))
    return settled
