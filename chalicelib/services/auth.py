"""API keys: issued once in clear, stored only as a SHA-256 hash bound to one workspace account."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from chalicelib.domain.clock import now_iso
from chalicelib.domain.ids import new_id
from chalicelib.errors import Unauthorized
from chalicelib.models import AccountView, checked_id
from chalicelib.services import wiring

KEY_PREFIX = "klyph_sk_"


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(api_key.encode()).hexdigest()


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    auth = lowered.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return lowered.get("x-api-key") or None


def authenticate(headers: Mapping[str, str]) -> str:
    """Return the account id the request's key belongs to, or raise Unauthorized."""
    api_key = key_from_headers(headers)
    if not api_key:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'")
    record = wiring.records().get_api_key(hash_key(api_key)) if len(api_key) < 200 else None
    if not record or record.get("revoked"):
        raise Unauthorized("invalid API key")
    return record["accountId"]


def describe_account(caller: str) -> AccountView:
    """The workspace the caller's key belongs to: the id every request names (the dashboard
    shows it, as the seed says)."""
    account = wiring.records().get_account(caller) or {}
    return AccountView(accountId=caller, name=str(account.get("name") or caller))


def create_workspace(account_id: str | None = None, api_key: str | None = None, name: str = "") -> tuple[str, str]:
    """Create (or reuse) a workspace account and bind a new key to it; returns (account_id, api_key)."""
    account_id = checked_id("account id", account_id) if account_id else new_id("account")
    api_key = api_key or KEY_PREFIX + secrets.token_urlsafe(32)
    records = wiring.records()
    if not records.get_account(account_id):
        records.put_account(account_id, {"name": name or account_id, "createdAt": now_iso()})
    records.put_api_key(
        hash_key(api_key),
        # Only a short prefix is kept in clear so operators can tell keys apart.
        {"accountId": account_id, "keyPrefix": api_key[:12], "createdAt": now_iso()},
    )
    return account_id, api_key


def revoke_key(api_key: str) -> bool:
    """Revoke a key for good (the next request with it answers 401); False if it never existed."""
    return wiring.records().revoke_api_key(hash_key(api_key), now_iso())
