"""The local stack's hook: moto's Lambda invocations run app.py's handlers in process (pinned moto 5.2.5)."""
from __future__ import annotations

import json

import moto

from chalicelib import clients
from devstack.stack import function_name


def test_moto_version_is_the_one_the_hook_was_built_for():
    assert moto.__version__ == "5.2.5"


def test_invoke_runs_the_app_handler_and_reports_errors_like_lambda(aws):
    lam = clients.client("lambda")
    ok = lam.invoke(FunctionName=function_name("upload_trigger"), Payload=json.dumps({"Records": []}))
    assert "FunctionError" not in ok and json.loads(ok["Payload"].read()) == {"results": []}

    # A task given a call that does not exist fails the way the Lambda runtime reports it,
    # which is what the state machine's Retry and Catch match on.
    bad = lam.invoke(FunctionName=function_name("pipeline_finalize"),
                     Payload=json.dumps({"callId": "call_x", "videoId": "vid_x"}))
    payload = json.loads(bad["Payload"].read())
    assert bad.get("FunctionError") and payload["errorType"] and payload["errorMessage"]


def test_each_invocation_hands_back_what_it_freed(aws, monkeypatch):
    # A Lambda sandbox's memory ends with its task; the stack's one process must not keep it.
    import devstack.stack

    released: list[int] = []
    monkeypatch.setattr(devstack.stack, "release_freed_memory", lambda: released.append(1) or True)
    lam = clients.client("lambda")
    lam.invoke(FunctionName=function_name("upload_trigger"), Payload=json.dumps({"Records": []}))
    lam.invoke(FunctionName=function_name("pipeline_finalize"),
               Payload=json.dumps({"callId": "call_x", "videoId": "vid_x"}))
    assert len(released) == 2  # after a success and after a failure
