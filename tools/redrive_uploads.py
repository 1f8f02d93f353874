"""Redrive upload events the upload trigger gave up on (``make redrive-uploads``):

    python -m tools.redrive_uploads [--stage local|aws] [--port N] [--dry-run]

S3 invokes the upload trigger asynchronously; an event it raised on three times (a
DynamoDB or S3 hiccup, not bad media) lands in the on-failure queue as Lambda's record,
whose ``requestPayload`` is the original S3 event. This reads each record, invokes the
trigger again with that event (synchronously), deletes the message when that succeeded
and leaves it in the queue when it did not. ``--dry-run`` only lists what is queued.

``--stage aws`` takes the two names from the stack's outputs, with the AWS credentials
and region of the environment:

    KLYPH_UPLOAD_FAILURES_QUEUE_URL   the UploadFailuresQueueUrl output
    KLYPH_UPLOAD_TRIGGER_FUNCTION     the UploadTriggerFunctionName output

``--stage local`` talks to the running local stack's AWS stand-in on 127.0.0.1:PORT+1.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

QUEUE_URL_ENV = "KLYPH_UPLOAD_FAILURES_QUEUE_URL"
FUNCTION_ENV = "KLYPH_UPLOAD_TRIGGER_FUNCTION"
# The trigger may probe a 5 GB source for up to its 300 s timeout: wait longer than that for
# its answer, and hide the message from other readers meanwhile.
INVOKE_READ_TIMEOUT = 330
VISIBILITY_TIMEOUT = 600


@dataclass
class Outcome:
    ok: list[str] = field(default_factory=list)  # message ids redriven and deleted
    failed: list[str] = field(default_factory=list)  # message ids left in the queue
    skipped: list[str] = field(default_factory=list)  # not a Lambda on-failure record; left alone
    listed: list[str] = field(default_factory=list)  # dry run: seen, left in the queue

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.skipped else 0


def lambda_client() -> Any:
    """A Lambda client for one long synchronous invoke. Not chalicelib's shared client: that
    one's 60 s read timeout is shorter than the trigger may run, and botocore would retry a
    timed-out Invoke, running the trigger twice."""
    import boto3
    from botocore.config import Config

    from chalicelib.config import settings

    cfg = settings()
    return boto3.session.Session().client(
        "lambda",
        region_name=cfg.region,
        endpoint_url=cfg.endpoint_url,
        config=Config(read_timeout=INVOKE_READ_TIMEOUT, retries={"total_max_attempts": 1}),
    )


def object_keys(event: dict) -> list[str]:
    return [unquote_plus(r.get("s3", {}).get("object", {}).get("key", "?")) for r in event.get("Records", [])]


def redrive(
    queue_url: str,
    function: str,
    *,
    dry_run: bool = False,
    sqs: Any = None,
    lam: Any = None,
    say: Callable[[str], None] = print,
) -> Outcome:
    """Redrive every record in the queue once; messages that fail again stay for the next run."""
    from chalicelib import clients

    sqs = sqs or clients.client("sqs")
    lam = lam or lambda_client()
    outcome = Outcome()
    held: list[str] = []  # receipt handles to make visible again at the end
    while True:
        # One at a time: each stays hidden for VISIBILITY_TIMEOUT, so this loop sees every
        # message once even when some fail again; long polling (1 s) so an empty answer means empty.
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1, VisibilityTimeout=VISIBILITY_TIMEOUT
        ).get("Messages", [])
        if not messages:
            break
        message = messages[0]
        mid = message["MessageId"]
        try:
            record = json.loads(message["Body"])
            event = record["requestPayload"]
            keys = ", ".join(object_keys(event)) or "(no records)"
        except (ValueError, KeyError, TypeError, AttributeError):
            say(f"{mid}: skipped, not a Lambda on-failure record (left in the queue)")
            outcome.skipped.append(mid)
            held.append(message["ReceiptHandle"])
            continue
        context = record.get("requestContext", {})
        first = record.get("responsePayload") or {}
        why = f"{first.get('errorType', 'error')} after {context.get('approximateInvokeCount', '?')} attempts"
        if dry_run:
            say(f"{keys}: queued ({why}, {record.get('timestamp', 'time unknown')}); dry run, not redriven")
            outcome.listed.append(mid)
            held.append(message["ReceiptHandle"])
            continue
        try:
            response = lam.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event))
            payload = json.loads(response["Payload"].read() or b"null")
            error = response.get("FunctionError") and f"{payload.get('errorType')}: {payload.get('errorMessage')}"
        except Exception as exc:  # noqa: BLE001 - the operator needs the reason, and the message must stay
            payload, error = None, f"{exc.__class__.__name__}: {exc}"
        if error:
            say(f"{keys}: failed again ({error}); left in the queue")
            outcome.failed.append(mid)
            held.append(message["ReceiptHandle"])
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        results = (payload or {}).get("results") or [{}]
        states = ", ".join(r.get("status") or ("ignored" if "ignored" in r else "done") for r in results)
        say(f"{keys}: ok ({states}); removed from the queue")
        outcome.ok.append(mid)
    for handle in held:  # visible again now, for the next run, not in VISIBILITY_TIMEOUT
        # Whatever stops it, the message reappears after VISIBILITY_TIMEOUT anyway.
        with contextlib.suppress(Exception):
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    if dry_run:
        say(f"{len(outcome.listed) + len(outcome.skipped)} message(s) queued")
    else:
        say(f"{len(outcome.ok)} redriven, {len(outcome.failed)} failed again, {len(outcome.skipped)} skipped")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="redrive-uploads", description="Redrive upload events the upload trigger gave up on."
    )
    parser.add_argument("--stage", choices=["local", "aws"], default="local")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)),
                        help="API port of the running local stack (its AWS stand-in listens on port+1)")
    parser.add_argument("--dry-run", action="store_true", help="list the queued events; change nothing")
    args = parser.parse_args(argv)

    if args.stage == "local":
        os.environ.setdefault("KLYPH_AWS_ENDPOINT_URL", f"http://127.0.0.1:{args.port + 1}")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        from devstack.stack import UPLOAD_FAILURES_QUEUE, UPLOAD_TRIGGER, function_name

        function = function_name(UPLOAD_TRIGGER)
        where = "the local stack (is `make run` running?)"
    else:
        missing = [name for name in (QUEUE_URL_ENV, FUNCTION_ENV) if not os.environ.get(name)]
        if missing:
            print(f"set {' and '.join(missing)} (the stack outputs UploadFailuresQueueUrl and "
                  "UploadTriggerFunctionName)", file=sys.stderr)
            return 2
        function = os.environ[FUNCTION_ENV]
        where = "AWS"
    from chalicelib import clients

    try:
        sqs = clients.client("sqs")
        if args.stage == "local":
            queue_url = sqs.get_queue_url(QueueName=UPLOAD_FAILURES_QUEUE)["QueueUrl"]
        else:
            queue_url = os.environ[QUEUE_URL_ENV]
        outcome = redrive(queue_url, function, dry_run=args.dry_run, sqs=sqs)
    except Exception as exc:  # noqa: BLE001 - an operator needs the reason, not a traceback
        print(f"could not reach {where}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
