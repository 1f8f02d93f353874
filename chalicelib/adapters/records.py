"""Klyph's records on the single DynamoDB table: one method per thing the services need.

Key layout is in ``adapters/dynamo.py``. Ownership checks live in the services;
this layer only knows keys.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import ConditionFailed, Table
from chalicelib.domain.clock import iso_shifted
from chalicelib.domain.slug import numbered

# Statuses from which a video may start a new job. A video whose upload failed
# has no usable source and is not listed; one whose processing failed keeps its
# source and may be resubmitted.
SUBMITTABLE_STATUSES = ("uploaded", "ready", "failed")


class Records:
    def __init__(self, table: Table):
        self.table = table

    def ping(self) -> None:
        """Raise unless the table answers (the health route)."""
        self.table.ping()

    # accounts and API keys
    def put_account(self, account_id: str, attrs: dict[str, Any]) -> None:
        self.table.put(f"ACCOUNT#{account_id}", "ACCOUNT", {"id": account_id, **attrs})

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        return self.table.get(f"ACCOUNT#{account_id}", "ACCOUNT")

    def put_api_key(self, key_hash: str, attrs: dict[str, Any]) -> None:
        self.table.put(f"KEY#{key_hash}", "KEY", attrs)

    def get_api_key(self, key_hash: str) -> dict[str, Any] | None:
        return self.table.get(f"KEY#{key_hash}", "KEY")

    def revoke_api_key(self, key_hash: str, now: str) -> bool:
        """Mark a key revoked; False if there is no such key."""
        try:
            self.table.update(f"KEY#{key_hash}", "KEY", set={"revoked": True, "revokedAt": now})
        except ConditionFailed:
            return False
        return True

    # idempotency keys (services/idempotency.py): one item per (account, route, key)
    def claim_idempotency_key(self, account_id: str, scope: str, attrs: dict[str, Any], now_epoch: int) -> bool:
        """Claim the key for a first request; False if it is held. A claim still ``running``
        past its ``claimExpiresAt`` (its request was killed) may be taken over."""
        try:
            self.table.put_new(
                f"IDEMP#{account_id}", scope, attrs,
                takeover="#state = :running AND #claimExpiresAt < :now",
                takeover_values={":running": "running", ":now": now_epoch},
            )
        except ConditionFailed:
            return False
        return True

    def get_idempotency_key(self, account_id: str, scope: str) -> dict[str, Any] | None:
        return self.table.get(f"IDEMP#{account_id}", scope)

    def finish_idempotency_key(self, account_id: str, scope: str, status: int, response: str) -> None:
        self.table.update(f"IDEMP#{account_id}", scope, set={"state": "done", "status": status, "response": response})

    def release_idempotency_key(self, account_id: str, scope: str) -> None:
        self.table.delete(f"IDEMP#{account_id}", scope)

    # projects
    def claim_slug(self, account_id: str, base: str, project_id: str) -> str:
        """Reserve a slug unique in the account, race-free.

        An atomic counter per base slug hands each request its own number, so
        concurrent creates never fight over one candidate; the conditional put
        still guards against a slug taken by a different base (a project named
        "Talk 2" owns "talk-2").
        """
        pk = f"ACCOUNT#{account_id}"
        while True:
            seq = self.table.update(pk, f"SLUGSEQ#{base}", add={"n": 1}, must_exist=False)["n"]
            slug = numbered(base, int(seq))
            try:
                self.table.put_new(pk, f"SLUG#{slug}", {"projectId": project_id})
                return slug
            except ConditionFailed:
                continue

    def put_project(self, project: dict[str, Any]) -> None:
        self.table.put_new(f"ACCOUNT#{project['accountId']}", f"PROJECT#{project['id']}", project)

    def get_project(self, account_id: str, project_id: str) -> dict[str, Any] | None:
        return self.table.get(f"ACCOUNT#{account_id}", f"PROJECT#{project_id}")

    def list_projects(
        self, account_id: str, limit: int, after: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """A page of the account's projects, newest first (project ids are ULIDs)."""
        return self.table.query_page(project_listing(account_id), "PROJECT#", limit, start_after=after,
                                     newest_first=True)

    def start_deleting_project(self, account_id: str, project_id: str, now: str) -> None:
        """Flag the project while its delete checks that it is empty: a video created meanwhile
        (``put_video``) is refused instead of landing in a project about to vanish."""
        self.table.update(f"ACCOUNT#{account_id}", f"PROJECT#{project_id}", set={"deletingSince": now})

    def stop_deleting_project(self, account_id: str, project_id: str) -> None:
        self.table.update(f"ACCOUNT#{account_id}", f"PROJECT#{project_id}", remove=["deletingSince"])

    def delete_project(self, account_id: str, project_id: str) -> None:
        # The slug item stays: slugs are never handed out again (see services/projects.py).
        self.table.delete(f"ACCOUNT#{account_id}", f"PROJECT#{project_id}")

    # videos
    def put_video(self, video: dict[str, Any]) -> None:
        """The video record and its listing item in its project's partition (what list-videos
        queries; it only points at the video, whose record is read for the view), in one
        transaction that holds only while the project exists and no delete of it is under way
        (``start_deleting_project``; a flag set ``PROJECT_DELETE_FLAG_SECONDS`` before the
        video's ``createdAt`` is stale: its delete died). ConditionFailed otherwise, and nothing is written."""
        listing = {"videoId": video["id"], "accountId": video["accountId"], "createdAt": video["createdAt"]}
        self.table.put_new_if(
            [(f"VIDEO#{video['id']}", "VIDEO", video),
             (video_listing(video["projectId"]), f"VIDEO#{video['id']}", listing)],
            check=(f"ACCOUNT#{video['accountId']}", f"PROJECT#{video['projectId']}",
                   "attribute_not_exists(#deletingSince) OR #deletingSince < :stale",
                   {":stale": iso_shifted(video["createdAt"], -PROJECT_DELETE_FLAG_SECONDS)}),
        )

    def list_videos(
        self, project_id: str, limit: int, after: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """A page of the project's videos, newest first (video ids are ULIDs): their records,
        read in one BatchGetItem per 100; a video deleted meanwhile is left out."""
        listed, last = self.table.query_page(video_listing(project_id), "VIDEO#", limit, start_after=after,
                                             newest_first=True)
        keys = [(f"VIDEO#{item['videoId']}", "VIDEO") for item in listed]
        found = self.table.get_many(keys)
        return [found[k] for k in keys if k in found], last

    def count_videos(self, project_id: str) -> int:
        return self.table.count(video_listing(project_id), "VIDEO#")

    def mark_video_deleting(self, video_id: str, now: str) -> dict[str, Any]:
        """Flag a video for deletion unless a job runs on it; ConditionFailed otherwise (or if
        it is gone). A flagged video can no longer start a job (``start_job_on_video``)."""
        return self.table.update(
            f"VIDEO#{video_id}", "VIDEO", set={"deleting": True, "updatedAt": now},
            condition="#status <> :processing", condition_values={":processing": "processing"},
        )

    def delete_video(self, video: dict[str, Any], now: str, tombstone_expires_at: int) -> None:
        """The video's clips, its listing item and, last, its record (so that a delete cut short
        is finished by a retry, which still finds the record). A tombstone stays until
        ``tombstone_expires_at`` (the table's TTL): an upload URL handed out for the video may
        still be used, and the upload trigger must know to discard what arrives."""
        for clip in self.table.query(f"VIDEO#{video['id']}", "CLIP#"):
            self.table.delete(f"CLIPID#{clip['id']}", "CLIP")
            self.table.delete(f"VIDEO#{video['id']}", _clip_sk(clip["callId"], clip["index"]))
        self.table.delete(video_listing(video["projectId"]), f"VIDEO#{video['id']}")
        self.table.put(f"VIDEO#{video['id']}", "DELETED",
                       {"accountId": video["accountId"], "deletedAt": now, "expiresAt": tombstone_expires_at})
        self.table.delete(f"VIDEO#{video['id']}", "VIDEO")

    def deleted_video(self, video_id: str) -> dict[str, Any] | None:
        """The tombstone of a deleted video (``accountId``, ``deletedAt``), while it lasts."""
        return self.table.get(f"VIDEO#{video_id}", "DELETED")

    def video_call_ids(self, video: dict[str, Any]) -> set[str]:
        """The calls a video's clips came from, their edits (update-clip, update-transcript) and
        its current one."""
        ids: set[str] = set()
        for clip in self.table.query(f"VIDEO#{video['id']}", "CLIP#"):
            ids.add(clip["callId"])
            ids.update(clip.get("editCallIds") or [])
        return ids | ({video["currentCallId"]} if video.get("currentCallId") else set())

    def get_video(self, video_id: str) -> dict[str, Any] | None:
        return self.table.get(f"VIDEO#{video_id}", "VIDEO")

    def update_video(self, video_id: str, **fields: Any) -> dict[str, Any]:
        remove = [k for k, v in fields.items() if v is None]
        set_ = {k: v for k, v in fields.items() if v is not None}
        return self.table.update(f"VIDEO#{video_id}", "VIDEO", set=set_, remove=remove)

    def set_preparation(self, video_id: str, preparation: dict[str, Any]) -> dict[str, Any] | None:
        """Record the state of a video's preparation; None, recording nothing, when the video is
        gone or being deleted: a preparation runs beside the user, who may delete the video."""
        try:
            return self.table.update(f"VIDEO#{video_id}", "VIDEO", set={"preparation": preparation},
                                     condition="attribute_not_exists(#deleting)")
        except ConditionFailed:
            return None

    def settle_upload(self, video_id: str, **fields: Any) -> dict[str, Any]:
        """Record the probe's verdict on a source, only while the video still awaits one
        (uploading, or failed without media: a rejected upload may be replaced). A video that
        already accepted a source keeps it; ConditionFailed tells the caller so."""
        remove = [k for k, v in fields.items() if v is None]
        return self.table.update(
            f"VIDEO#{video_id}",
            "VIDEO",
            set={k: v for k, v in fields.items() if v is not None},
            remove=remove,
            condition="#status = :uploading OR (#status = :failed AND attribute_not_exists(#media))",
            condition_values={":uploading": "uploading", ":failed": "failed"},
        )

    def start_job_on_video(self, video_id: str, call_id: str, now: str) -> dict[str, Any]:
        """Mark the video processing for ``call_id``; ConditionFailed if it cannot start."""
        values = {f":st{i}": s for i, s in enumerate(SUBMITTABLE_STATUSES)}
        return self.table.update(
            f"VIDEO#{video_id}",
            "VIDEO",
            set={"status": "processing", "currentCallId": call_id, "updatedAt": now},
            remove=["error"],
            # A failed upload never got media facts; only processed failures may retry. A video
            # being deleted starts nothing.
            condition=f"#status IN ({', '.join(values)}) AND attribute_exists(#media)"
                      " AND attribute_not_exists(#deleting)",
            condition_values=values,
        )

    # calls
    def put_call(self, call: dict[str, Any]) -> None:
        self.table.put_new(f"CALL#{call['id']}", "CALL", call)

    def get_call(self, call_id: str) -> dict[str, Any] | None:
        return self.table.get(f"CALL#{call_id}", "CALL")

    def delete_call(self, call_id: str) -> None:
        self.table.delete(f"CALL#{call_id}", "CALL")

    def mark_stage(self, call_id: str, stage: str, now: str) -> None:
        """Set the current stage and remember when it first began (the poll route shows both).

        Every clip render marks "rendering"; ``if_not_exists`` keeps the first start.
        """
        self.table.update_expression(
            f"CALL#{call_id}",
            "CALL",
            "SET #stage = :stage, #updated = :now, #stages.#name = if_not_exists(#stages.#name, :now)",
            names={"#stage": "stage", "#updated": "updatedAt", "#stages": "stages", "#name": stage},
            values={":stage": stage, ":now": now},
        )

    def update_call(self, call_id: str, *, add: dict[str, int] | None = None, **fields: Any) -> dict[str, Any]:
        return self.table.update(f"CALL#{call_id}", "CALL", set=fields, add=add)

    # clips
    def put_clip(self, clip: dict[str, Any]) -> None:
        self.table.put(f"VIDEO#{clip['videoId']}", _clip_sk(clip["callId"], clip["index"]), clip)
        # Where a clip is, by its id alone (the routes that take a clipId).
        self.table.put(f"CLIPID#{clip['id']}", "CLIP", {key: clip[key] for key in _CLIP_POINTER})

    def find_clip(self, clip_id: str) -> dict[str, Any] | None:
        """The clip with this id, wherever it is; None if there is none (or it was deleted)."""
        pointer = self.table.get(f"CLIPID#{clip_id}", "CLIP")
        if not pointer:
            return None
        return self.table.get(f"VIDEO#{pointer['videoId']}", _clip_sk(pointer["callId"], pointer["index"]))

    def update_clip(self, video_id: str, call_id: str, index: int, **fields: Any) -> dict[str, Any]:
        return self.table.update(f"VIDEO#{video_id}", _clip_sk(call_id, index), set=fields)

    def start_clip_version(self, video_id: str, call_id: str, index: int, version: int, edit_call_ids: list[str],
                           now: str) -> dict[str, Any]:
        """Mark ``version`` of a clip as rendering (its edit call the last of ``edit_call_ids``,
        all the clip's edits so far, which delete-video removes with it); ConditionFailed while
        another one renders, so no two edits can write the list at once."""
        return self.table.update(
            f"VIDEO#{video_id}", _clip_sk(call_id, index),
            set={"pendingVersion": version, "pendingCallId": edit_call_ids[-1], "editCallIds": edit_call_ids,
                 "updatedAt": now},
            condition="attribute_not_exists(#pendingVersion)",
        )

    def end_clip_version(self, video_id: str, call_id: str, index: int, *, drop: tuple[str, ...] = (),
                         **fields: Any) -> dict[str, Any]:
        """The pending version rendered (``fields``: its files and facts; ``drop``: what the
        previous version had and this one has not) or failed (none)."""
        return self.table.update(f"VIDEO#{video_id}", _clip_sk(call_id, index), set=fields or None,
                                 remove=["pendingVersion", "pendingCallId", *drop])

    def list_clips(self, video_id: str, call_id: str) -> list[dict[str, Any]]:
        return self.table.query(f"VIDEO#{video_id}", f"CLIP#{call_id}#")

    # webhooks: the record under its account (list-webhooks) and a lookup by id (its owner);
    # deliveries under the webhook, newest first (dlv_<ULID>), kept until their TTL
    def put_webhook(self, webhook: dict[str, Any]) -> None:
        self.table.put_new(f"WEBHOOK#{webhook['id']}", "WEBHOOK", {"accountId": webhook["accountId"]})
        self.table.put_new(f"ACCOUNT#{webhook['accountId']}", f"WEBHOOK#{webhook['id']}", webhook)

    def get_webhook(self, webhook_id: str) -> dict[str, Any] | None:
        owner = self.table.get(f"WEBHOOK#{webhook_id}", "WEBHOOK")
        return self.table.get(f"ACCOUNT#{owner['accountId']}", f"WEBHOOK#{webhook_id}") if owner else None

    def list_webhooks(self, account_id: str) -> list[dict[str, Any]]:
        return self.table.query(f"ACCOUNT#{account_id}", "WEBHOOK#")

    def delete_webhook(self, webhook: dict[str, Any]) -> None:
        self.table.delete(f"ACCOUNT#{webhook['accountId']}", f"WEBHOOK#{webhook['id']}")
        self.table.delete(f"WEBHOOK#{webhook['id']}", "WEBHOOK")

    def put_delivery(self, delivery: dict[str, Any]) -> None:
        self.table.put_new(delivery_listing(delivery["webhookId"]), f"DELIVERY#{delivery['id']}", delivery)

    def get_delivery(self, webhook_id: str, delivery_id: str) -> dict[str, Any] | None:
        return self.table.get(delivery_listing(webhook_id), f"DELIVERY#{delivery_id}")

    def update_delivery(self, webhook_id: str, delivery_id: str, **fields: Any) -> dict[str, Any]:
        return self.table.update(delivery_listing(webhook_id), f"DELIVERY#{delivery_id}",
                                 set={k: v for k, v in fields.items() if v is not None},
                                 remove=[k for k, v in fields.items() if v is None])

    def list_deliveries(
        self, webhook_id: str, limit: int, after: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        return self.table.query_page(delivery_listing(webhook_id), "DELIVERY#", limit, start_after=after,
                                     newest_first=True)


# How long a delete-project may hold its project closed to new videos (it takes milliseconds;
# a flag older than this was left by a delete that died).
PROJECT_DELETE_FLAG_SECONDS = 60


def project_listing(account_id: str) -> str:
    """The partition list-projects queries."""
    return f"ACCOUNT#{account_id}"


def video_listing(project_id: str) -> str:
    """The partition list-videos queries (one item per video of the project)."""
    return f"PROJECT#{project_id}"


def delivery_listing(webhook_id: str) -> str:
    """The partition list-webhook-deliveries queries."""
    return f"WEBHOOK#{webhook_id}"


_CLIP_POINTER = ("videoId", "callId", "index", "accountId")


def _clip_sk(call_id: str, index: int) -> str:
    return f"CLIP#{call_id}#{index:03d}"
