"""AwsTranscriber against moto (start/check/fetch) and botocore's Stubber (a failed job)."""
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib.adapters.transcribe import AwsTranscriber

BUCKET = "klyph-test-media"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "aws_transcribe_output.json"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        client = boto3.client("transcribe", region_name="us-east-1")
        yield client, s3, AwsTranscriber(client, s3, BUCKET)


def test_start_then_poll_until_completed(aws):
    client, _, transcriber = aws
    transcriber.start("call_01ABC", "videos/vid_1/audio.wav", "videos/vid_1/transcript-aws.json")
    job = client.get_transcription_job(TranscriptionJobName="call_01ABC")["TranscriptionJob"]
    assert job["Media"]["MediaFileUri"] == f"s3://{BUCKET}/videos/vid_1/audio.wav"
    assert job["MediaFormat"] == "wav" and job["LanguageCode"] == "en-US"

    seen = [transcriber.check("call_01ABC") for _ in range(5)]
    assert set(seen) <= {("IN_PROGRESS", None), ("COMPLETED", None)}
    assert seen[-1] == ("COMPLETED", None)
    job = client.get_transcription_job(TranscriptionJobName="call_01ABC")["TranscriptionJob"]
    uri = job["Transcript"]["TranscriptFileUri"]
    assert uri.endswith(f"/{BUCKET}/videos/vid_1/transcript-aws.json")


def test_start_is_idempotent_for_a_retried_step(aws):
    _, _, transcriber = aws
    transcriber.start("call_02", "a.wav", "out/a.json")
    transcriber.start("call_02", "a.wav", "out/a.json")


def test_output_key_must_name_a_json_file(aws):
    _, _, transcriber = aws
    with pytest.raises(ValueError, match=r".json"):
        transcriber.start("call_03", "a.wav", "out/folder")


def test_fetch_reads_and_parses_the_output(aws):
    _, s3, transcriber = aws
    s3.put_object(Bucket=BUCKET, Key="out/t.json", Body=FIXTURE.read_bytes())
    t = transcriber.fetch("out/t.json")
    assert t.language == "en-US" and len(t.segments) == 4
    assert t.segments[1].text == "Why do most startups underprice their product?"


def test_failed_job_reports_the_reason():
    client = boto3.client("transcribe", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response(
            "get_transcription_job",
            {"TranscriptionJob": {
                "TranscriptionJobName": "call_04", "TranscriptionJobStatus": "FAILED",
                "FailureReason": "The media format provided does not match the detected media format."}},
            {"TranscriptionJobName": "call_04"},
        )
        status, reason = AwsTranscriber(client, None, BUCKET).check("call_04")
    assert status == "FAILED" and "media format" in reason
