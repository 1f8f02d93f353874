"""Webhooks: the routes that manage them, the events the pipeline tasks raise, and delivery.

An event (``job.succeeded``, ``job.failed``, ``clip.ready``) becomes one delivery per webhook
of the account subscribed to it: a record holding the body, fixed once, and a state machine
execution named after the delivery id (``dlv_<ULID>``, also the ``webhook-id`` header). The
execution's ``DeliverWebhook`` task makes one attempt and answers delivered, failed (given up)
or pending with the wait before the next attempt (``KLYPH_WEBHOOK_RETRY_SECONDS``), which the
state machine's Wait state sleeps. Every attempt is recorded on the delivery
(``list-webhook-deliveries``). Raising events never fails a job: errors are logged.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.config import settings
from chalicelib.domain import cursor as cursors, webhooks as rules
from chalicelib.domain.clock import now_iso
from chalicelib.domain.ids import new_id
from chalicelib.errors import BadRequest, TransientError
from chalicelib.models import (
    ClipReadyData,
    CreateWebhook,
    DeleteWebhook,
    DeliveryList,
    DeliveryView,
    Failure,
    JobFailedData,
    JobSucceededData,
    ListWebhookDeliveries,
    ListWebhooks,
    View,
    WebhookClip,
    WebhookCreated,
    WebhookDeleted,
    WebhookList,
    WebhookView,
)
from chalicelib.services import wiring
from chalicelib.services.projects import owned, require_same_account

log = logging.getLogger(__name__)

MAX_WEBHOOKS_PER_ACCOUNT = 20
DELIVERY_KEEP_SECONDS = 30 * 24 * 3600  # the table's TTL removes deliveries after 30 days
USER_AGENT = "Klyph-Webhooks/1.0"


# Routes --------------------------------------------------------------------------------------------
def create_webhook(caller: str, req: CreateWebhook) -> WebhookCreated:
    require_same_account(caller, req.accountId)
    try:
        rules.check_target(req.url, wiring.resolver(), allow_local=settings().webhook_allow_local)
    except rules.UnsafeTarget as err:
        raise BadRequest(f"url: {err}") from None
    records = wiring.records()
    if len(records.list_webhooks(caller)) >= MAX_WEBHOOKS_PER_ACCOUNT:
        raise BadRequest(f"accountId: a workspace has at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks; delete one first")
    webhook_id, secret = new_id("webhook"), rules.new_secret()
    events = [e for e in rules.EVENT_TYPES if req.events is None or e in req.events]
    webhook = {"id": webhook_id, "accountId": caller, "url": req.url, "events": events, "createdAt": now_iso(),
               "secretSealed": wiring.secret_box().seal(secret, webhook_id)}
    records.put_webhook(webhook)
    log.info("webhook created", extra={"webhookId": webhook_id, "events": events})
    return WebhookCreated(**webhook_view(webhook).model_dump(), secret=secret)


def webhook_view(webhook: dict[str, Any]) -> WebhookView:
    return WebhookView.model_validate({name: webhook[name] for name in WebhookView.model_fields})


def own_webhook(caller: str, webhook_id: str) -> dict[str, Any]:
    return owned(caller, "webhook", webhook_id, wiring.records().get_webhook)


def list_webhooks(caller: str, req: ListWebhooks) -> WebhookList:
    require_same_account(caller, req.accountId)
    return WebhookList(webhooks=[webhook_view(w) for w in reversed(wiring.records().list_webhooks(caller))])


def delete_webhook(caller: str, req: DeleteWebhook) -> WebhookDeleted:
    """Delete a webhook: deliveries still retrying give up at their next attempt (recorded so)."""
    webhook = own_webhook(caller, req.id)
    wiring.records().delete_webhook(webhook)
    return WebhookDeleted(id=webhook["id"], deleted=True)


def list_deliveries(caller: str, req: ListWebhookDeliveries) -> DeliveryList:
    from chalicelib.adapters.records import delivery_listing

    webhook = own_webhook(caller, req.webhookId)
    after = cursors.decode(req.cursor, delivery_listing(webhook["id"]), "DELIVERY#")
    items, last = wiring.records().list_deliveries(webhook["id"], req.limit, after)
    return DeliveryList(deliveries=[delivery_view(d) for d in items], cursor=cursors.encode(last))


def delivery_view(delivery: dict[str, Any]) -> DeliveryView:
    return DeliveryView.model_validate({
        **{name: delivery.get(name) for name in DeliveryView.model_fields if name != "event"},
        "attempts": delivery.get("attempts", []), "event": json.loads(delivery["body"]),
    })


# An Idempotency-Key replay of create-webhook answers the first answer, secret included, yet the
# stored answer must not hold the secret in plain: it is kept sealed like the webhook's own.
def conceal_secret(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "secret": wiring.secret_box().seal(body["secret"], body["id"])}


def reveal_secret(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "secret": wiring.secret_box().open(body["secret"], body["id"])}


# Events (raised by the pipeline tasks) ---------------------------------------------------------------
def clip_data(clip: dict[str, Any]) -> WebhookClip:
    return WebhookClip(id=clip["id"], title=clip["title"], start_seconds=clip["start"], end_seconds=clip["end"],
                       status=clip["status"], score=clip.get("score"), reason=clip.get("reason"))


def job_succeeded(account_id: str, call_id: str, video_id: str, clips: list[dict[str, Any]], finished_at: str) -> None:
    emit(account_id, "job.succeeded", lambda: JobSucceededData(
        callId=call_id, videoId=video_id, status="succeeded", clips=[clip_data(c) for c in clips],
        finishedAt=finished_at))


def job_failed(account_id: str, call_id: str, video_id: str, error: dict[str, str], stage: str) -> None:
    emit(account_id, "job.failed", lambda: JobFailedData(callId=call_id, videoId=video_id, status="failed",
                                                         error=Failure(**error), stage=stage))


def clip_ready(account_id: str, clip: dict[str, Any]) -> None:
    emit(account_id, "clip.ready", lambda: ClipReadyData(callId=clip["callId"], videoId=clip["videoId"],
                                                         clip=clip_data(clip)))


def emit(account_id: str, event_type: str, data: View | Callable[[], View]) -> list[str]:
    """Start a delivery of the event to each webhook of the account subscribed to it; returns the
    delivery ids. ``data`` may be a function making it, called only when a webhook wants the event.
    Never raises: an event that cannot be raised must not fail the job."""
    try:
        hooks = [w for w in wiring.records().list_webhooks(account_id) if event_type in w["events"]]
        if not hooks:
            return []
        made = data if isinstance(data, View) else data()
        body = json.dumps({"type": event_type, "timestamp": now_iso(), "data": made.body()}, separators=(",", ":"))
    except Exception:
        log.exception("webhook event %s not raised", event_type, extra={"accountId": account_id})
        return []
    started = []
    for hook in hooks:
        try:
            started.append(_start_delivery(hook, event_type, body))
        except Exception:
            log.exception("webhook event %s not delivered to %s", event_type, hook["id"],
                          extra={"accountId": account_id, "webhookId": hook["id"]})
    return started


def _start_delivery(hook: dict[str, Any], event_type: str, body: str) -> str:
    records = wiring.records()
    delivery_id = new_id("delivery")
    records.put_delivery({"id": delivery_id, "webhookId": hook["id"], "accountId": hook["accountId"],
                          "type": event_type, "body": body, "status": "pending", "attempts": [],
                          "createdAt": now_iso(), "expiresAt": int(time.time()) + DELIVERY_KEEP_SECONDS})
    state = DeliveryState(id=delivery_id, webhookId=hook["id"], accountId=hook["accountId"])
    try:
        wiring.workflow().start(delivery_id, state.wire())
    except Exception:
        records.update_delivery(hook["id"], delivery_id, status="failed", attempts=[
            {"at": now_iso(), "error": "the delivery could not be scheduled", "seconds": 0}])
        raise
    log.info("webhook delivery %s started", delivery_id,
             extra={"webhookId": hook["id"], "deliveryId": delivery_id, "type": event_type})
    return delivery_id


# Delivery (the DeliverWebhook task) ---------------------------------------------------------------
class DeliveryState(BaseModel):
    """What a delivery execution carries (``$.delivery`` in pipeline.asl.json): ids, and after
    each attempt the outcome the Choice branches on and the Wait's seconds. ``cancelled``: there
    is nothing (more) to send: the webhook was deleted, or the delivery is settled or gone; the
    record then says failed (or delivered) and no given-up delivery is counted."""

    model_config = ConfigDict(extra="forbid")

    id: str
    webhookId: str
    accountId: str
    status: Literal["pending", "delivered", "failed", "cancelled"] = "pending"
    attempts: int = 0
    waitSeconds: int | None = None

    def wire(self) -> dict[str, Any]:
        return {"delivery": self.model_dump(mode="json", exclude_none=True)}


def deliver(event: dict[str, Any]) -> dict[str, Any]:
    """One attempt: vet the target again, POST the stored body signed for this attempt, record it."""
    state = DeliveryState.model_validate(event.get("delivery"))
    records = wiring.records()
    delivery = records.get_delivery(state.webhookId, state.id)
    if delivery is None or delivery["status"] != "pending":
        # Expired, or already settled by an earlier run of this task: nothing more to send.
        done = "delivered" if delivery and delivery["status"] == "delivered" else "cancelled"
        return state.model_copy(update={"status": done, "waitSeconds": None}).wire()
    webhook = records.get_webhook(state.webhookId)
    if webhook is not None and webhook["accountId"] != delivery["accountId"]:
        webhook = None  # ids are never reused: not the webhook this delivery was for
    if webhook is None:
        attempt: dict[str, Any] = {"at": now_iso(), "error": "the webhook was deleted; not sent", "seconds": 0}
    else:
        try:
            attempt = _attempt(webhook, delivery)
        except TransientError:
            raise  # the state machine's Retry: DynamoDB or KMS did not answer
        except Exception:
            # A fault of ours must not end the retries with the record stuck at pending.
            log.exception("webhook delivery %s attempt crashed", state.id, extra={"webhookId": state.webhookId})
            attempt = {"at": now_iso(), "error": "internal error while sending (logged)", "seconds": 0}
    attempts = [*delivery.get("attempts", []), attempt]
    delivered = 200 <= attempt.get("statusCode", 0) < 300
    wait = None if delivered or webhook is None else rules.wait_before_retry(
        len(attempts), settings().webhook_retry_seconds)
    record_status = "delivered" if delivered else "pending" if wait is not None else "failed"
    # Deleted by its owner: recorded failed, yet not a receiver that gave up (no metric, no alarm).
    status = "cancelled" if webhook is None else record_status
    records.update_delivery(state.webhookId, state.id, status=record_status, attempts=attempts,
                            nextAttemptAt=now_iso(wait) if wait is not None else None)
    keys = {"webhookId": state.webhookId, "deliveryId": state.id, "accountId": state.accountId,
            "attempt": len(attempts), "statusCode": attempt.get("statusCode"), "error": attempt.get("error")}
    if status == "failed":
        log.warning("webhook delivery %s given up after %d attempts", state.id, len(attempts), extra=keys)
    elif not delivered:
        log.info("webhook delivery %s attempt failed; next in %s s", state.id, wait, extra=keys)
    return state.model_copy(update={"status": status, "attempts": len(attempts), "waitSeconds": wait}).wire()


def _attempt(webhook: dict[str, Any], delivery: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.adapters import webhook_http

    at = now_iso()
    try:
        target = rules.check_target(webhook["url"], wiring.resolver(), allow_local=settings().webhook_allow_local)
    except rules.UnsafeTarget as err:
        return {"at": at, "error": f"refused before connecting: url {err}", "seconds": 0}
    secret = wiring.secret_box().open(webhook["secretSealed"], webhook["id"])
    timestamp = int(time.time())
    body = delivery["body"].encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery["id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": rules.signature(secret, delivery["id"], timestamp, body),
    }
    answer = webhook_http.post(target, body, headers, rules.DELIVERY_TIMEOUT_SECONDS)
    attempt: dict[str, Any] = {"at": at, "seconds": answer.seconds}
    if answer.status is not None:
        attempt["statusCode"] = answer.status
    if answer.error:
        attempt["error"] = answer.error
    elif answer.status is not None and 300 <= answer.status < 400:
        attempt["error"] = "redirects are not followed: answer 2xx at the webhook's URL"
    return attempt
