"""Public identifiers: a type prefix plus a ULID (sortable by creation time)."""
from __future__ import annotations

import re

from ulid import ULID

PREFIXES = {"account": "acc", "project": "proj", "video": "vid", "call": "call", "clip": "clip",
            "webhook": "wh", "delivery": "dlv", "edit": "edt"}
_ID_RE = re.compile(r"^[a-z]+_[0-9A-Za-z]{1,64}$")


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{ULID()}"


def looks_like_id(value: str) -> bool:
    """Cheap shape check so junk never reaches a DynamoDB key."""
    return bool(_ID_RE.match(value))
