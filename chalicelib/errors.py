"""Klyph's one error protocol: what a failure is called, how it reaches a caller over HTTP,
and how it crosses the state machine into the call record and back out of it.

- ``KlyphError`` has a ``status`` (HTTP) and one ``code``: a stable name such as
  ``bad_request``, ``not_a_video`` or ``transcription_failed``.
- Over HTTP every error body is ``error_body(status, message)``: ``{"error": <kind>,
  "message": ...}`` where the kind follows the status (the seed's four kinds, plus
  ``conflict``). The specific code of a media error shows in the message's wording, not as
  a fifth kind a client must learn.
- Inside the pipeline a task's exception becomes Lambda's ``errorMessage``; ``str()`` of a
  KlyphError is ``"[code] message"`` (``encode``), and the failure tasks turn what the Catch
  hands them back into ``{"code", "message"}`` (``failure_from_catch``), side by side here.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

# HTTP status -> the "error" field of the body. Anything else >= 500 is server_error.
ERROR_KINDS = {400: "bad_request", 401: "unauthorized", 403: "unauthorized", 404: "not_found",
               405: "bad_request", 409: "conflict"}
RETRY_LATER = "unexpected failure; safe to retry with backoff"


def error_kind(status: int) -> str:
    return "server_error" if status >= 500 else ERROR_KINDS.get(status, "bad_request")


def error_body(status: int, message: str) -> dict[str, str]:
    """The body of every error answer the API gives."""
    return {"error": error_kind(status), "message": message}


class KlyphError(Exception):
    status = 500
    code = "server_error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return encode(self.code, self.message)


class BadRequest(KlyphError):
    status = 400
    code = "bad_request"


class Unauthorized(KlyphError):
    status = 401
    code = "unauthorized"


class NotFound(KlyphError):
    status = 404
    code = "not_found"


class Conflict(KlyphError):
    status = 409
    code = "conflict"


class MediaError(BadRequest):
    """Media that ffmpeg cannot or must not read; ``code`` says why (``not_a_video``, ``too_long``...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code)


class PipelineError(KlyphError):
    """A job step that cannot go on; ``code`` and ``message`` reach the user via the poll route."""

    status = 422

    def __init__(self, code: str, message: str):
        super().__init__(message, code)


class TransientError(KlyphError):
    """A failure worth retrying: the state machine's Retry names this class, and the AWS
    adapters raise it once boto3's own retries are exhausted."""

    code = "transient"


# Crossing the state machine --------------------------------------------------------------------

_ENCODED = re.compile(r"^\[([a-z_]+)\] (.+)$", re.DOTALL)


def encode(code: str, message: str) -> str:
    """How a KlyphError travels as Lambda's errorMessage."""
    return f"[{code}] {message}"


def failure_from_catch(error: dict[str, Any] | None) -> dict[str, str]:
    """Turn a Catch's ``{Error, Cause}`` back into the ``{code, message}`` a user sees.

    Our own errors arrive encoded; anything else is an internal fault whose details go to the
    logs, never to the user.
    """
    error = error or {}
    name = error.get("Error", "")
    cause = error.get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage", "")
    except (ValueError, AttributeError):
        message = cause
    encoded = _ENCODED.match(message or "")
    if encoded:
        return {"code": encoded.group(1), "message": encoded.group(2)}
    if name == "States.Timeout":
        return {"code": "timed_out", "message": "a processing step took too long; retry, or try a shorter video"}
    log.error("unexpected task failure", extra={"error": name, "cause": cause[:2000]})
    return {"code": "internal_error", "message": "processing failed unexpectedly; it is safe to resubmit"}
