"""Operators' view on AWS: structured logs, traces and metrics (Powertools for AWS Lambda).

- ``logger``: a Powertools Logger, service "klyph". On Lambda it writes one JSON object
  per line carrying callId, videoId and accountId (and, for routes, the path and the
  caller's account). It is the same ``logging`` logger as Chalice's ``app.log``, so those
  lines are structured too, and ``chalicelib.*`` loggers go through it as well.
- ``tracer``: X-Ray subsegments for the task functions (boto3 calls included). The X-Ray
  SDK is imported on the first traced call, never at import: the API function (which
  traces nothing itself; Lambda records its segment) keeps a small cold start.
- ``metrics``: CloudWatch metrics in the "Klyph" namespace, written as EMF log lines.

Off Lambda (``AWS_LAMBDA_FUNCTION_NAME`` unset: tests, ``make run``) the defaults are
safe: the logger has no handler of its own (Chalice's plain output is unchanged), the
tracer is a no-op that imports nothing, and metrics are dropped instead of printed, so
nothing tries to reach X-Ray or CloudWatch.
"""
from __future__ import annotations

import functools
import logging
import os
from typing import Any, Callable
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "klyph"
NAMESPACE = "Klyph"
IN_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
CORRELATION_KEYS = ("callId", "videoId", "accountId")

__all__ = ["IN_LAMBDA", "MetricUnit", "logger", "metrics", "tracer", "task", "correlation_keys", "failed_stage"]

Handler = Callable[[Any, Any], Any]


def _build_logger(in_lambda: bool) -> Logger:
    if in_lambda:
        built = Logger(service=SERVICE)
        # Library modules log to chalicelib.<module>; give them the same JSON handler (and keys).
        library = logging.getLogger("chalicelib")
        library.addHandler(built.registered_handler)
        library.setLevel(built.log_level)
        library.propagate = False
        return built
    return Logger(service=SERVICE, logger_handler=logging.NullHandler(), propagate=False)


class _NoOpTracer:
    """Stands in for Powertools' Tracer where there is no X-Ray daemon."""

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        return handler

    def capture_method(self, method: Callable[..., Any]) -> Callable[..., Any]:
        return method

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        pass


class _LazyTracer:
    """Powertools' Tracer, created (and the X-Ray SDK imported) on first use."""

    def __init__(self, in_lambda: bool):
        self._in_lambda = in_lambda
        self._tracer: Any = None

    @property
    def real(self) -> Any:
        if self._tracer is None:
            self._tracer = _NoOpTracer()
            if self._in_lambda:
                try:
                    from aws_lambda_powertools import Tracer

                    # botocore only: the calls worth seeing are DynamoDB, S3, Transcribe.
                    self._tracer = Tracer(service=SERVICE, patch_modules=["botocore"])
                except ImportError:  # a function without the tracing layer
                    logger.warning("aws-xray-sdk not available; tracing off")
        return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        wrapped: list[Handler] = []

        @functools.wraps(handler)
        def traced(event: Any, context: Any) -> Any:
            if not wrapped:
                wrapped.append(self.real.capture_lambda_handler(handler))
            return wrapped[0](event, context)

        return traced

    def put_annotation(self, key: str, value: Any) -> None:
        self.real.put_annotation(key=key, value=value)


logger = _build_logger(IN_LAMBDA)
tracer = _LazyTracer(IN_LAMBDA)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def publish_metrics() -> None:
    """Write what this invocation recorded (EMF on stdout) on Lambda; drop it elsewhere."""
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if not metrics.metric_set:
        metrics.clear_metrics()  # dimensions added without a metric
    elif IN_LAMBDA and not is_metrics_disabled():
        metrics.flush_metrics()
    else:
        metrics.clear_metrics()


def correlation_keys(event: Any) -> dict[str, str]:
    """callId / videoId / accountId from a task's state, a Map item, or an S3 event's source key."""
    if not isinstance(event, dict):
        return {}
    keys = {k: event[k] for k in CORRELATION_KEYS if isinstance(event.get(k), str)}
    records = event.get("Records")
    if not keys and isinstance(records, list) and records:
        # S3 notifications carry one record in practice; accounts/<acc>/videos/<vid>/source
        key = unquote_plus(str(records[0].get("s3", {}).get("object", {}).get("key", "")))
        parts = key.split("/")
        if len(parts) >= 4 and parts[0] == "accounts" and parts[2] == "videos":
            keys = {"accountId": parts[1], "videoId": parts[3]}
    return keys


def failed_stage(state: dict[str, Any]) -> str:
    """The stage a failed job reached, read off the state the Catch handed over.

    Each task adds its output to the state (pipeline.asl.json), so the keys present tell
    how far it got; the names match the call record's ``stage``.
    """
    if "rendered" in state:
        return "finalizing"
    if "clips" in state:
        return "rendering"
    transcription = state.get("transcription") or {}
    if transcription.get("status") == "COMPLETED":
        return "selecting"
    if "media" in state:
        return "transcribing"
    return "preparing"


def task(handler: Handler) -> Handler:
    """Wrap a Lambda function: fresh log keys per invocation, Lambda context and correlation
    ids in every line, an X-Ray subsegment annotated with the callId, and the invocation's
    metrics published at the end."""

    @functools.wraps(handler)
    def correlated(event: Any, context: Any) -> Any:
        keys = correlation_keys(event)
        logger.append_keys(**keys)
        if IN_LAMBDA and keys.get("callId"):
            tracer.put_annotation("callId", keys["callId"])  # inside the handler's subsegment
        return handler(event, context)

    traced = tracer.capture_lambda_handler(correlated)
    if IN_LAMBDA:
        # function name, request id, cold start; clears the previous invocation's keys
        traced = logger.inject_lambda_context(traced, clear_state=True)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not IN_LAMBDA:
            logger.clear_state()
        try:
            return traced(event, context)
        finally:
            publish_metrics()

    return run
