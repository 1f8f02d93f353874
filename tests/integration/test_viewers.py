"""What viewers read and see, through the real state machine (moto), ffmpeg and Whisper: notes,
a valid job with nothing to clip, and (further down) cuts, resolution, thumbnails."""
from __future__ import annotations

import pytest
from test_pipeline import run_job, upload

pytestmark = [pytest.mark.media, pytest.mark.slow]


def test_a_valid_job_that_finds_nothing_to_clip_succeeds_with_no_clips_and_a_note(api, project, speech_video):
    video = upload(api, project, speech_video)
    status, result = run_job(api, video["id"], maxClips=3, minDuration=5, maxDuration=15,
                             customInstructions="only the part about cryptocurrency")
    assert status == 200 and result["status"] == "succeeded", result
    assert result["clips"] == []
    assert result["notes"] == ["Nothing in this video is clearly about cryptocurrency, so no clip was made."]
    status, summary = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary["video"]["status"] == "ready" and summary["counts"]["total"] == 0


def _levels_of_clip(path, tmp_path):
    """10 ms frame levels (dBFS) of a rendered clip's audio."""
    import subprocess

    from chalicelib.adapters.audio import WavLevels
    from chalicelib.adapters.ffmpeg import Ffmpeg

    wav = tmp_path / (path.stem + ".wav")
    subprocess.run([Ffmpeg().binary, "-nostdin", "-loglevel", "error", "-y", "-i", str(path), "-vn", "-ac", "1",
                    "-ar", "16000", "-c:a", "pcm_s16le", str(wav)], check=True)
    data = wav.read_bytes()
    return WavLevels(lambda a, b: data[a : b + 1])(0.0, 1e6)


def test_a_low_resolution_source_is_noted(api, project, short_speech_video):
    video = upload(api, project, short_speech_video)
    status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=15, captions=False)
    assert status == 200 and result["status"] == "succeeded", result
    assert any("202x360" in n and "allowUpscale" in n for n in result["notes"]), result["notes"]
    # Each clip says so too, in the snake_case of the other clip fields.
    assert result["clips"] and all(c["low_resolution"] is True for c in result["clips"]), result["clips"]
    status, listed = api.get(f"/dev/list-clips?videoId={video['id']}")
    assert status == 200 and all(c["low_resolution"] is True for c in listed["clips"]), listed


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory):
    """The five-topic speech (its Whisper transcript is a fixture) under a small still picture."""
    import subprocess

    from chalicelib.adapters.ffmpeg import Ffmpeg
    from support import FIXTURES

    folder = tmp_path_factory.mktemp("long")
    video, wav = folder / "long.mp4", folder / "long.wav"
    ff = Ffmpeg().binary
    subprocess.run([ff, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=gray:size=320x180:rate=10",
                    "-i", str(FIXTURES / "speech_long.ogg"), "-map", "0:v", "-map", "1:a", "-shortest",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(video)], check=True)
    subprocess.run([ff, "-nostdin", "-loglevel", "error", "-y", "-i", str(video), "-vn", "-ac", "1", "-ar", "16000",
                    "-c:a", "pcm_s16le", str(wav)], check=True)
    return video, wav


def test_rendered_clips_open_and_close_on_quiet_audio(long_speech, tmp_path):
    """Energy at each cut of the rendered clips, against the clip's speech level: below it by 15 dB
    (the first and last 20 ms), for clips cut on the audio; word timings alone are reported."""
    import json

    from chalicelib.adapters.audio import WavLevels
    from chalicelib.adapters.ffmpeg import Ffmpeg
    from chalicelib.domain.cuts import refine
    from chalicelib.domain.selection import rank_clips
    from chalicelib.domain.transcript import Transcript
    from support import FIXTURES

    video, wav = long_speech
    t = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    data = wav.read_bytes()
    source = WavLevels(lambda a, b: data[a : b + 1])
    ffmpeg = Ffmpeg()
    info = ffmpeg.probe(str(video))
    choices = rank_clips(t, duration=info.duration_seconds, max_clips=4, min_duration=15, max_duration=40).choices
    report = {"word timings": [], "on the audio": []}
    for c in choices:
        for how, (start, end) in (("word timings", (c.start, c.end)),
                                  ("on the audio", refine(t.words, c.start, c.end, source,
                                                          duration=info.duration_seconds, max_duration=40,
                                                          min_duration=15))):
            out = tmp_path / f"{c.start:.0f}-{how[0]}.mp4"
            # The audio as cut, not normalised: the clip's fade-in would hide where the cut lies
            # (and measuring each clip's loudness would only cost time here).
            ffmpeg.render_clip(str(video), str(out), start=start, end=end, aspect="16:9", info=info, preset="ultrafast",
                               normalize_loudness=False)
            frames = _levels_of_clip(out, tmp_path)
            speech = sorted(frames)[int(0.9 * len(frames))]
            head, tail = max(frames[:2]), max(frames[-3:-1])
            report[how].append((round(head - speech, 1), round(tail - speech, 1)))
    print(f"\nlevel at the opening / ending cut against the clip's speech level (dB): {report}")
    assert all(h <= -15 and e <= -15 for h, e in report["on the audio"]), report


def _jpeg(blob_key):
    import cv2
    import numpy as np

    from chalicelib.services import wiring

    return cv2.imdecode(np.frombuffer(wiring.blobs().get_bytes(blob_key), np.uint8), cv2.IMREAD_COLOR)


def _faces_in(image):
    import cv2

    from chalicelib.adapters.faces import MODEL_PATH, SCORE_THRESHOLD

    h, w = image.shape[:2]
    detector = cv2.FaceDetectorYN.create(MODEL_PATH, "", (w, h), SCORE_THRESHOLD)
    _, found = detector.detect(image)
    return [] if found is None else list(found)


def test_thumbnails_show_a_sharp_face_from_the_uncaptioned_picture(api, project, tmp_path):
    """A two-shot with real face photos and speech: every thumbnail (9:16 following the speaker,
    and 16:9) shows a face, and none carries caption pixels though the clips have captions."""
    import json

    import numpy as np

    from chalicelib.domain.transcript import Transcript
    from chalicelib.services import wiring
    from support import FIXTURES
    from tests.media_fixtures import ffmpeg_exe
    from tools.synthetic_video import TwoShot, write_two_shot

    transcript = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    shot = TwoShot(size=(1280, 720), side=120, x={"L": 220, "R": 940}, y=260, turns=["L", "R", "L"])
    source = write_two_shot(tmp_path / "two.mp4", shot, transcript, FIXTURES / "speech_long.ogg", 22.0,
                            ffmpeg=ffmpeg_exe())
    video = upload(api, project, source)
    found, thumbnails = [], {}
    for aspect, captions in (("9:16", True), ("16:9", True), ("9:16", False)):
        status, result = run_job(api, video["id"], maxClips=2, minDuration=5, maxDuration=10, aspectRatio=aspect,
                                 captions=captions)
        assert status == 200 and result["status"] == "succeeded", result
        for clip in wiring.records().list_clips(video["id"], result["callId"]):
            image = _jpeg(clip["thumbnailKey"])
            assert (image.shape[1], image.shape[0]) == (clip["width"], clip["height"])
            thumbnails[(aspect, captions, float(clip["start"]))] = image
            found.append((aspect, len(_faces_in(image))))
    print(f"\nfaces found in each thumbnail: {found}")
    assert found and all(n >= 1 for _, n in found), found
    # No caption pixels: each captioned clip's thumbnail is the picture of the same clip rendered
    # without captions (up to JPEG noise), where burned words would differ by far more.
    differences = []
    for (aspect, captions, start), image in thumbnails.items():
        if aspect == "9:16" and captions:
            plain = thumbnails[(aspect, False, start)]
            off = np.abs(image.astype(np.int16) - plain.astype(np.int16)).max(axis=2) > 40  # as text pixels
            differences.append(round(float(off.mean()), 5))
    print(f"share of pixels unlike the uncaptioned render's thumbnail: {differences}")
    assert len(differences) == 2 and all(d < 0.001 for d in differences), differences


def test_thumbnails_carry_no_captions_the_title_on_request_and_upscale_to_1080(api, project, tmp_path):
    import subprocess

    import numpy as np

    from chalicelib.services import wiring
    from support import FIXTURES
    from tests.media_fixtures import ffmpeg_exe

    source = tmp_path / "flat.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=0x336699:size=640x360:rate=25", "-i", str(FIXTURES / "speech_short.ogg"),
                    "-t", "20", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(source)], check=True)
    video = upload(api, project, source)
    status, result = run_job(api, video["id"], maxClips=1, minDuration=5, maxDuration=10, allowUpscale=True,
                             thumbnailTitle=True)
    assert status == 200 and result["status"] == "succeeded", result
    assert any("upscaled" in n for n in result["notes"]), result["notes"]
    assert [c["low_resolution"] for c in result["clips"]] == [False], result["clips"]
    [clip] = wiring.records().list_clips(video["id"], result["callId"])
    assert (clip["width"], clip["height"]) == (1080, 1920) and clip["captionsBurned"]
    image = _jpeg(clip["thumbnailKey"]).astype(np.int16)
    assert image.shape[:2] == (1920, 1080)
    background = np.median(image.reshape(-1, 3), axis=0)
    off = np.abs(image - background).max(axis=2) > 40  # text pixels, white or outline
    top, rest = off[: 1920 // 3], off[1920 // 3 :]
    print(f"\ntitle pixels in the top third: {int(top.sum())}; text pixels below it: {int(rest.sum())}")
    assert top.sum() > 500, "the title is drawn"
    assert rest.sum() == 0, "no caption pixels on the thumbnail"
