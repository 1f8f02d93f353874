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
    transcriber.start("call_01ABC", "videos/vid_1/audio.wav", "videos/vid_1/transcript-aws.json", "en")
    job = client.get_transcription_job(TranscriptionJobName="call_01ABC")["TranscriptionJob"]
    assert job["Media"]["MediaFileUri"] == f"s3://{BUCKET}/videos/vid_1/audio.wav"
    assert job["MediaFormat"] == "wav" and job["LanguageCode"] == "en-US"

    seen = [transcriber.check("call_01ABC") for _ in range(5)]
    assert set(seen) <= {("IN_PROGRESS", None, "en-US"), ("COMPLETED", None, "en-US")}
    assert seen[-1] == ("COMPLETED", None, "en-US")
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
    assert t.language == "en" and len(t.segments) == 4
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
        status, reason, _locale = AwsTranscriber(client, None, BUCKET).check("call_04")
    assert status == "FAILED" and "media format" in reason


ZH_FIXTURE = FIXTURE.with_name("aws_transcribe_output_zh.json")


def test_auto_lets_transcribe_identify_among_a_few_languages(aws):
    client, _, transcriber = aws
    transcriber.start("call_05", "a.wav", "out/a.json")  # language "auto"
    job = client.get_transcription_job(TranscriptionJobName="call_05")["TranscriptionJob"]
    assert job["IdentifyLanguage"] is True and "LanguageCode" not in job
    assert job["LanguageOptions"] == ["en-US", "es-US", "fr-FR", "de-DE", "pt-BR"]


def test_a_given_language_is_asked_for_in_its_locale_and_no_list_means_all_languages(aws):
    client, s3, transcriber = aws
    assert transcriber.language_request("es") == {"LanguageCode": "es-US"}
    assert transcriber.language_request("yue") == {"LanguageCode": "zh-HK"}
    assert AwsTranscriber(client, s3, BUCKET, ()).language_request("auto") == {"IdentifyLanguage": True}


def test_identified_chinese_is_read_back_and_parsed_without_spaces(aws):
    """moto's Transcribe identifies the first of the LanguageOptions and writes no output: the test
    writes Transcribe's output where the job was told to, as Transcribe would."""
    client, s3, _ = aws
    transcriber = AwsTranscriber(client, s3, BUCKET, ("zh", "ja"))
    transcriber.start("call_06", "a.wav", "out/zh.json")
    assert client.get_transcription_job(TranscriptionJobName="call_06")["TranscriptionJob"]["LanguageOptions"] == [
        "zh-CN", "ja-JP"]
    while (polled := transcriber.check("call_06"))[0] != "COMPLETED":
        pass
    assert polled == ("COMPLETED", None, "zh-CN")
    s3.put_object(Bucket=BUCKET, Key="out/zh.json", Body=ZH_FIXTURE.read_bytes())
    t = transcriber.fetch("out/zh.json", polled[2])
    assert t.language == "zh"
    assert [s.text for s in t.segments] == [
        "大家好，欢迎回到节目。", "今天我们聊一聊定价。", "很多创业者把价格定得太低了。"]
    assert t.words[0].text == "大家" and t.words[0].start == 0.48


def test_every_locale_klyph_asks_for_is_one_transcribe_accepts():
    import botocore.session

    from chalicelib.domain.languages import TRANSCRIBE_LOCALES

    accepted = set(botocore.session.get_session().get_service_model("transcribe").shape_for("LanguageCode").enum)
    assert set(TRANSCRIBE_LOCALES.values()) <= accepted, set(TRANSCRIBE_LOCALES.values()) - accepted


def test_a_misconfigured_identify_list_fails_loudly(aws):
    client, s3, _ = aws
    with pytest.raises(ValueError, match="2 to 5"):
        AwsTranscriber(client, s3, BUCKET, ("en",))
