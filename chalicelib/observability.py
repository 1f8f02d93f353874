"""Operators' view on AWS: structured logs, traces and metrics (Powertools for AWS Lambda).

- ``logger``: a Powertools Logger, service "klyph". On Lambda it writes one JSON object
  per line carrying callId, videoId and accountId (and, for routes, the path and the
  caller's account). It is the same ``logging`` logger as Chalice's ``app.log``, so those
  lines are structured too, and ``chalicelib.*`` loggers go through it as well.
- ``tracer()``: Powertools' Tracer, X-Ray subsegments for the task functions (boto3 calls
  included). Made on the first traced call, never at import: the API function (which
  traces nothing itself; Lambda records its segment) neither carries nor loads the SDK.
- ``metrics``: CloudWatch metrics in the "Klyph" namespace, written as EMF log lines by
  Powertools' ``log_metrics``.

Off Lambda (tests, ``make run``) Powertools' own switches keep everything local: the
Tracer disables itself without ``LAMBDA_TASK_ROOT``, and the local stack and the tests set
``POWERTOOLS_METRICS_DISABLED``. The logger has no handler of its own there, so Chalice's
plain output is unchanged.
"""
from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from chalicelib.adapters.s3 import parse_source_key

SERVICE = "klyph"
NAMESPACE = "Klyph"
IN_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
CORRELATION_KEYS = ("callId", "videoId", "accountId")

__all__ = ["IN_LAMBDA", "MetricUnit", "correlation_keys", "logger", "metrics", "publishes_metrics", "task", "tracer"]

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


logger = _build_logger(IN_LAMBDA)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# A task that raised before recording its metric (a failed render) has nothing to publish;
# that is expected, not a warning for the logs.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@functools.cache
def tracer() -> Any:
    """Powertools' Tracer, made on the first traced invocation: constructing it imports the
    X-Ray SDK, which only the task functions carry (the tracing layer); the API function
    never calls this. Powertools disables it by itself outside Lambda (no LAMBDA_TASK_ROOT)."""
    from aws_lambda_powertools import Tracer

    # botocore only: the calls worth seeing are DynamoDB, S3, Transcribe.
    return Tracer(service=SERVICE, patch_modules=["botocore"])


def correlation_keys(event: Any) -> dict[str, str]:
    """callId / videoId / accountId from a task's state, a Map item, or an S3 event's source key."""
    if not isinstance(event, dict):
        return {}
    keys = {k: event[k] for k in CORRELATION_KEYS if isinstance(event.get(k), str)}
    records = event.get("Records")
    if not keys and isinstance(records, list) and records:
        # S3 notifications carry one record in practice.
        ids = parse_source_key(str(records[0].get("s3", {}).get("object", {}).get("key", "")))
        if ids:
            keys = {"accountId": ids[0], "videoId": ids[1]}
    return keys


def task(handler: Handler) -> Handler:
    """Wrap a Lambda function: fresh log keys per invocation, Lambda context and correlation
    ids in every line (Powertools' ``inject_lambda_context``), and an X-Ray subsegment
    annotated with the callId (``capture_lambda_handler``)."""

    @functools.wraps(handler)
    def correlated(event: Any, context: Any) -> Any:
        keys = correlation_keys(event)
        logger.append_keys(**keys)
        if keys.get("callId"):
            tracer().put_annotation(key="callId", value=keys["callId"])  # inside the handler's subsegment
        return handler(event, context)

    traced: list[Handler] = []

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not traced:
            wrapped = tracer().capture_lambda_handler(correlated)
            if IN_LAMBDA:
                # function name, request id, cold start; clears the previous invocation's keys
                wrapped = logger.inject_lambda_context(wrapped, clear_state=True)
            traced.append(wrapped)
        if not IN_LAMBDA:
            logger.clear_state()
        return traced[0](event, context)

    return run


def publishes_metrics(handler: Handler) -> Handler:
    """Powertools' ``log_metrics`` for the functions that record metrics: EMF lines on Lambda.
    Off Lambda the stack and the tests set POWERTOOLS_METRICS_DISABLED, and since a disabled
    flush keeps what was recorded, this also drops it so a long-lived process does not hoard it."""
    logged = metrics.log_metrics(handler)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        try:
            return logged(event, context)
        finally:
            if is_metrics_disabled():
                metrics.clear_metrics()

    return run
