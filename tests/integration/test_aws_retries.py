"""An AWS hiccup mid-job: boto3 retries it (standard mode), and when its attempts run out the
adapter raises TransientError, which the state machine retries. The failure is a real botocore
one: DynamoDB answers 503 ServiceUnavailable on the wire, as it does under an outage."""
from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib import clients

pytestmark = [pytest.mark.media, pytest.mark.slow]


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self):
        yield self.data


class DynamoOutage:
    """Fails every attempt of the first UpdateItem call made once armed (all of boto3's retries)."""

    def __init__(self) -> None:
        self.armed = False
        self.invocation: str | None = None
        self.attempts: list[dict] = []

    def __call__(self, request, **_):
        retries = request.context.get("retries") or {}
        if not self.armed or (self.invocation and retries.get("invocation-id") != self.invocation):
            return None
        self.invocation = retries.get("invocation-id")
        self.attempts.append(retries)
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable","message":"injected outage"}'
        return AWSResponse(request.url, 503, {"x-amzn-ErrorType": "ServiceUnavailable"}, _Body(body))


def test_a_dynamodb_outage_is_retried_by_boto3_then_by_the_state_machine(api, project, speech_video):
    outage = DynamoOutage()
    clients.dynamodb().meta.events.register_first("before-send.dynamodb.UpdateItem", outage)
    status, video = api.upload(api.account_id, project["id"], "talk.mp4", speech_video.read_bytes())
    assert status == 200
    status, body = api.post("/dev/process-video-submit",
                            {"videoId": video["id"], "maxClips": 1, "minDuration": 5, "maxDuration": 10})
    assert status == 200
    outage.armed = True
    status, result = api.wait_for_result(body["callId"])

    assert result["status"] == "succeeded", result
    assert [c["status"] for c in result["clips"]] == ["ready"]
    # boto3 spent every attempt it had on the one call before giving up...
    assert len(outage.attempts) == outage.attempts[0]["max"] >= 3
    # ...then the task failed with TransientError and Step Functions ran it again.
    arn = clients.stepfunctions().describe_execution(
        executionArn=_execution_arn(body["callId"]))["executionArn"]
    events = clients.stepfunctions().get_execution_history(executionArn=arn)["events"]
    failures = [e for e in events if "TransientError" in json.dumps(e, default=str)]
    assert failures, "the task's TransientError shows in the execution history"


def _execution_arn(call_id: str) -> str:
    from chalicelib.services import wiring

    return wiring.records().get_call(call_id)["executionArn"]
