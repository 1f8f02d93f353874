"""Webhook rules with no I/O of their own: event names, the Standard Webhooks signature, the retry
schedule, and which targets a delivery may connect to (the resolver is handed in).

Signatures follow the Standard Webhooks specification (standardwebhooks.com): the secret is
``whsec_`` + base64 of random bytes; ``webhook-signature`` is ``v1,`` + base64 of HMAC-SHA256
over ``"{webhook-id}.{webhook-timestamp}.{body}"`` keyed with the decoded secret, so receivers
verify with the ``standardwebhooks`` package or Svix's libraries.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

EVENT_TYPES = ("job.succeeded", "job.failed", "clip.ready")
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64
DELIVERY_TIMEOUT_SECONDS = 10

# host, port -> the addresses the name resolves to (socket.getaddrinfo in production).
Resolver = Callable[[str, int], Iterable[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def wait_before_retry(attempts_made: int, schedule: tuple[int, ...]) -> int | None:
    """Seconds to wait before the next attempt after ``attempts_made`` failed ones; None once the
    schedule is used up (the delivery is given up)."""
    return schedule[attempts_made - 1] if 1 <= attempts_made <= len(schedule) else None


class UnsafeTarget(ValueError):
    """A URL a delivery must not connect to; the message says why (it reaches the user)."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (``address``, one of those checked) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _blocked(address: str, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one reaches that one.
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:
            return _blocked(str(embedded), allow_loopback)
    if allow_loopback and ip.is_loopback:
        return False
    return not ip.is_global or ip.is_multicast


def check_target(url: str, resolve: Resolver, *, allow_local: bool) -> Target:
    """Vet ``url`` before anything connects to it: ``https`` only, and every address its host
    resolves to public (not private, loopback, link-local such as 169.254.169.254, shared,
    reserved or multicast), so neither a private name nor a name with one private address among
    public ones gets through. ``allow_local`` (the local stack) also admits ``http`` and
    ``https`` to loopback (127.0.0.1, ::1), and only to loopback.

    Called when a webhook is created and again before every attempt: a name may resolve
    elsewhere by then (DNS rebinding), and the attempt connects to the address checked here.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeTarget(f"not a valid URL ({err})") from None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or not host:
        raise UnsafeTarget("must be an https:// URL with a host")
    if scheme == "http" and not allow_local:
        raise UnsafeTarget("must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("must not carry credentials (user:password@); authenticate with the signature")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]  # a literal address needs no lookup
    except ValueError:
        try:
            addresses = list(dict.fromkeys(resolve(host, port)))
        except OSError:
            addresses = []
    if not addresses:
        raise UnsafeTarget(f"the host {host} does not resolve")
    try:
        loopback = all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
        blocked = [a for a in addresses if _blocked(a, allow_local)]
    except ValueError:
        raise UnsafeTarget(f"the host {host} resolves to something that is not an IP address") from None
    if blocked:
        raise UnsafeTarget(f"the host {host} resolves to a private, loopback or reserved address ({blocked[0]})")
    if scheme == "http" and not loopback:
        raise UnsafeTarget("must be an https:// URL (http:// only reaches loopback receivers, on the local stack)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
