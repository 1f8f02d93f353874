"""The embedded local stack: the whole service on one machine with no AWS account.

One process runs
- a moto server on 127.0.0.1 standing in for S3, DynamoDB, IAM, Lambda and Step
  Functions, with moto's Step Functions interpreter switched on so the real state
  machine definition runs;
- a dispatch hook so that every Lambda invocation moto makes (from the state
  machine, from ``Invoke`` and from the S3 bucket notification) runs the Chalice
  app's own handler in this process;
- Chalice's local HTTP server for the API under ``/api``.

``python -m devstack`` (what ``make run`` starts) provisions everything
and serves until Ctrl-C.
"""
from __future__ import annotations

import io
import json
import logging
import os
import traceback
import zipfile
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("klyph.local")

ACCOUNT = "123456789012"  # moto's default account
APP_NAME = "klyph"
STAGE = "local"
ROLE_NAME = "klyph-local-role"
UPLOAD_TRIGGER = "upload_trigger"


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
    # Powertools' own switch: no EMF metric lines on the console (they are for CloudWatch).
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def state_machine_arn(region: str) -> str:
    return f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{APP_NAME}-{STAGE}-pipeline"


def enable_state_machine_interpreter() -> None:
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True


def install_lambda_dispatch(app: Any) -> None:
    """Make moto run Lambda invocations as in-process calls to the Chalice app's handlers.

    moto routes every invocation through ``LambdaFunction._invoke_lambda(event)``
    and expects ``(payload_json, errored, logs)``; on error the payload carries
    ``errorType``/``errorMessage`` like the real Lambda runtime, which is what the
    state machine's Retry and Catch match on.
    """
    from moto.awslambda.models import LambdaFunction

    def invoke(self: Any, event: Any = None) -> tuple[str, bool, str]:
        handler_name = self.handler.split(".", 1)[1]
        handler = app.handler_map[handler_name]
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        try:
            result = handler(event if event is not None else {}, LocalContext(self.function_name))
            return json.dumps(result), False, ""
        except Exception as exc:  # the runtime's error contract, not a swallow
            log.warning("function %s failed: %s", self.function_name, exc)
            payload = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-5:],
            }
            return json.dumps(payload), True, ""

    LambdaFunction._invoke_lambda = invoke


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


def provision(app: Any, *, render_concurrency: int = 2, retry_interval_seconds: int = 2) -> str:
    """Create the table, bucket, functions, notification and state machine; return the state machine ARN."""
    from chalicelib import clients
    from chalicelib.config import settings
    from chalicelib.services import wiring
    from chalicelib.statemachine import TASK_FUNCTIONS, render

    cfg = settings()
    wiring.records().table.create()
    wiring.blobs().create_bucket(cfg.region)
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
