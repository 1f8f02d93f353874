"""The real state machine under moto's interpreter, with the real task functions, ffmpeg and Whisper."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from chalicelib import clients
from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain.transcript import Transcript
from chalicelib.errors import MediaError, PipelineError, TransientError
from chalicelib.services import wiring
from support import FIXTURES

pytestmark = [pytest.mark.media, pytest.mark.slow]


def upload(api, project, path, name="talk.mp4"):
    status, video = api.upload(api.account_id, project["id"], name, path.read_bytes())
    assert status == 200, video
    return video


def run_job(api, video_id, **options):
    status, body = api.post("/dev/process-video-submit", {"videoId": video_id, **options})
    assert status == 200, body
    return api.wait_for_result(body["callId"])


def clip_files(video_id, call_id, tmp_path):
    """Download each ready clip as a user would get it and probe it."""
    out = []
    for clip in wiring.records().list_clips(video_id, call_id):
        if clip["status"] != "ready":
            continue
        path = tmp_path / f"{clip['index']}.mp4"
        clients.s3().download_file(wiring.blobs().bucket, clip["key"], str(path))
        out.append((clip, Ffmpeg().probe(str(path))))
    return out


def transcript_of(call_id, video):
    from chalicelib.adapters.s3 import work_key

    key = work_key(video["accountId"], video["id"], call_id, "transcript.json")
    return Transcript.from_dict(json.loads(wiring.blobs().get_bytes(key)))


def loudness_table(video):
    """The loudness table StartTranscription kept with the video (None when there is none)."""
    from chalicelib.adapters.s3 import prepared_key

    key = prepared_key(video["accountId"], video["id"], "loudness.json")
    return json.loads(wiring.blobs().get_bytes(key)) if wiring.blobs().head(key) else None


def test_speech_video_becomes_clips_within_bounds_on_word_gaps(api, project, speech_video, tmp_path, monkeypatch):
    video = upload(api, project, speech_video)
    measured = []  # a render measuring its own range: only when there is no loudness table
    real_measure = Ffmpeg.measure_loudness
    monkeypatch.setattr(Ffmpeg, "measure_loudness",
                        lambda self, *a, **k: measured.append(a) or real_measure(self, *a, **k))
    status, result = run_job(api, video["id"], maxClips=3, minDuration=5, maxDuration=15, aspectRatio="9:16")

    assert status == 200 and result["status"] == "succeeded", result
    assert result["language"] == "en", "language auto: detected"
    clips = result["clips"]
    assert 1 <= len(clips) <= 3
    assert {c["language"] for c in clips} == {"en"}
    starts = [c["start_seconds"] for c in clips]
    assert starts == sorted(starts), "clips come back in timeline order"
    for a, b in zip(clips, clips[1:]):
        assert a["end_seconds"] <= b["start_seconds"], "clips never overlap"
    assert all(c["status"] == "ready" and c["preview_url"] and c["title"] for c in clips)
    assert all(c["thumbnail_url"] and c["captions_srt_url"] and c["captions_vtt_url"] and c["description"]
               for c in clips)
    assert all(0 <= c["score"] <= 100 and c["reason"] for c in clips)
    # The loudness table was measured beside Whisper, once, and every clip's gain came from it.
    table = loudness_table(video)
    assert table and table["sourceVersionId"] and len(table["gains"]) >= 2 and table["blocks"][0]
    assert measured == [], "no clip measured its own loudness"
    # A test pattern has nobody in it: the crop stayed centred, and the clips say so.
    assert all(c["layout"] == "center" for c in clips)

    words = transcript_of(result["callId"], video).words
    assert len(words) > 50, "Whisper transcribed the speech"
    for clip, probed in clip_files(video["id"], result["callId"], tmp_path):
        assert 5 - 0.2 <= probed.duration_seconds <= 15 + 0.2
        assert (probed.width, probed.height) == (202, 360)  # 9:16 cropped from 640x360, never upscaled
        assert probed.has_audio and probed.video_codec == "h264" and probed.audio_codec == "aac"
        for edge in (clip["start"], clip["end"]):
            # (Cuts are placed on the audio's pauses: a word Whisper was unsure of may be mistimed.)
            inside = [w for w in words if w.start + 0.02 < edge < w.end - 0.02 and w.confidence >= 0.4]
            assert not inside, f"clip edge {edge} cuts the word {inside[0].text!r}"

    for clip in wiring.records().list_clips(video["id"], result["callId"]):
        srt = wiring.blobs().get_bytes(clip["captionsSrtKey"]).decode()
        spoken = [w.text.strip(".,?!").lower() for w in words if clip["start"] <= w.start < clip["end"]]
        assert spoken and all(word in srt.lower() for word in spoken[:5]), "the sidecar captions say what is said"
        assert clip["captionsBurned"] is True
        assert wiring.blobs().get_bytes(clip["thumbnailKey"])[:3] == b"\xff\xd8\xff", "a JPEG thumbnail"

    status, summary = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary["video"]["status"] == "ready" and summary["video"]["language"] == "en"
    assert summary["counts"] == {"total": len(clips), "ready": len(clips), "draft": 0, "failed": 0}
    status, listed = api.get(f"/dev/list-clips?videoId={video['id']}")
    assert [c["id"] for c in listed["clips"]] == [c["id"] for c in clips]
    assert [c["language"] for c in listed["clips"]] == ["en"] * len(clips)


@pytest.mark.parametrize("aspect,size", [("1:1", (360, 360)), ("16:9", (640, 360))])
def test_other_aspect_ratios_render_at_the_largest_size_the_source_fills(api, project, speech_video, tmp_path, aspect,
                                                                          size):
    video = upload(api, project, speech_video)
    # Options off: a plain centre crop without burned captions (sidecars are still made).
    _status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12, aspectRatio=aspect,
                             captions=False, reframe="center")
    assert result["status"] == "succeeded", result
    [(clip, probed)] = clip_files(video["id"], result["callId"], tmp_path)
    assert (probed.width, probed.height) == size
    assert clip["captionsBurned"] is False and clip["captionsSrtKey"] and clip["layout"] == "center"


def test_split_layout_stacks_two_speakers_through_the_pipeline(api, project, tmp_path):
    """Two people in a 1280x720 two-shot, the fixture's real speech: reframe "split" renders one
    9:16 clip of two stacked panels, one face in each, and the clip says it is split."""
    from chalicelib.adapters.faces import detect_faces
    from tests.media_fixtures import ffmpeg_exe
    from tools.synthetic_video import TwoShot, write_two_shot

    transcript = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    shot = TwoShot(size=(1280, 720), side=96, x={"L": 200, "R": 980}, y=300, turns=["L", "R", "L"])
    source = write_two_shot(tmp_path / "two.mp4", shot, transcript, FIXTURES / "speech_long.ogg", 13.0,
                            ffmpeg=ffmpeg_exe())
    video = upload(api, project, source)
    _status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12, reframe="split")
    assert result["status"] == "succeeded", result
    [view] = result["clips"]
    assert view["layout"] == "split"
    [(clip, probed)] = clip_files(video["id"], result["callId"], tmp_path)
    assert (probed.width, probed.height) == (404, 720)
    seen = detect_faces(str(tmp_path / f"{clip['index']}.mp4"), 0.0, probed.duration_seconds, size=(404, 720))
    stacked = [s for s in seen if sorted(b[1] + b[3] / 2 < 360 for b in s.faces) == [False, True]]
    assert len(stacked) >= 0.8 * len(seen), seen


def test_one_failing_clip_is_marked_failed_and_the_others_finish(api, project, speech_video, monkeypatch):
    real_render = Ffmpeg.render_clip
    calls = {"n": 0}
    lock = threading.Lock()

    def render_one_broken(self, *args, **kwargs):
        with lock:
            calls["n"] += 1
            broken = calls["n"] == 2
        if broken:
            raise MediaError("ffmpeg_failed", "ffmpeg failed: Invalid data found when processing input")
        return real_render(self, *args, **kwargs)

    monkeypatch.setattr(Ffmpeg, "render_clip", render_one_broken)
    video = upload(api, project, speech_video)
    _status, result = run_job(api, video["id"], maxClips=3, minDuration=5, maxDuration=12)

    assert result["status"] == "succeeded", result
    by_status = [c["status"] for c in result["clips"]]
    assert by_status.count("failed") == 1 and by_status.count("ready") == len(by_status) - 1
    failed = next(c for c in result["clips"] if c["status"] == "failed")
    assert failed["preview_url"] is None and failed["error"]["code"] == "ffmpeg_failed"
    _status, summary = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary["counts"]["failed"] == 1 and summary["counts"]["ready"] == len(by_status) - 1


def test_a_transient_render_error_is_retried_and_the_job_succeeds(api, project, short_speech_video, monkeypatch):
    real_render = Ffmpeg.render_clip
    failures = {"left": 1}

    def flaky(self, *args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise TransientError("S3 connection reset")
        return real_render(self, *args, **kwargs)

    monkeypatch.setattr(Ffmpeg, "render_clip", flaky)
    video = upload(api, project, short_speech_video)
    _status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12)
    assert result["status"] == "succeeded"
    assert [c["status"] for c in result["clips"]] == ["ready"]
    assert failures["left"] == 0


def test_failed_transcription_fails_the_job_keeps_the_source_and_allows_resubmit(api, project, short_speech_video,
                                                                                  monkeypatch):
    from chalicelib.adapters import whisper

    def broken(self, wav_path, language="auto"):
        raise PipelineError("transcription_failed", "transcription failed: the audio could not be decoded")

    monkeypatch.setattr(whisper.WhisperTranscriber, "transcribe", broken)
    video = upload(api, project, short_speech_video)
    status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12)

    assert status == 200 and result["status"] == "failed"
    assert result["error"] == {
        "code": "transcription_failed", "message": "transcription failed: the audio could not be decoded"
    }
    status, summary = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary["video"]["status"] == "failed"
    assert wiring.blobs().head(f"accounts/{api.account_id}/videos/{video['id']}/source"), "the upload is kept"

    monkeypatch.undo()
    status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12)
    assert result["status"] == "succeeded", "the same video can be resubmitted"


def test_an_unexpected_crash_reports_a_generic_message_not_internals(api, project, speech_video, monkeypatch):
    from chalicelib.services import pipeline

    def crash(state):
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(pipeline, "select", crash)
    video = upload(api, project, speech_video)
    _status, result = run_job(api, video["id"])
    assert result["status"] == "failed" and result["error"]["code"] == "internal_error"
    assert "secret-internal-detail" not in json.dumps(result)


def test_a_spanish_video_is_detected_transcribed_by_the_multilingual_model_and_clipped(api, project, tmp_path):
    from media_fixtures import make_video

    path = make_video(tmp_path / "es.mp4", seconds=44, width=320, height=180, audio=FIXTURES / "speech_es.ogg")
    video = upload(api, project, path)
    _status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=15, captions=False,
                              reframe="center")
    assert result["status"] == "succeeded", result
    assert result["language"] == "es" and result["clips"][0]["language"] == "es"
    words = " ".join(w.text for w in transcript_of(result["callId"], video).words).lower()
    assert "maratón" in words and "precio" in words, words
    _status, summary = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary["video"]["language"] == "es"


def test_video_without_audio_still_gets_clips(api, project, tmp_path):
    from media_fixtures import make_video

    path = make_video(tmp_path / "silent.mp4", seconds=24, width=320, height=180, audio=None)
    video = upload(api, project, path)
    assert video["hasAudio"] is False
    _status, result = run_job(api, video["id"], maxClips=2, minDuration=5, maxDuration=8, aspectRatio="1:1")
    assert result["status"] == "succeeded", result
    assert result["language"] is None and {c["language"] for c in result["clips"]} == {None}, "nothing was spoken"
    assert result["clips"] and all(c["status"] == "ready" for c in result["clips"])


def test_submitting_a_running_video_joins_the_running_job(api, project, short_speech_video):
    video = upload(api, project, short_speech_video)
    first = api.post("/dev/process-video-submit",
                     {"videoId": video["id"], "maxClips": 1, "minDuration": 5, "maxDuration": 10})[1]
    second = api.post("/dev/process-video-submit", {"videoId": video["id"]})[1]
    assert second["callId"] == first["callId"] and second.get("alreadyRunning") is True
    _status, result = api.wait_for_result(first["callId"])
    assert result["status"] == "succeeded"


def test_poll_reports_stage_and_progress_while_running(api, project, speech_video):
    video = upload(api, project, speech_video)
    call_id = api.post("/dev/process-video-submit",
                       {"videoId": video["id"], "maxClips": 3, "minDuration": 5, "maxDuration": 12})[1]["callId"]
    seen = set()
    deadline = time.time() + 240
    while time.time() < deadline:
        status, body = api.get(f"/dev/process-video-result?callId={call_id}")
        if status == 200:
            break
        time.sleep(0.1)  # a client polls; a hot loop would starve the execution's threads
        assert status == 202 and body["status"] == "running"
        seen.add(body["stage"])
        if body["stage"] == "rendering":
            assert 0 <= body["progress"]["clipsDone"] <= body["progress"]["clipsTotal"]
    assert body["status"] == "succeeded"
    assert seen & {"queued", "preparing", "transcribing", "selecting", "rendering", "finalizing"}


def test_amazon_transcribe_path_polls_until_done_and_parses_its_output(api, project, speech_video, monkeypatch):
    """KLYPH_TRANSCRIBER=aws: StartTranscriptionJob, the Wait/Choice loop, then Transcribe's JSON parsed.

    moto's Transcribe advances QUEUED -> IN_PROGRESS -> COMPLETED on each status call but
    writes no output, so the test stands in for that one AWS side effect: it puts a
    document in Transcribe's real output format where the job was told to write it.
    """
    from chalicelib.adapters.transcribe import AwsTranscriber
    from chalicelib.config import settings

    monkeypatch.setenv("KLYPH_TRANSCRIBER", "aws")
    monkeypatch.setenv("KLYPH_TRANSCRIBE_POLL_SECONDS", "1")
    settings.cache_clear()
    real_start = AwsTranscriber.start
    started = []

    def start_and_let_aws_write(self, job_name, media_key, output_key, language):
        real_start(self, job_name, media_key, output_key, language)
        started.append(job_name)
        doc = (FIXTURES / "aws_transcribe_output.json").read_bytes()
        wiring.blobs().put_bytes(output_key, doc)

    monkeypatch.setattr(AwsTranscriber, "start", start_and_let_aws_write)
    from chalicelib.services import pipeline as pipeline_tasks

    real_check, waits = pipeline_tasks.transcribe_check, []

    def check_noting_the_wait(event):
        state = real_check(event)
        waits.append(state["transcription"].get("waitSeconds"))
        return state

    monkeypatch.setattr(pipeline_tasks, "transcribe_check", check_noting_the_wait)
    video = upload(api, project, speech_video)
    _status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12)
    settings.cache_clear()

    assert result["status"] == "succeeded", result
    assert started == [result["callId"]], "the Transcribe job is named after the call"
    # The last check carries how long Transcribe took (the TranscribeWaitSeconds metric); it polled at least once.
    assert len(waits) >= 2 and waits[:-1] == [None] * (len(waits) - 1) and 0.5 < waits[-1] < 60, waits
    job = clients.transcribe().get_transcription_job(TranscriptionJobName=result["callId"])["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    # language "auto": Transcribe identified the language among the options (moto: the first)
    assert job["IdentifyLanguage"] is True and job["LanguageCode"] == "en-US"
    assert result["language"] == "en" and result["clips"][0]["language"] == "en"
    # The loudness table was measured while Transcribe worked (after starting it).
    assert loudness_table(video)["gains"]
    words = transcript_of(result["callId"], video).words
    expected = json.loads((FIXTURES / "aws_transcribe_output.json").read_text())
    pronunciations = [i for i in expected["results"]["items"] if i["type"] == "pronunciation"]
    assert len(words) == len(pronunciations)
    clip = result["clips"][0]
    # Within the lead-in (0.3 s) before the word's onset as the audio has it (searched 0.5 s back).
    assert any(-0.05 < w.start - clip["start_seconds"] < 0.85 for w in words), "the clip starts at a Transcribe word"


def states_entered(call_id):
    """The names of the states the job's execution entered, in order (its execution history)."""
    arn = wiring.records().get_call(call_id)["executionArn"]
    events = clients.stepfunctions().get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]



def whisper_calls(monkeypatch) -> list[str]:
    """The language of each local Whisper transcription from now on (the real model still runs)."""
    from chalicelib.adapters import whisper

    calls: list[str] = []
    real_transcribe = whisper.WhisperTranscriber.transcribe

    def counting(self, wav_path, language="auto"):
        calls.append(language)
        return real_transcribe(self, wav_path, language)

    monkeypatch.setattr(whisper.WhisperTranscriber, "transcribe", counting)
    return calls


def test_a_second_job_on_the_same_source_reuses_its_transcript_unless_another_language_is_asked(
        api, project, speech_video, monkeypatch):
    from chalicelib.adapters.s3 import transcript_key

    video = upload(api, project, speech_video)
    started = time.monotonic()
    _status, first = run_job(api, video["id"], maxClips=2, minDuration=5, maxDuration=12, captions=False)
    first_seconds = time.monotonic() - started
    assert first["status"] == "succeeded" and first["language"] == "en", first
    assert "StartTranscription" in states_entered(first["callId"])
    stored = json.loads(wiring.blobs().get_bytes(transcript_key(api.account_id, video["id"], "en")))
    record = wiring.records().get_video(video["id"])
    assert stored["sourceVersionId"] == record["sourceVersionId"], "the kept transcript names its source version"
    assert Transcript.from_dict(stored).words == transcript_of(first["callId"], video).words

    transcribed = whisper_calls(monkeypatch)
    decoded = []
    real_extract = Ffmpeg.extract_audio
    monkeypatch.setattr(Ffmpeg, "extract_audio", lambda self, *a: decoded.append(a) or real_extract(self, *a))

    # Other instructions, count, durations and aspect; language auto, then the detected one by name.
    started = time.monotonic()
    _status, second = run_job(api, video["id"], maxClips=1, minDuration=8, maxDuration=15, aspectRatio="1:1",
                              captions=False, customInstructions="the part about the weather")
    second_seconds = time.monotonic() - started
    _status, third = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=10, language="en",
                             captions=False)
    for job in (second, third):
        assert job["status"] == "succeeded" and job["language"] == "en" and job["clips"], job
        entered = states_entered(job["callId"])
        assert "TranscriptReused?" in entered and "SelectClips" in entered
        assert not {"StartTranscription", "CheckTranscription"} & set(entered), entered
        assert transcript_of(job["callId"], video).words == transcript_of(first["callId"], video).words
    assert transcribed == [] and decoded == [], "no audio extraction, no Whisper"
    print(f"\nfirst job {first_seconds:.1f} s, second (transcript reused) {second_seconds:.1f} s")

    # Time to first clip: the shortest clips render first, and list-clips shows each clip as
    # soon as it is ready while the others are still drafts.
    started = time.monotonic()
    call_id = api.post("/dev/process-video-submit", {"videoId": video["id"], "maxClips": 3, "minDuration": 5,
                                                     "maxDuration": 15, "captions": False})[1]["callId"]
    seen_ready_with_drafts = first_ready_at = None
    while api.get(f"/dev/process-video-result?callId={call_id}")[0] == 202:
        listed = api.get(f"/dev/list-clips?videoId={video['id']}")[1]["clips"]
        ready = [c for c in listed if c["status"] == "ready"]
        if ready and first_ready_at is None:
            first_ready_at = time.monotonic() - started
        if ready and seen_ready_with_drafts is None and any(c["status"] == "draft" for c in listed):
            seen_ready_with_drafts = (ready, listed)
        time.sleep(0.1)
    done_at = time.monotonic() - started
    assert seen_ready_with_drafts, "a ready clip was listed while others were still rendering"
    ready, listed = seen_ready_with_drafts
    length = {c["id"]: c["end_seconds"] - c["start_seconds"] for c in listed}
    # Two renders at a time (MaxConcurrency): the two shortest start at once, the longest when one is done.
    longest = max(length, key=length.__getitem__)
    assert len(listed) == 3 and longest not in [c["id"] for c in ready], "the longest clip renders last"
    print(f"repeated submit with 3 clips: first clip ready at {first_ready_at:.1f} s, done at {done_at:.1f} s")

    # An explicit other language is a different transcript: transcribed again, and kept beside.
    _status, french = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=10, language="fr",
                              captions=False)
    assert french["status"] == "succeeded" and french["language"] == "fr", french
    assert "StartTranscription" in states_entered(french["callId"]) and transcribed == ["fr"]
    assert decoded == [], "the audio extracted by the first job serves the French transcription"
    assert wiring.blobs().head(transcript_key(api.account_id, video["id"], "fr")) is not None
    assert wiring.records().get_video(video["id"])["preparation"]["language"] == "en", "auto still means English"


def test_audio_without_speech_is_not_transcribed_twice(api, project, tmp_path, monkeypatch):
    from media_fixtures import make_video

    video = upload(api, project, make_video(tmp_path / "quiet.mp4", seconds=16, width=320, height=180,
                                            audio="silence"))
    transcribed = whisper_calls(monkeypatch)
    _status, first = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=8, captions=False)
    assert first["status"] == "succeeded" and first["language"] is None, first
    assert transcribed == ["auto"]
    _status, second = run_job(api, video["id"], maxClips=1, minDuration=6, maxDuration=9, captions=False)
    assert second["status"] == "succeeded" and second["language"] is None and second["clips"], second
    assert transcribed == ["auto"], "the second auto job knew there was nobody to hear"
    assert "StartTranscription" not in states_entered(second["callId"])


def test_an_upload_is_prepared_at_once_and_a_submit_waits_for_it_instead_of_repeating_it(
        api, project, speech_video, monkeypatch, tmp_path):
    from chalicelib.adapters import whisper
    from chalicelib.config import settings
    from media_fixtures import make_video

    monkeypatch.setenv("KLYPH_PREPARE_ON_UPLOAD", "1")
    settings.cache_clear()
    # Read now, not first inside a request: chalice's test client then sets its config's ("aws").
    assert settings().prepare_on_upload and settings().transcriber == "whisper"
    transcribed = whisper_calls(monkeypatch)
    counting = whisper.WhisperTranscriber.transcribe  # put back after the broken model below
    sfn = clients.stepfunctions()

    def preparation_of(video_id):
        executions = sfn.list_executions(stateMachineArn=settings().state_machine_arn)["executions"]
        return next(e for e in executions if e["name"] == f"prp_{video_id}")

    video = upload(api, project, speech_video)
    assert video["status"] == "uploaded" and video["preparation"] == "pending"
    assert preparation_of(video["id"])["status"] == "RUNNING", "its own execution, named for operators"
    # Submitted at once: the job waits for the preparation instead of transcribing a second time.
    _status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=12, captions=False)
    assert result["status"] == "succeeded" and result["language"] == "en" and result["clips"], result
    entered = states_entered(result["callId"])
    assert "WaitForPreparation" in entered and "StartTranscription" not in entered, entered
    # It asks again every second, not two: local Whisper ends the preparation at any moment, and
    # the job's user waits for half the interval on average after it.
    arn = wiring.records().get_call(result["callId"])["executionArn"]
    job_history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    waits = [e for e in job_history
             if e.get("stateEnteredEventDetails", {}).get("name") == "WaitForPreparation"]
    assert {json.loads(e["stateEnteredEventDetails"]["input"])["preparationPollSeconds"] for e in waits} == {1}
    assert transcribed == ["auto"], "one transcription, the preparation's"
    prepared = preparation_of(video["id"])
    assert prepared["status"] == "SUCCEEDED"
    history = sfn.get_execution_history(executionArn=prepared["executionArn"], maxResults=1000)["events"]
    assert {"PrepareSource", "StartTranscription", "Prepared"} <= {
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}
    status, listed = api.get(f"/dev/list-videos?projectId={project['id']}")
    assert [v["preparation"] for v in listed["videos"] if v["id"] == video["id"]] == ["ready"]

    # A failed preparation fails nothing else: the video stays uploaded, and the job transcribes.
    def broken(self, wav_path, language="auto"):
        raise RuntimeError("no model today")

    monkeypatch.setattr(whisper.WhisperTranscriber, "transcribe", broken)
    path = make_video(tmp_path / "short.mp4", seconds=20, width=320, height=180, audio=FIXTURES / "speech_short.ogg")
    status, ticket = api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project["id"],
                                                     "filename": "short.mp4", "sizeBytes": path.stat().st_size})
    assert status == 200, ticket
    # The presigned PUT, as a user's client sends it: the upload trigger's path.
    assert requests.put(ticket["uploadUrl"], data=path.read_bytes(), timeout=30).status_code == 200
    deadline = time.time() + 60
    while time.time() < deadline and api.get(f"/dev/list-videos?projectId={project['id']}")[1]["videos"][0].get(
            "preparation") != "failed":
        time.sleep(0.2)
    failed = next(v for v in api.get(f"/dev/list-videos?projectId={project['id']}")[1]["videos"]
                  if v["id"] == ticket["videoId"])
    assert failed["status"] == "uploaded" and failed["preparation"] == "failed", failed
    monkeypatch.setattr(whisper.WhisperTranscriber, "transcribe", counting)
    _status, redone = run_job(api, ticket["videoId"], maxClips=1, minDuration=5, maxDuration=10, captions=False)
    assert redone["status"] == "succeeded" and "StartTranscription" in states_entered(redone["callId"]), redone
    monkeypatch.undo()
    settings.cache_clear()


def test_a_video_deleted_while_it_is_prepared_leaves_nothing_behind(api, project, monkeypatch, tmp_path):
    import threading

    from chalicelib.adapters import whisper
    from chalicelib.adapters.s3 import video_prefix, work_prefix
    from chalicelib.config import settings
    from media_fixtures import make_video

    monkeypatch.setenv("KLYPH_PREPARE_ON_UPLOAD", "1")
    settings.cache_clear()
    assert settings().prepare_on_upload and settings().transcriber == "whisper"
    deleted, hearing = threading.Event(), threading.Event()
    real_transcribe = whisper.WhisperTranscriber.transcribe

    def slow(self, wav_path, language="auto"):  # the user deletes the video while Whisper listens
        hearing.set()
        assert deleted.wait(60)
        return real_transcribe(self, wav_path, language)

    monkeypatch.setattr(whisper.WhisperTranscriber, "transcribe", slow)
    path = make_video(tmp_path / "short.mp4", seconds=12, width=320, height=180, audio=FIXTURES / "speech_short.ogg")
    video = upload(api, project, path)
    assert video["preparation"] == "pending"
    assert hearing.wait(60), "the preparation reached the transcription"
    # The audio and loudness profile are written by now.
    assert wiring.blobs().versions(video_prefix(api.account_id, video["id"]) + "/prepared/")
    status, body = api.post("/dev/delete-video", {"videoId": video["id"]})
    assert status == 200 and body["deleted"], body
    deleted.set()
    sfn = clients.stepfunctions()
    deadline = time.time() + 60
    while time.time() < deadline:
        executions = sfn.list_executions(stateMachineArn=settings().state_machine_arn)["executions"]
        if next(e for e in executions if e["name"] == f"prp_{video['id']}")["status"] != "RUNNING":
            break
        time.sleep(0.2)
    for prefix in (video_prefix(api.account_id, video["id"]), work_prefix(api.account_id, video["id"])):
        assert wiring.blobs().versions(prefix + "/") == [], f"left behind under {prefix}"
    assert wiring.records().get_video(video["id"]) is None, "no half-written record brought back"
    monkeypatch.undo()
    settings.cache_clear()
