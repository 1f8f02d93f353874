"""The ffmpeg adapter against the real shipped binary, on small generated files."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import pytest

from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain.media import probe_args
from chalicelib.errors import MediaError
from tests.media_fixtures import (
    ffmpeg_exe,
    make_audio_only,
    make_ffconcat,
    make_hls_playlist,
    make_truncated_mp4,
    make_video,
    top_level_atoms,
)
from tests.support import FIXTURES

pytestmark = pytest.mark.media

CONTAINERS = ["mp4", "mov", "mkv", "webm"]


@pytest.fixture(scope="module")
def ffmpeg() -> Ffmpeg:
    return Ffmpeg(binary="", timeout_seconds=60)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("media")
    for container in CONTAINERS:
        make_video(root / f"small.{container}", seconds=2, width=320, height=180, container=container)
    make_video(root / "talk.mp4", seconds=6, width=640, height=360)
    make_video(root / "portrait.mov", seconds=4, width=360, height=640, audio=None, container="mov")
    return root


@pytest.mark.parametrize("container", CONTAINERS)
def test_probe_reads_each_container(ffmpeg, media, container):
    info = ffmpeg.probe(str(media / f"small.{container}"))
    assert info.container == container
    assert (info.width, info.height, info.fps) == (320, 180, 25.0)
    assert info.has_video and info.has_audio
    assert info.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert info.size_bytes == (media / f"small.{container}").stat().st_size


def test_probe_sees_missing_audio_and_a_soundtrack_from_a_file(ffmpeg, media, tmp_path):
    assert ffmpeg.probe(str(media / "portrait.mov")).has_audio is False
    song = make_audio_only(tmp_path / "song.m4a", 1.5)
    info = ffmpeg.probe(str(make_video(tmp_path / "v.mp4", seconds=4, audio=song)))
    assert info.has_audio and info.duration_seconds == pytest.approx(1.5, abs=0.1)


def _reason(ffmpeg: Ffmpeg, path: Path) -> str:
    with pytest.raises(MediaError) as raised:
        ffmpeg.probe(str(path))
    assert len(raised.value.message) < 200
    return raised.value.code


def test_probe_rejects_broken_and_non_video_files(ffmpeg, media, tmp_path):
    (tmp_path / "notes.mp4").write_text("these are my meeting notes\n")
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert _reason(ffmpeg, tmp_path / "notes.mp4") == "not_a_video"
    assert _reason(ffmpeg, tmp_path / "empty.mp4") == "empty_file"
    assert _reason(ffmpeg, make_truncated_mp4(media / "talk.mp4", tmp_path / "cut.mp4")) == "corrupt"
    assert _reason(ffmpeg, make_audio_only(tmp_path / "voice.m4a", 1)) == "no_video_stream"
    assert _reason(ffmpeg, make_audio_only(tmp_path / "voice.mp3", 1)) == "unsupported_container"


def _unhardened_demuxer(path: Path) -> str:
    # No output named: ffmpeg exits 1 after describing the input, which is what is read here.
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True,
                            check=False)
    return next((line for line in result.stderr.splitlines() if line.startswith("Input #0")), result.stderr)


def test_probe_refuses_playlists_and_concat_lists_that_plain_ffmpeg_would_follow(ffmpeg, media, tmp_path):
    playlist = make_hls_playlist(tmp_path / "list.m3u8", media / "small.mp4")
    concat = make_ffconcat(media / "list.mp4", media / "small.mp4")
    # Controls: these are real playlists that unrestricted ffmpeg opens and follows.
    assert "Input #0, hls" in _unhardened_demuxer(playlist)
    assert "Input #0, concat" in _unhardened_demuxer(concat)

    for path in (playlist, concat):
        hardened = subprocess.run([ffmpeg_exe(), *probe_args(str(path))], capture_output=True, text=True, check=False)
        assert "Format not on whitelist" in hardened.stderr and "Input #0" not in hardened.stderr
        assert _reason(ffmpeg, path) == "unsupported_container"
    # ffmpeg 9 does not even detect HLS behind an .mp4 name; it is refused as unreadable data.
    assert _reason(ffmpeg, make_hls_playlist(tmp_path / "hls.mp4", media / "small.mp4")) in {
        "unsupported_container", "not_a_video",
    }


def test_probe_applies_configured_limits(ffmpeg, media, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("KLYPH_MAX_VIDEO_SECONDS", "5")
    config.settings.cache_clear()
    try:
        with pytest.raises(MediaError) as raised:
            ffmpeg.probe(str(media / "talk.mp4"))
        assert raised.value.code == "too_long"
    finally:
        monkeypatch.undo()
        config.settings.cache_clear()


def test_extract_audio_gives_16k_mono_wav_of_full_length(ffmpeg, media, tmp_path):
    wav = tmp_path / "speech.wav"
    ffmpeg.extract_audio(str(media / "talk.mp4"), str(wav))
    with wave.open(str(wav)) as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getsampwidth()) == (1, 16000, 2)
        assert audio.getnframes() / audio.getframerate() == pytest.approx(6.0, abs=0.05)


def test_extract_audio_without_audio_track(ffmpeg, media, tmp_path):
    with pytest.raises(MediaError) as raised:
        ffmpeg.extract_audio(str(media / "portrait.mov"), str(tmp_path / "none.wav"))
    assert raised.value.code == "no_audio_stream"


@pytest.mark.parametrize(
    "source, aspect, size, has_audio",
    [
        ("talk.mp4", "9:16", (202, 360), True),
        ("talk.mp4", "1:1", (360, 360), True),
        ("talk.mp4", "16:9", (640, 360), True),
        ("portrait.mov", "9:16", (360, 640), False),
        ("portrait.mov", "16:9", (360, 202), False),
        ("small.webm", "1:1", (180, 180), True),
    ],
)
def test_render_clip(ffmpeg, media, tmp_path, source, aspect, size, has_audio):
    src = str(media / source)
    dst = tmp_path / "clip.mp4"
    clip = ffmpeg.render_clip(src, str(dst), start=0.7, end=1.9, aspect=aspect, info=ffmpeg.probe(src))
    assert (clip.width, clip.height) == size
    assert clip.duration_seconds == pytest.approx(1.2, abs=0.1)
    assert (clip.container, clip.video_codec) == ("mp4", "h264")
    assert clip.has_audio is has_audio and clip.audio_codec == ("aac" if has_audio else None)
    atoms = top_level_atoms(dst)
    assert atoms.index("moov") < atoms.index("mdat")  # faststart: playable while downloading


def test_render_clip_failures_are_short_media_errors(ffmpeg, media, tmp_path):
    src = str(media / "talk.mp4")
    info = ffmpeg.probe(src)
    with pytest.raises(MediaError) as raised:
        ffmpeg.render_clip(src, str(tmp_path / "c.mp4"), start=10, end=12, aspect="9:16", info=info)
    assert raised.value.code == "invalid_range"

    with pytest.raises(MediaError) as raised:
        ffmpeg.render_clip(src, str(tmp_path / "c.mp4"), start=0, end=2, aspect="9:16", info=info, preset="warp")
    assert raised.value.code == "ffmpeg_failed"
    assert raised.value.message == "ffmpeg failed: Error setting preset/tune warp/(null)."

    with pytest.raises(MediaError) as raised:
        Ffmpeg(timeout_seconds=0.001).render_clip(
            src, str(tmp_path / "c.mp4"), start=0, end=5, aspect="9:16", info=info
        )
    assert raised.value.code == "timeout"


def test_render_clip_reports_hitting_the_output_size_bound(ffmpeg, media, tmp_path, monkeypatch):
    from chalicelib.domain import media as media_rules

    monkeypatch.setattr(media_rules, "max_render_bytes", lambda seconds: 20_000)
    src = str(media / "talk.mp4")
    with pytest.raises(MediaError) as raised:
        ffmpeg.render_clip(src, str(tmp_path / "c.mp4"), start=0, end=5, aspect="16:9", info=ffmpeg.probe(src))
    assert raised.value.code == "output_too_large"


def test_extract_audio_measures_the_loudness_profile_in_the_same_pass(ffmpeg, media, tmp_path):
    from chalicelib.adapters.audio import SILENCE_DBFS
    from support import loudness_profile

    wav = tmp_path / "speech.wav"
    levels = ffmpeg.extract_audio(str(media / "talk.mp4"), str(wav))
    # The same figures as computed from the WAV itself, one per second, JSON-safe floats.
    expected = loudness_profile(wav)
    assert len(levels) == len(expected) == 6
    assert all(isinstance(x, float) for x in levels)
    assert levels == pytest.approx(expected, abs=0.05)
    assert all(-30 < x < 0 for x in levels)  # a steady tone
    assert not list(tmp_path.glob("*.levels.txt")), "the side file is cleaned up"

    silent = make_video(tmp_path / "silent.mp4", seconds=2.5, width=160, height=90, audio="silence")
    assert ffmpeg.extract_audio(str(silent), str(tmp_path / "s.wav")) == [SILENCE_DBFS] * 3


def test_the_audio_copy_of_one_pass_gives_the_loudness_table_of_the_source(ffmpeg, tmp_path):
    src = make_video(tmp_path / "speech.mp4", seconds=20, width=1280, height=720, audio=FIXTURES / "speech_short.ogg")
    copy = tmp_path / "source-audio.mka"
    levels = ffmpeg.extract_audio(str(src), str(tmp_path / "speech.wav"), str(copy))
    assert copy.stat().st_size < src.stat().st_size / 10, "the audio stream alone, not the video"
    from_copy, from_source = ffmpeg.gain_table(str(copy), levels), ffmpeg.gain_table(str(src), levels)
    assert from_copy is not None and from_copy == from_source, "the same samples, so the same blocks"


def test_measure_loudness(ffmpeg, media, tmp_path):
    tone = ffmpeg.measure_loudness(str(media / "talk.mp4"))
    assert -25 < tone < -10
    assert ffmpeg.measure_loudness(str(media / "portrait.mov")) is None
    silent = make_video(tmp_path / "silent.mp4", seconds=2, width=160, height=90, audio="silence")
    assert ffmpeg.measure_loudness(str(silent)) == -70.0


def test_render_clip_reads_captions_and_crop_commands_from_awkward_paths(ffmpeg, media, tmp_path):
    """Paths pass through two levels of filter-graph escaping; a folder named like this would
    otherwise split the graph or the option list."""
    from chalicelib.domain.captions import to_ass
    from chalicelib.domain.transcript import Word

    folder = tmp_path / "we,ird'[dir];x:y"
    folder.mkdir()
    captions = folder / "captions.ass"
    captions.write_text(to_ass([Word("Hello", 0.1, 0.5, 1.0), Word("there.", 0.5, 0.9, 1.0)], 202, 360))
    commands = folder / "crop.cmd"
    commands.write_text("0.000 crop@reframe x 0;\n0.600 crop@reframe x 438;\n")
    src = str(media / "talk.mp4")
    clip = ffmpeg.render_clip(
        src, str(tmp_path / "c.mp4"), start=0, end=1.2, aspect="9:16", info=ffmpeg.probe(src),
        captions=str(captions), crop_commands=str(commands),
    )
    assert (clip.width, clip.height) == (202, 360)


def test_a_missing_captions_file_is_a_short_media_error(ffmpeg, media, tmp_path):
    src = str(media / "talk.mp4")
    with pytest.raises(MediaError) as raised:
        ffmpeg.render_clip(
            src, str(tmp_path / "c.mp4"), start=0, end=1, aspect="9:16", info=ffmpeg.probe(src),
            captions=str(tmp_path / "missing.ass"),
        )
    assert raised.value.code == "ffmpeg_failed" and len(raised.value.message) < 350
