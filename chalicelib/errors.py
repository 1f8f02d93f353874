"""Errors that carry an HTTP status and a message a user can act on."""
from __future__ import annotations


class KlyphError(Exception):
    status = 500
    code = "server_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def failure_code(self) -> str:
        return getattr(self, "reason", None) or self.code

    def __str__(self) -> str:
        # Lambda reports str(exc) as errorMessage; the failure task parses the code back out.
        return f"[{self.failure_code}] {self.message}"


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
    """Media that ffmpeg cannot or must not read. ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class PipelineError(KlyphError):
    """A job step that cannot go on; ``code`` and ``message`` reach the user via the poll route."""

    status = 422

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class TransientError(KlyphError):
    """A failure worth retrying (the state machine's Retry names this class)."""
