"""Timestamps as the API shows them: ISO 8601 UTC with a Z."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now_iso(offset_seconds: float = 0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_shifted(iso: str, seconds: float) -> str:
    """``iso`` (as ``now_iso`` writes it) moved by ``seconds``, in the same format: two such
    timestamps compare as strings, as DynamoDB conditions compare them."""
    moment = datetime.fromisoformat(iso) + timedelta(seconds=seconds)  # reads the Z as UTC
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds_since(iso: str | None) -> float:
    """Seconds from ``iso`` (as ``now_iso`` writes it) to now; infinite for no timestamp."""
    if not iso:
        return float("inf")
    return (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
