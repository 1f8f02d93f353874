"""One webhook POST to an address vetted beforehand (``domain.webhooks.check_target``).

The connection goes to that very address instead of resolving the host again (a second
lookup could answer a private address: DNS rebinding); HTTPS still checks the certificate
against the host name (SNI and hostname verification with ``server_hostname``), and the Host
header names the host. Redirects are never followed: a 3xx is an answer like any other non-2xx.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from chalicelib.domain.webhooks import Target

MAX_RESPONSE_BYTES = 64 * 1024  # read (and dropped) so the receiver's answer can complete


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (error says why)
    error: str | None
    seconds: float


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body``; an answer later than ``timeout`` seconds counts as none."""
    started = time.monotonic()
    conn: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout, ssl.create_default_context()) if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout))
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status: int | None = response.status
        error = None
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, _describe(exc)
    finally:
        conn.close()
    seconds = round(time.monotonic() - started, 3)
    if status is not None and seconds > timeout:
        status, error = None, f"answered after {seconds:.1f} s, over the {timeout:g} s limit"
    return Answer(status=status, error=error, seconds=seconds)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"[:300]
