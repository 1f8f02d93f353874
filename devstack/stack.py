"""The embedded local stack: the whole service on one machine with no AWS account.

One process runs
- a moto server on 127.0.0.1 standing in for S3, DynamoDB, IAM, Lambda and Step
  Functions, with moto's Step Functions interpreter switched on so the real state
  machine definition runs;
- a dispatch hook so that every Lambda invocation moto makes (from the state
  machine, from ``Invoke`` and from the S3 bucket notification) runs the Chalice
  app's own handler in this process; S3's invocations of the upload trigger get
  Lambda's asynchronous handling (retries, then the on-failure queue);
- Chalice's local HTTP server for the API under ``/api``.

``python -m devstack`` (what ``make run`` starts) provisions everything
and serves until Ctrl-C.
"""
from __future__ import annotations

import io
import json
import logging
import os
import threading
import traceback
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devstack.memory import release_freed_memory

log = logging.getLogger("klyph.local")

ACCOUNT = "123456789012"  # moto's default account
APP_NAME = "klyph"
STAGE = "local"
ROLE_NAME = "klyph-local-role"
UPLOAD_TRIGGER = "upload_trigger"
# As on AWS (infra/stack.py): Lambda retries a failed S3 event twice, then parks it here.
UPLOAD_FAILURES_QUEUE = f"{APP_NAME}-{STAGE}-upload-trigger-failures"
UPLOAD_RETRY_ATTEMPTS = 2
UPLOAD_EVENT_MAX_AGE_SECONDS = 6 * 3600
# Lambda waits about 1 then 2 minutes between attempts; locally seconds keep the loop short.
ASYNC_RETRY_DELAYS = (1.0, 2.0)
# The media bucket's lifecycle rules on AWS (infra/stack.py), which the local stack applies to
# its data directory at each start: work/ files expire after a week, versions nobody reads
# (noncurrent) a week after they were replaced, and delete markers hiding nothing go.
WORK_PREFIX, WORK_EXPIRY_DAYS, NONCURRENT_EXPIRY_DAYS = "work/", 7, 7


def function_name(handler: str) -> str:
    """Chalice names deployed functions ``<app>-<stage>-<handler>``; the local stack does the same."""
    return f"{APP_NAME}-{STAGE}-{handler}"


def configure_environment(moto_port: int, region: str = "us-east-1") -> None:
    """Point the app's clients at the local moto server. Must run before any client exists."""
    os.environ.update(
        {
            "MOTO_PORT": str(moto_port),  # moto's interpreter calls Lambda back on this port
            "KLYPH_AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "KLYPH_STATE_MACHINE_ARN": state_machine_arn(region),
        }
    )
    os.environ.setdefault("KLYPH_TRANSCRIBER", "whisper")
    # Webhooks to http://127.0.0.1 receivers, so the flow can be tried on one machine; retries
    # after 1, 2 and 4 s, then the delivery is given up (AWS retries for over a day).
    os.environ.setdefault("KLYPH_WEBHOOK_ALLOW_LOCAL", "1")
    os.environ.setdefault("KLYPH_WEBHOOK_RETRY_SECONDS", "1,2,4")
    # Powertools' own switch: no EMF metric lines on the console (they are for CloudWatch).
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def state_machine_arn(region: str) -> str:
    return f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{APP_NAME}-{STAGE}-pipeline"


def serialize_dynamodb() -> None:
    """One DynamoDB request at a time in moto, as DynamoDB makes each one atomic, and items
    answered without moto's generic response serializer.

    moto's backends read, check and write an item in plain Python, so two threads could both
    pass a condition (two projects got the same slug from 30 concurrent creates, and two jobs
    could start on one video). Our conditional writes rely on DynamoDB's atomicity; the stand-in
    must give it. Requests are short (well under a millisecond of moto's work each) once their
    answer is not serialized shape by shape (``_fast_item_results``)."""
    from moto.dynamodb.responses import DynamoHandler

    _fast_item_results()
    if getattr(DynamoHandler.call_action, "_klyph_serialized", False):
        return
    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    call_action._klyph_serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


# Operations whose answer is items (AttributeValue maps) and a few numbers: DynamoDB's JSON
# protocol sends them as they are, bytes in base64. Table descriptions (timestamps) keep moto's
# serializer.
_ITEM_OPERATIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "TransactGetItems"}
)


def _fast_item_results() -> None:
    """moto 5.2 walks every attribute of every item through botocore's output shapes to write
    a DynamoDB answer: 50-80 ms for 50 items, held under the lock above, and most of each local
    API request's time (a list-clips took 65 ms, of it 45 ms serializing). ``json.dumps`` of the
    same dict gives the same document (tests/test_devstack_dynamodb.py compares them) in under a
    millisecond."""
    import base64

    from moto.dynamodb.responses import DynamoResult

    if getattr(DynamoResult.execute_result, "_klyph_fast", False):
        return
    generic = DynamoResult.execute_result

    def as_base64(value: object) -> str:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(f"{type(value).__name__} in a DynamoDB item")

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in _ITEM_OPERATIONS:
            return generic(self, context)
        body = json.dumps(self.result, default=as_base64, separators=(",", ":"))
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result._klyph_fast = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def enable_state_machine_interpreter() -> None:
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True


def install_lambda_dispatch(app: Any, *, async_retry_delays: tuple[float, ...] = ASYNC_RETRY_DELAYS) -> None:
    """Make moto run Lambda invocations as in-process calls to the Chalice app's handlers.

    moto routes every invocation through ``LambdaFunction._invoke_lambda(event)``
    and expects ``(payload_json, errored, logs)``; on error the payload carries
    ``errorType``/``errorMessage`` like the real Lambda runtime, which is what the
    state machine's Retry and Catch match on.

    S3 bucket notifications are asynchronous invocations on AWS, and moto runs them
    once and forgets errors. They are routed through :func:`_invoke_async` instead
    (``async_retry_delays``: seconds before each retry). State machine tasks and
    ``Invoke`` calls, whatever their payload, keep the plain synchronous path.
    """
    import moto.s3.notifications
    from moto.awslambda.models import LambdaFunction

    if not callable(getattr(moto.s3.notifications, "_invoke_awslambda", None)):
        # Assigning it below would then change nothing: S3 events would silently lose their retries.
        raise RuntimeError("moto.s3.notifications._invoke_awslambda is gone: the S3 -> Lambda hook needs moto 5.2.5")

    def invoke(self: Any, event: Any = None) -> tuple[str, bool, str]:
        handler_name = self.handler.split(".", 1)[1]
        handler = app.handler_map[handler_name]
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        try:
            result = handler(event if event is not None else {}, LocalContext(self.function_name))
            return json.dumps(result), False, ""
        except Exception as exc:  # noqa: BLE001 - Lambda's contract: any failure is reported
            log.warning("function %s failed: %s", self.function_name, exc)
            payload = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-5:],
            }
            return json.dumps(payload), True, ""
        finally:
            # Where a Lambda sandbox would be frozen or gone: what the task freed leaves the process.
            release_freed_memory()

    setattr(LambdaFunction, "_invoke_lambda", invoke)  # noqa: B010 - a monkeypatch; `=` on a method is a type error

    global _retries
    stop_async_retries()  # a previous install's pending retries belong to a previous stack
    _retries = _AsyncRetries(tuple(async_retry_delays))

    def notify(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        # Replaces moto's S3 -> Lambda call (moto.s3.notifications._invoke_awslambda, whose
        # signature this keeps), the only place that knows an invocation is S3's: a redrive's
        # synchronous Invoke carries the same S3-event payload and must not be retried behind
        # its caller's back.
        from moto.awslambda.utils import get_backend

        try:
            fn = get_backend(account_id, region_name).get_function(fn_arn)
        except Exception as exc:  # noqa: BLE001 - S3 on AWS drops events for a missing function the same way
            log.error("S3 notification for %s not delivered: %s", fn_arn, exc)
            return
        _invoke_async(fn, event_body, _retries)

    moto.s3.notifications._invoke_awslambda = notify


class _AsyncRetries:
    """The retries waiting on background threads; ``stop()`` abandons the ones not yet run."""

    def __init__(self, delays: tuple[float, ...]) -> None:
        self.delays = delays or (0.0,)
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def delay(self, retry: int) -> float:
        return self.delays[min(retry, len(self.delays) - 1)]

    def start(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout)


_retries: _AsyncRetries | None = None


def stop_async_retries() -> None:
    """Abandon pending retries of S3-notified invocations (a test's stack is going away)."""
    if _retries is not None:
        _retries.stop()


def _invoke_async(fn: Any, event: dict, retries: _AsyncRetries) -> None:
    """Lambda's asynchronous invocation, for the events S3 sends the upload trigger.

    The first attempt runs here, inside the PUT that fired the notification: uploads rely on
    the video being ``uploaded`` when the PUT returns (on AWS it is a moment later). If it
    raises, the retries run on a background thread after ``retries.delays``, as many as the
    function's event invoke config allows (Lambda's default: 2). When the last one fails too,
    the Lambda-style on-failure record goes to the configured SQS destination.
    """
    config = fn.event_invoke_config[0].config if fn.event_invoke_config else {}
    max_retries = int(config.get("MaximumRetryAttempts", UPLOAD_RETRY_ATTEMPTS))
    destination = (config.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    request_id = str(uuid.uuid4())  # Lambda keeps one request id across an event's attempts
    body = json.dumps(event)
    payload, errored, _ = fn._invoke_lambda(body)
    if not errored:
        return

    def retry() -> None:
        attempts, result = 1, payload
        for n in range(max_retries):
            delay = retries.delay(n)
            log.warning("%s failed on %s (attempt %d); retrying in %.3g s",
                        fn.function_name, _keys(event), attempts, delay)
            if retries.stopped.wait(delay):
                return
            result, failed, _ = fn._invoke_lambda(body)
            attempts += 1
            if not failed:
                log.info("%s handled %s on attempt %d", fn.function_name, _keys(event), attempts)
                return
        _on_failure(fn, event, destination, request_id, attempts, result)

    retries.start(retry, name=f"async-retry-{request_id[:8]}")


def _keys(event: dict) -> str:
    from urllib.parse import unquote_plus

    keys = [unquote_plus(r.get("s3", {}).get("object", {}).get("key", "?")) for r in event.get("Records", [])]
    return ", ".join(keys) or "an event without records"


def _on_failure(fn: Any, event: dict, destination: str | None, request_id: str, attempts: int, payload: str) -> None:
    """Hand the event to the on-failure destination in the record Lambda writes there."""
    try:
        response = json.loads(payload)
    except ValueError:
        response = {"errorMessage": payload}
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{fn.function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": response,
    }
    error = f"{response.get('errorType', 'Error')}: {response.get('errorMessage', '')}"
    if not destination or destination.split(":")[2] != "sqs":
        log.error("%s failed %d times on %s (%s); no SQS on-failure destination, event dropped",
                  fn.function_name, attempts, _keys(event), error)
        return
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue = destination.split(":", 5)
    try:
        # As the Lambda service does: straight to the queue, no client in between.
        sqs_backends[account][region].send_message(queue, json.dumps(record))
    except Exception as exc:  # noqa: BLE001 - a retry thread has no caller: whatever failed is logged
        log.error("%s failed %d times on %s (%s); the on-failure record could not reach %s: %s",
                  fn.function_name, attempts, _keys(event), error, queue, exc)
        return
    log.error("%s failed %d times on %s (%s); event sent to %s (redrive: make redrive-uploads)",
              fn.function_name, attempts, _keys(event), error, queue)


@dataclass
class LocalContext:
    """The few Lambda context attributes handlers may read."""

    function_name: str
    memory_limit_in_mb: int = 3008
    aws_request_id: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _placeholder_zip() -> bytes:
    # moto wants a code package; the code that runs is the in-process app.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "# served in-process by the Klyph local stack\n")
    return buf.getvalue()


def media_cors_rule(origins: tuple[str, ...]) -> dict[str, Any]:
    """The media bucket's CORS rule, as infra/stack.py sets it on AWS: the dashboard PUTs a
    source to its presigned URL (the browser adds Content-Type) and plays clips with their
    caption tracks (a cross-origin <track> needs CORS)."""
    return {"AllowedOrigins": list(origins), "AllowedMethods": ["GET", "HEAD", "PUT"],
            "AllowedHeaders": ["content-type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}


def provision(app: Any, *, render_concurrency: int = 2, retry_interval_seconds: int = 2,
              api_origins: tuple[str, ...] = ()) -> str:
    """Create the table, bucket, functions, notification (with the upload trigger's on-failure
    queue) and state machine; return the state machine ARN. ``api_origins``: where the dashboard
    is served, the origins the bucket's CORS rule lets upload and play media."""
    from chalicelib import clients
    from chalicelib.config import settings
    from chalicelib.services import wiring
    from chalicelib.statemachine import TASK_FUNCTIONS, render

    cfg = settings()
    wiring.records().table.create()
    wiring.blobs().create_bucket(cfg.region)
    if api_origins:
        clients.s3().put_bucket_cors(Bucket=cfg.bucket, CORSConfiguration={"CORSRules": [media_cors_rule(api_origins)]})
    iam = clients.client("iam")
    role_arn = iam.create_role(
        RoleName=ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    lam = clients.client("lambda")
    code = _placeholder_zip()
    arns: dict[str, str] = {}
    for handler in (*TASK_FUNCTIONS, UPLOAD_TRIGGER):
        if handler not in app.handler_map:
            raise RuntimeError(f"app.py has no lambda function {handler!r}")
        arns[handler] = lam.create_function(
            FunctionName=function_name(handler),
            Runtime="python3.12",
            Role=role_arn,
            Handler=f"app.{handler}",
            Code={"ZipFile": code},
            Timeout=900,
            MemorySize=3008,
        )["FunctionArn"]
    # Lambda's async handling of S3's events, as infra/stack.py configures it on AWS; the
    # dispatch reads it back from the function (install_lambda_dispatch).
    failures_queue = clients.client("sqs").create_queue(
        QueueName=UPLOAD_FAILURES_QUEUE,
        Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600), "SqsManagedSseEnabled": "true"},
    )["QueueUrl"]
    failures_arn = clients.client("sqs").get_queue_attributes(QueueUrl=failures_queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lam.put_function_event_invoke_config(
        FunctionName=function_name(UPLOAD_TRIGGER),
        MaximumRetryAttempts=UPLOAD_RETRY_ATTEMPTS,
        MaximumEventAgeInSeconds=UPLOAD_EVENT_MAX_AGE_SECONDS,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    clients.s3().put_bucket_notification_configuration(
        Bucket=cfg.bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": arns[UPLOAD_TRIGGER],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "accounts/"}]}},
                }
            ]
        },
    )
    definition = render(
        {h: arns[h] for h in TASK_FUNCTIONS},
        render_concurrency=render_concurrency,
        retry_interval_seconds=retry_interval_seconds,
    )
    arn = clients.stepfunctions().create_state_machine(
        name=cfg.state_machine_arn.rsplit(":", 1)[1], definition=definition, roleArn=role_arn
    )["stateMachineArn"]
    if arn != cfg.state_machine_arn:
        raise RuntimeError(f"state machine ARN {arn} differs from the configured {cfg.state_machine_arn}")
    return arn
