"""The job's contract with the state machine: the models every task validates, the state
machine's own paths into them, and failures encoded by one task and decoded by another."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

import fakes
from chalicelib.errors import MediaError, PipelineError, failure_from_catch
from chalicelib.job import ClipRef, JobState, Media, RenderItem, SourceRef, Transcription
from chalicelib.models import SubmitJob
from chalicelib.statemachine import DEFINITION_PATH

MEDIA = Media(container="mp4", durationSeconds=60.0, width=640, height=360, fps=25.0, hasAudio=True,
              hasVideo=True, videoCodec="h264", audioCodec="aac", sizeBytes=1000)


def submitted() -> JobState:
    request = SubmitJob.model_validate({"videoId": "vid_1", "maxClips": 2, "aspectRatio": "1:1", "captions": False})
    return JobState(callId="call_1", videoId="vid_1", accountId="acc_1",
                    source=SourceRef(key="accounts/acc_1/videos/vid_1/source", versionId="v1"),
                    options=request.options())


def selected() -> JobState:
    return submitted().model_copy(update={
        "media": MEDIA,
        "transcription": Transcription(status="COMPLETED", key="work/t.json", words=10),
        "clips": [ClipRef(index=0, id="clip_1", start=1.0, end=31.0)],
    })


def test_the_submitted_options_reach_the_tasks_unchanged():
    wire = submitted().wire()
    assert wire["options"] == {"maxClips": 2, "minDuration": 30.0, "maxDuration": 60.0, "aspectRatio": "1:1",
                               "captions": False, "reframe": "auto", "language": "auto", "allowUpscale": False,
                               "thumbnailTitle": False}
    assert None not in wire.values() and "media" not in wire, "unset fields are left out"
    assert JobState.model_validate(json.loads(json.dumps(wire))) == submitted()


def test_a_state_the_tasks_do_not_know_is_rejected_loudly():
    with pytest.raises(ValidationError, match="failed_stage"):
        JobState.model_validate({**submitted().wire(), "failed_stage": "rendering"})
    with pytest.raises(ValidationError, match="maxClips"):
        JobState.model_validate({**submitted().wire(), "options": {"maxClips": "3"}})


def _path(document: dict, path: str):
    assert path.startswith("$."), path
    for part in path[2:].split("."):
        document = document[part]
    return document


def test_the_state_machine_reads_what_the_tasks_write():
    asl = json.loads(DEFINITION_PATH.read_text())
    state = selected().wire()
    # The Map builds each render item from the state with its ItemSelector: it must validate.
    selector = asl["States"]["RenderClips"]["ItemSelector"]
    for clip in _path(state, asl["States"]["RenderClips"]["ItemsPath"]):
        item = {key[:-2]: (clip if path == "$$.Map.Item.Value" else _path(state, path))
                for key, path in selector.items()}
        assert RenderItem.model_validate(item).clip.id == "clip_1"
    # The Choice after transcription branches on fields the transcription model has.
    for choice in asl["States"]["TranscriptionDone?"]["Choices"]:
        assert _path(state, choice["Variable"]) == "COMPLETED" or choice["StringEquals"] == "IN_PROGRESS"
    polling = submitted().model_copy(update={"media": MEDIA, "transcription": Transcription(
        status="IN_PROGRESS", key="k", jobName="call_1", outputKey="o.json", pollSeconds=15)}).wire()
    assert _path(polling, asl["States"]["WaitForTranscription"]["SecondsPath"]) == 15


def _caught(exc: Exception) -> dict:
    """What Step Functions hands a Catch for a Lambda that raised ``exc``."""
    cause = {"errorMessage": str(exc), "errorType": type(exc).__name__}
    return {"Error": type(exc).__name__, "Cause": json.dumps(cause)}


def test_failures_decode_to_what_the_task_raised_and_internals_stay_hidden():
    assert failure_from_catch(_caught(MediaError("not_a_video", "The file is not a video."))) == {
        "code": "not_a_video", "message": "The file is not a video."}
    assert failure_from_catch(_caught(PipelineError("no_clips", "no clip of 30-60 s"))) == {
        "code": "no_clips", "message": "no clip of 30-60 s"}
    hidden = failure_from_catch(_caught(KeyError("/tmp/secret/path")))
    assert hidden["code"] == "internal_error" and "secret" not in hidden["message"]
    assert failure_from_catch({"Error": "States.Timeout", "Cause": ""})["code"] == "timed_out"


def test_a_failed_job_reports_the_stage_its_call_record_reached(monkeypatch):
    from chalicelib.services import pipeline

    records = fakes.FakeRecords()
    records.stages = ["preparing", "transcribing", "selecting"]
    fakes.install(monkeypatch, records=records)
    state = {**selected().wire(), "error": _caught(PipelineError("no_clips", "nothing to clip"))}
    outcome = pipeline.failed(state)
    assert outcome == {"callId": "call_1", "status": "failed", "stage": "selecting",
                       "error": {"code": "no_clips", "message": "nothing to clip"}}
    assert records.videos["vid_1"]["status"] == "failed"
