"""The one clip-generation state machine, rendered for a target (local moto or AWS).

``pipeline.asl.json`` holds the definition with ``${name}`` placeholders; this
module fills them structurally (so numbers stay numbers and lists stay lists)
and is called by both the local stack and ``infra/``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFINITION_PATH = Path(__file__).with_name("pipeline.asl.json")

# The Lambda handlers the states call, by placeholder name.
TASK_FUNCTIONS = (
    "pipeline_prepare",
    "pipeline_transcribe_start",
    "pipeline_transcribe_check",
    "pipeline_select",
    "pipeline_reframe",
    "pipeline_render",
    "pipeline_clip_failed",
    "pipeline_finalize",
    "pipeline_failed",
    "pipeline_deliver_webhook",
)

# Errors worth another try: Lambda's own service hiccups and our TransientError.
# Bad media or a failed transcription are not retried: they fail the same way again.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
]


def transient_retry(interval_seconds: int = 2, max_attempts: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "ErrorEquals": TRANSIENT_ERRORS,
            "IntervalSeconds": interval_seconds,
            "MaxAttempts": max_attempts,
            "BackoffRate": 2.0,
        }
    ]


def render(function_arns: dict[str, str], *, render_concurrency: int, retry_interval_seconds: int = 2) -> str:
    missing = set(TASK_FUNCTIONS) - set(function_arns)
    if missing:
        raise ValueError(f"no ARN for {sorted(missing)}")
    values: dict[str, Any] = {
        **function_arns,
        "render_concurrency": render_concurrency,
        "transient_retry": transient_retry(retry_interval_seconds),
    }

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, str) and node.startswith("${") and node.endswith("}"):
            return values[node[2:-1]]
        return node

    return json.dumps(fill(json.loads(DEFINITION_PATH.read_text())), indent=1)
