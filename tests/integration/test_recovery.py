"""At start, the local stack settles the jobs its previous process left running
(devstack/recovery.py): their executions died with it, and a poll must not answer 202 forever."""
from __future__ import annotations

import json

from chalicelib.domain.ids import new_id


def test_jobs_left_running_are_failed_as_interrupted(aws, tmp_path):
    import boto3

    from chalicelib.config import settings
    from chalicelib.models import JobOptions
    from chalicelib.services import jobs, wiring
    from devstack import recovery
    from devstack.persistence import Database, key_text

    records = wiring.records()
    account = new_id("account")
    now = "2026-01-01T00:00:00Z"
    media = {"container": "mp4", "durationSeconds": 60.0, "width": 640, "height": 360, "fps": 25.0,
             "hasAudio": True, "hasVideo": True, "sizeBytes": 1000}

    # Videos are only ever written into a project that exists (records.put_video checks it).
    records.put_project({"id": "proj_x", "accountId": account, "name": "x", "slug": "x", "createdAt": now})

    def video(status: str, call_id: str) -> str:
        video_id = new_id("video")
        records.put_video({"id": video_id, "accountId": account, "projectId": "proj_x", "title": "t",
                           "status": status, "sourceKey": f"accounts/{account}/videos/{video_id}/source",
                           "sourceVersionId": "v1", "media": media, "currentCallId": call_id,
                           "createdAt": now, "updatedAt": now})
        return video_id

    def call(call_id: str, video_id: str, status: str) -> None:
        records.put_call({"id": call_id, "accountId": account, "videoId": video_id, "status": status,
                          "options": JobOptions().model_dump(mode="json"), "stage": "rendering",
                          "stages": {"queued": now}, "createdAt": now, "updatedAt": now})

    def clip(video_id: str, call_id: str, index: int, status: str) -> None:
        records.put_clip({"id": new_id("clip"), "videoId": video_id, "callId": call_id, "accountId": account,
                          "index": index, "start": 0.0, "end": 10.0, "title": "c", "aspectRatio": "9:16",
                          "status": status, "createdAt": now})

    # A job cut off mid-render: its first clip was ready, its second still a draft.
    cut_call = new_id("call")
    cut = video("processing", cut_call)
    call(cut_call, cut, "running")
    clip(cut, cut_call, 0, "ready")
    clip(cut, cut_call, 1, "draft")
    # A submit that died after marking its video, before writing its call.
    orphan = video("processing", new_id("call"))
    # A finished job: nothing to do.
    done_call = new_id("call")
    done = video("ready", done_call)
    call(done_call, done, "succeeded")
    # An upload whose preparation (started at upload) was running.
    preparing = video("uploaded", "")
    records.update_video(preparing, currentCallId=None,
                         preparation={"status": "pending", "sourceVersionId": "v1", "startedAt": now})

    # What the data directory holds: the same items, as the write-through stored them.
    table = settings().table_name
    db = Database(tmp_path / "state.sqlite3")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    db.write_items([(table, key_text(i["pk"]), key_text(i["sk"]), json.dumps(i)) for i in items])

    settled = recovery.settle_interrupted_jobs(aws, db, table)

    assert settled == [cut_call, orphan, preparing]
    status, result = jobs.result(account, cut_call)
    assert status == 200 and result.status == "failed"
    assert result.error.code == "interrupted" and "safe to resubmit" in result.error.message
    assert [c["status"] for c in records.list_clips(cut, cut_call)] == ["ready", "failed"]
    for video_id in (cut, orphan):
        stored = records.get_video(video_id)
        assert stored["status"] == "failed" and stored["error"]["code"] == "interrupted"
        assert stored["media"], "it keeps its media facts: it can be submitted again"
    assert records.get_video(done)["status"] == "ready"
    assert records.get_call(done_call)["status"] == "succeeded"
    stored = records.get_video(preparing)
    assert stored["status"] == "uploaded" and stored["preparation"]["status"] == "failed", "no job waits for it"
    assert recovery.count(db, table).videos == 4
