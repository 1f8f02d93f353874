"""AWS failures worth another try become ``TransientError``, the one error the state machine
retries (``statemachine.TRANSIENT_ERRORS``).

boto3 clients run in the ``standard`` retry mode (``chalicelib/clients.py``): throttling,
5xx answers and dropped connections are retried with backoff inside the call. What still
escapes after those attempts is what this module classifies, with botocore's own lists, so
the adapters' callers and the state machine agree with boto3 on what "transient" means.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError, ConnectionError as BotocoreConnectionError, HTTPClientError
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

from chalicelib.errors import TransientError

_RETRYABLE_CODES = frozenset(ThrottledRetryableChecker._THROTTLED_ERROR_CODES) | frozenset(
    TransientRetryableChecker._TRANSIENT_ERROR_CODES
)
_RETRYABLE_STATUS = frozenset(TransientRetryableChecker._TRANSIENT_STATUS_CODES) | {429}

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (BotocoreConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error.get("Code") in _RETRYABLE_CODES or status in _RETRYABLE_STATUS
    # boto3's transfer manager wraps the ClientError of a failed multipart upload.
    cause = exc.__cause__ or exc.__context__
    return type(exc).__name__ == "S3UploadFailedError" and cause is not None and is_transient(cause)


def _translating(method: Callable[..., T], service: str) -> Callable[..., T]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            if is_transient(exc):
                raise TransientError(f"{service} did not answer after retries: {type(exc).__name__}") from exc
            raise

    return call


def transient_failures(service: str) -> Callable[[type[T]], type[T]]:
    """Class decorator for an adapter: every public method raises TransientError for an AWS
    failure that boto3 retried in vain. The message names the service, never the request."""

    def decorate(cls: type[T]) -> type[T]:
        for name, member in list(vars(cls).items()):
            if callable(member) and not name.startswith("_") and not isinstance(member, (staticmethod, classmethod)):
                setattr(cls, name, _translating(member, service))
        return cls

    return decorate
