"""Idempotency-Key support for the create and submit routes.

A client that retries a POST with the same ``Idempotency-Key`` gets the first
answer again instead of a second project, upload or job. The first request
claims the key with a conditional put; its response is stored beside the claim
for 24 hours. The same key with a different body is a client bug and says so.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

from chalicelib.adapters.dynamo import ConditionFailed
from chalicelib.domain.clock import now_iso
from chalicelib.errors import BadRequest, Conflict, KlyphError
from chalicelib.services import wiring

HEADER = "idempotency-key"
KEEP_SECONDS = 24 * 3600
WAIT_FOR_FIRST_SECONDS = 20  # under API Gateway's 29 s integration timeout


def key_from_headers(headers: dict[str, str]) -> str | None:
    value = {k.lower(): v for k, v in headers.items()}.get(HEADER)
    if value is None:
        return None
    if not (1 <= len(value) <= 255) or not value.isprintable():
        raise BadRequest("Idempotency-Key: must be 1-255 printable characters")
    return value


def run_once(
    account_id: str, route: str, key: str, body: bytes, view: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run ``view`` once per (account, route, key); returns (status, body, replayed)."""
    table = wiring.records().table
    pk, sk = f"IDEMP#{account_id}", f"{route}#{key}"
    fingerprint = hashlib.sha256(body or b"").hexdigest()
    try:
        table.put_new(pk, sk, {"state": "running", "fingerprint": fingerprint, "createdAt": now_iso(),
                               "expiresAt": int(time.time()) + KEEP_SECONDS})
    except ConditionFailed:
        return (*_replay(table, pk, sk, fingerprint), True)
    try:
        status, result = view()
    except KlyphError as err:
        if err.status >= 500:
            table.delete(pk, sk)  # let the retry run for real
            raise
        status, result = err.status, {"error": err.code, "message": err.message}
    except BaseException:
        table.delete(pk, sk)
        raise
    table.update(pk, sk, set={"state": "done", "status": status, "response": json.dumps(result)})
    return status, result, False


def _replay(table: Any, pk: str, sk: str, fingerprint: str) -> tuple[int, Any]:
    deadline = time.time() + WAIT_FOR_FIRST_SECONDS
    while True:
        item = table.get(pk, sk)
        if item is None:
            raise Conflict("Idempotency-Key: the first request with this key failed; retry it")
        if item["fingerprint"] != fingerprint:
            raise BadRequest("Idempotency-Key: this key was already used with a different request body")
        if item["state"] == "done":
            return int(item["status"]), json.loads(item["response"])
        if time.time() > deadline:
            raise Conflict("Idempotency-Key: a request with this key is still being processed; retry shortly")
        time.sleep(0.2)
