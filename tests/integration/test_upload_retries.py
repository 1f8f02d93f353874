"""An upload the trigger fails on: Lambda-style async retries in the local stack, the on-failure
queue, and the operator's redrive (tools/redrive_uploads.py), all under moto."""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import unquote_plus

import pytest
import requests
from botocore.exceptions import ClientError

from chalicelib import clients
from devstack.stack import UPLOAD_FAILURES_QUEUE, UPLOAD_TRIGGER, function_name
from media_fixtures import make_video
from tools import redrive_uploads


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("upload-retries") / "clip.mp4"
    make_video(path, seconds=2, width=320, height=180)
    return path.read_bytes()


def throttled(monkeypatch, failing_calls: int | None) -> list[str]:
    """DynamoDB throttling the trigger's first ``failing_calls`` calls (None: every call)."""
    from chalicelib.services import videos

    real = videos.handle_uploaded_object
    calls: list[str] = []

    def flaky(bucket: str, key: str, version_id: str | None = None) -> dict:
        calls.append(unquote_plus(key))
        if failing_calls is None or len(calls) <= failing_calls:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}},
                "UpdateItem",
            )
        return real(bucket, key, version_id)

    monkeypatch.setattr(videos, "handle_uploaded_object", flaky)
    return calls


def start_upload(api, project, size: int) -> tuple[str, str, str]:
    status, body = api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project["id"],
                                                   "filename": "talk.mp4", "sizeBytes": size})
    assert status == 200, body
    key = f"accounts/{api.account_id}/videos/{body['videoId']}/source"
    return body["videoId"], body["uploadUrl"], key


def video_status(api, video_id: str) -> str:
    status, body = api.get(f"/dev/video-summary?videoId={video_id}")
    assert status == 200, body
    return body["video"]["status"]


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s")
        time.sleep(0.02)
    return result


def queue_url() -> str:
    return clients.client("sqs").get_queue_url(QueueName=UPLOAD_FAILURES_QUEUE)["QueueUrl"]


def queued() -> int:
    """Messages in the queue, visible or not."""
    attrs = clients.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(), AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.mark.media
def test_a_transient_failure_is_retried_and_the_video_ends_uploaded(api, project, clip, monkeypatch):
    calls = throttled(monkeypatch, failing_calls=1)
    video_id, url, key = start_upload(api, project, len(clip))
    # The first attempt runs inside the PUT, fails, and does not fail the PUT (S3 invokes async).
    assert requests.put(url, data=clip, timeout=30).status_code == 200
    wait_until(lambda: video_status(api, video_id) == "uploaded")
    assert calls == [key, key]
    assert queued() == 0


@pytest.mark.media
def test_an_event_failing_every_attempt_is_parked_then_redriven(api, project, clip, monkeypatch, capsys, caplog):
    caplog.set_level(logging.WARNING, logger="klyph.local")
    lam = clients.client("lambda")
    config = lam.get_function_event_invoke_config(FunctionName=function_name(UPLOAD_TRIGGER))
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(":" + UPLOAD_FAILURES_QUEUE)

    calls = throttled(monkeypatch, failing_calls=None)
    video_id, url, key = start_upload(api, project, len(clip))
    assert requests.put(url, data=clip, timeout=30).status_code == 200
    wait_until(lambda: queued() == 1)
    assert calls == [key] * 3  # the first attempt and Lambda's two retries
    assert video_status(api, video_id) == "uploading"
    (message,) = clients.client("sqs").receive_message(QueueUrl=queue_url(), VisibilityTimeout=0)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(f":function:{function_name(UPLOAD_TRIGGER)}:$LATEST")
    assert record["responsePayload"]["errorType"] == "ClientError"
    assert "ProvisionedThroughputExceededException" in record["responsePayload"]["errorMessage"]
    (s3_record,) = record["requestPayload"]["Records"]
    assert s3_record["eventSource"] == "aws:s3" and unquote_plus(s3_record["s3"]["object"]["key"]) == key
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "klyph.local"]
    assert len(errors) == 1 and key in errors[0].getMessage() and UPLOAD_FAILURES_QUEUE in errors[0].getMessage()

    # The operator's redrive, as `make redrive-uploads STAGE=aws` runs it with the stack's outputs.
    monkeypatch.setenv(redrive_uploads.QUEUE_URL_ENV, queue_url())
    monkeypatch.setenv(redrive_uploads.FUNCTION_ENV, function_name(UPLOAD_TRIGGER))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-print-this-secret")
    capsys.readouterr()

    assert redrive_uploads.main(["--stage", "aws", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{key}: queued (ClientError after 3 attempts" in out and "1 message(s) queued" in out
    assert queued() == 1 and len(calls) == 3

    # Still failing: reported, kept, and (a synchronous Invoke) not retried in the background.
    assert redrive_uploads.main(["--stage", "aws"]) == 1
    out = capsys.readouterr().out
    assert f"{key}: failed again (ClientError:" in out and "left in the queue" in out
    time.sleep(0.3)  # longer than the local async retry delays
    assert len(calls) == 4 and queued() == 1

    monkeypatch.undo()  # the fault is gone (and the environment restored) ...
    monkeypatch.setenv(redrive_uploads.QUEUE_URL_ENV, queue_url())
    monkeypatch.setenv(redrive_uploads.FUNCTION_ENV, function_name(UPLOAD_TRIGGER))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-print-this-secret")
    assert redrive_uploads.main(["--stage", "aws"]) == 0  # ... so the redrive uploads it
    out = capsys.readouterr().out
    assert f"{key}: ok (uploaded); removed from the queue" in out and "1 redriven, 0 failed again" in out
    assert video_status(api, video_id) == "uploaded"
    assert queued() == 0
    assert "never-print-this-secret" not in out


def test_a_direct_invoke_of_the_trigger_is_not_retried(aws, monkeypatch):
    calls = throttled(monkeypatch, failing_calls=None)
    event = {"Records": [{"eventSource": "aws:s3", "s3": {
        "bucket": {"name": "klyph-test-media"},
        "object": {"key": "accounts%2Facc_x%2Fvideos%2Fvid_x%2Fsource"},
    }}]}
    response = clients.client("lambda").invoke(FunctionName=function_name(UPLOAD_TRIGGER), Payload=json.dumps(event))
    assert response.get("FunctionError")
    assert json.loads(response["Payload"].read())["errorType"] == "ClientError"
    time.sleep(0.3)
    assert len(calls) == 1 and queued() == 0


def test_redrive_for_aws_names_the_outputs_it_needs(monkeypatch, capsys):
    monkeypatch.delenv(redrive_uploads.QUEUE_URL_ENV, raising=False)
    monkeypatch.delenv(redrive_uploads.FUNCTION_ENV, raising=False)
    assert redrive_uploads.main(["--stage", "aws"]) == 2
    err = capsys.readouterr().err
    assert (redrive_uploads.QUEUE_URL_ENV in err
            and "UploadFailuresQueueUrl" in err and "UploadTriggerFunctionName" in err)
