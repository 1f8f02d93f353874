"""Logs, traces and metrics: structured on Lambda, silent and network-free everywhere else."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from chalicelib.observability import correlation_keys

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_LAMBDA_", "LAMBDA_", "POWERTOOLS_", "_X_AMZN"))}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_correlation_keys_from_states_map_items_and_s3_events():
    state = {"callId": "call_1", "videoId": "vid_1", "accountId": "acc_1", "options": {}}
    assert correlation_keys(state) == {"callId": "call_1", "videoId": "vid_1", "accountId": "acc_1"}
    assert correlation_keys({"clip": {}, "callId": "call_2"}) == {"callId": "call_2"}
    s3 = {"Records": [{"s3": {"object": {"key": "accounts%2Facc_9%2Fvideos%2Fvid_9%2Fsource"}}}]}
    assert correlation_keys(s3) == {"accountId": "acc_9", "videoId": "vid_9"}
    assert correlation_keys({"Records": [{"s3": {"object": {"key": "work/x"}}}]}) == {}
    assert correlation_keys(None) == {} and correlation_keys({"callId": 5}) == {}


def test_off_lambda_nothing_is_printed_traced_or_sent():
    # As the local stack runs: Powertools' own switch for metrics, no Lambda variables.
    out = run_python("""
        import sys
        import app
        from chalicelib import observability
        print("xray imported by the API:", "aws_xray_sdk" in sys.modules)
        app.pipeline.render = lambda event: {"index": 0, "status": "ready"}
        print(app.pipeline_render({"callId": "call_1", "clip": {"index": 0}}, None))
        print("tracing disabled:", observability.tracer().disabled)
        print("metrics left:", dict(observability.metrics.metric_set))
    """, POWERTOOLS_METRICS_DISABLED="true")
    assert out == ["xray imported by the API: False", "{'index': 0, 'status': 'ready'}", "tracing disabled: True",
                   "metrics left: {}"]


def test_on_lambda_json_logs_carry_the_ids_and_metrics_go_out_as_emf():
    # AWS_LAMBDA_FUNCTION_NAME says "Lambda"; LAMBDA_TASK_ROOT stays unset, so Powertools
    # itself keeps X-Ray off: nothing may try to reach a daemon.
    out = run_python("""
        import app
        from chalicelib import observability

        class Context:
            function_name = "klyph-prod-pipeline_failed"
            memory_limit_in_mb = 256
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:klyph-prod-pipeline_failed"
            aws_request_id = "req-1"

        def failed(event):
            app.app.log.warning("job failed")
            return {"callId": event["callId"], "status": "failed", "stage": "transcribing"}

        app.pipeline.failed = failed
        app.pipeline_failed({"callId": "call_1", "videoId": "vid_1", "accountId": "acc_1", "media": {}}, Context())
        print(json.dumps({"tracing_disabled": observability.tracer().disabled}))
    """.replace("import app", "import json, app", 1), AWS_LAMBDA_FUNCTION_NAME="klyph-prod-pipeline_failed")
    records = [json.loads(line) for line in out]
    log = next(r for r in records if r.get("message") == "job failed")
    assert log["service"] == "klyph" and log["level"] == "WARNING"
    assert (log["callId"], log["videoId"], log["accountId"]) == ("call_1", "vid_1", "acc_1")
    assert log["function_request_id"] == "req-1" and log["cold_start"] is True
    emf = next(r for r in records if "_aws" in r)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Klyph"
    assert [m["Name"] for m in directive["Metrics"]] == ["JobsFailed"]
    assert emf["JobsFailed"] == [1.0] or emf["JobsFailed"] == 1.0
    assert emf["stage"] == "transcribing" and sorted(directive["Dimensions"][0]) == ["service", "stage"]
    assert records[-1] == {"tracing_disabled": True}
