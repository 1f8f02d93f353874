"""Opaque page cursors: the DynamoDB key a page ended on, as urlsafe base64 of its JSON.

A cursor is only ever accepted for the listing that made it: its partition must be the one
queried and its sort key must lie under the listing's prefix, so an edited cursor can neither
reach another account's partition nor smuggle arbitrary keys into a Query.
"""
from __future__ import annotations

import base64
import binascii
import json

from chalicelib.errors import BadRequest

MAX_CURSOR_CHARS = 1024


def encode(key: dict[str, str] | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps({"pk": key["pk"], "sk": key["sk"]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, pk: str, sk_prefix: str) -> dict[str, str] | None:
    """The key ``cursor`` names, or None for the first page; BadRequest naming ``cursor`` for
    anything not made by this listing."""
    if cursor is None:
        return None
    bad = BadRequest("cursor: not a cursor from this listing; pass the cursor of the previous page as it was")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise bad from None
    if not (isinstance(key, dict) and set(key) == {"pk", "sk"} and key["pk"] == pk
            and isinstance(key["sk"], str) and key["sk"].startswith(sk_prefix) and len(key["sk"]) > len(sk_prefix)):
        raise bad
    return {"pk": key["pk"], "sk": key["sk"]}
