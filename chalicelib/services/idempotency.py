"""Idempotency-Key support for the create and submit routes.

A client that retries a POST with the same ``Idempotency-Key`` gets the first
answer again instead of a second project, upload or job. The first request
claims the key with a conditional put; its response is stored beside the claim
for 24 hours. The same key with a different body is a client bug and says so.

Kept rather than Powertools' idempotency utility: a retry that arrives while the
first request still runs waits for its answer (the utility answers an error at
once), and a replay is marked with ``Idempotent-Replayed``.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain.clock import now_iso
from chalicelib.errors import BadRequest, Conflict
from chalicelib.services import wiring

HEADER = "idempotency-key"
KEEP_SECONDS = 24 * 3600
WAIT_FOR_FIRST_SECONDS = 20  # under API Gateway's 29 s integration timeout
# A claim whose request was killed mid-way (a Lambda timeout, a crashed process) must not
# block its key for a day: after this long a retry takes the claim over. Longer than the
# API function's 29 s limit, so a live first request is never overtaken.
CLAIM_SECONDS = 60


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    value = {k.lower(): v for k, v in headers.items()}.get(HEADER)
    if value is None:
        return None
    if not (1 <= len(value) <= 255) or not value.isprintable():
        raise BadRequest("Idempotency-Key: must be 1-255 printable characters")
    return value


def run_once(
    account_id: str, route: str, key: str, body: bytes, view: Callable[[], tuple[int, Any]],
    sealed: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = None,
) -> tuple[int, Any, bool]:
    """Run ``view`` once per (account, route, key); returns (status, body, replayed).

    Only a success is kept. An error answer is never replayed: it may have depended on
    state that has changed since (a video still uploading, a project not yet created), and
    running a request that failed again costs nothing, so the retry runs for real.
    ``sealed`` = (conceal, reveal) transforms the answer on its way into storage and back out
    (create-webhook keeps its secret sealed there).
    """
    records = wiring.records()
    scope = f"{route}#{key}"
    fingerprint = hashlib.sha256(body or b"").hexdigest()
    now = int(time.time())
    claimed = records.claim_idempotency_key(
        account_id, scope,
        {"state": "running", "fingerprint": fingerprint, "createdAt": now_iso(),
         "claimExpiresAt": now + CLAIM_SECONDS, "expiresAt": now + KEEP_SECONDS},
        now,
    )
    if not claimed:
        status, stored = _replay(records, account_id, scope, fingerprint)
        return status, sealed[1](stored) if sealed else stored, True
    try:
        status, result = view()
    except BaseException:
        records.release_idempotency_key(account_id, scope)
        raise
    records.finish_idempotency_key(account_id, scope, status, json.dumps(sealed[0](result) if sealed else result))
    return status, result, False


def _replay(records: Any, account_id: str, scope: str, fingerprint: str) -> tuple[int, Any]:
    deadline = time.time() + WAIT_FOR_FIRST_SECONDS
    while True:
        item = records.get_idempotency_key(account_id, scope)
        if item is None:
            raise Conflict("Idempotency-Key: the first request with this key failed; retry it")
        if item["fingerprint"] != fingerprint:
            raise BadRequest("Idempotency-Key: this key was already used with a different request body")
        if item["state"] == "done":
            return int(item["status"]), json.loads(item["response"])
        if time.time() > deadline:
            raise Conflict("Idempotency-Key: a request with this key is still being processed; retry shortly")
        time.sleep(0.2)
