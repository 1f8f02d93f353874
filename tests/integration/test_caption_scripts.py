"""Burned captions in every script, rendered by the real render path (the ffmpeg adapter, the
shipped fonts and libass) and read back as pixels: ink in the caption area, no glyph libass
could not find, Arabic shaped (letters joined) and right to left, Chinese broken onto two lines.

The frames are written to a temporary folder (printed with -s) to be looked at."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from chalicelib.adapters import ffmpeg as ffmpeg_adapter
from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain import captions, media
from chalicelib.domain.transcript import Word
from media_fixtures import ffmpeg_exe
from script_samples import SAMPLES, sample_words

pytestmark = pytest.mark.media

W, H = 360, 640


def _rgb(png_or_mp4: Path, at: float = 0.0) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-ss", f"{at:.3f}", "-i", str(png_or_mp4), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(int)


def _ink(frame: np.ndarray, plain: np.ndarray) -> np.ndarray:
    return np.abs(frame - plain).max(axis=-1) > 24


def _yellow(frame: np.ndarray) -> np.ndarray:
    return (frame[..., 0] > 200) & (frame[..., 1] > 170) & (frame[..., 2] < 100)


def burn_one_frame(ass_text: str, tmp: Path, name: str) -> tuple[np.ndarray, str]:
    """The first frame of a flat grey picture with ``ass_text`` burned in by the render's own
    filter chain and fonts, and libass's log (verbose: it names every glyph it cannot find)."""
    ass = tmp / f"{name}.ass"
    ass.write_text(ass_text, encoding="utf-8")
    png = tmp / f"{name}.png"
    vf = media.video_filter(W, H, "9:16", captions=str(ass), fonts_dir=ffmpeg_adapter.FONTS_DIR)
    result = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "verbose", "-y", "-f", "lavfi", "-i",
         f"color=c=gray:s={W}x{H}:d=0.1", "-vf", vf, "-frames:v", "1", str(png)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "FONTCONFIG_FILE": ffmpeg_adapter.FONTCONFIG_FILE},
    )
    return _rgb(png), result.stderr


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("caption-frames")
    print(f"\ncaption frames in {out}")
    return out


@pytest.fixture(scope="module")
def source(frames_dir) -> tuple[Path, np.ndarray]:
    """A 1.2 s flat grey portrait clip, and its frame rendered without captions."""
    src = frames_dir / "grey.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=gray:s={W}x{H}:r=25:d=1.2", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", str(src)], check=True)
    plain, _ = burn_one_frame(captions.to_ass([], W, H), frames_dir, "plain")
    return src, plain


@pytest.mark.parametrize("script", SAMPLES)
def test_a_burned_caption_in_every_script_shows_in_the_caption_area_with_no_missing_glyph(script, source,
                                                                                          frames_dir):
    src, plain = source
    language, _ = SAMPLES[script]
    words = sample_words(script)
    ass_text = captions.to_ass(words, W, H, language=language)
    ass = frames_dir / f"{script}.ass"
    ass.write_text(ass_text, encoding="utf-8")
    ffmpeg = Ffmpeg(binary="", timeout_seconds=60)
    clip = frames_dir / f"{script}.mp4"
    ffmpeg.render_clip(str(src), str(clip), start=0, end=1.0, aspect="9:16", info=ffmpeg.probe(str(src)),
                       captions=str(ass), normalize_loudness=False)
    frame = _rgb(clip, at=0.3)
    ink = _ink(frame, plain)
    x0, y0, x1, y1 = captions.layout(W, H).safe_box
    ys, xs = np.nonzero(ink)
    assert ink.sum() > 400, f"{script}: no caption drawn"
    assert x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1, (xs.min(), xs.max(), ys.min(),
                                                                                  ys.max(), (x0, y0, x1, y1))
    assert _yellow(frame).sum() > 20, "the spoken word is highlighted"
    # libass's own word: every glyph was found in the font the caption named.
    _, log = burn_one_frame(ass_text, frames_dir, f"{script}-first")
    assert "not found" not in log and "failed to find any fallback" not in log, [
        line for line in log.splitlines() if "not found" in line or "fallback" in line]
    _save_png(frame, frames_dir / f"{script}.png")


def _save_png(frame: np.ndarray, path: Path) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{W}x{H}", "-i", "-", str(path)], input=frame.astype(np.uint8).tobytes(), check=True)


def _ass(words: list[Word], language: str) -> str:
    return captions.to_ass(words, W, H, language=language)


def test_arabic_is_shaped_joined_letters_are_narrower_than_the_same_letters_apart(source, frames_dir):
    _, plain = source
    word = "بالعالم"  # b-a-l-ʿ-a-l-m: joins through except after alef
    apart = "\u200c".join(word)  # zero-width non-joiners: the same letters in their unjoined forms
    joined_frame, _ = burn_one_frame(_ass([Word(word, 0, 1, 1)], "ar"), frames_dir, "arabic-joined")
    apart_frame, _ = burn_one_frame(_ass([Word(apart, 0, 1, 1)], "ar"), frames_dir, "arabic-apart")

    def width(frame: np.ndarray) -> int:
        xs = np.nonzero(_ink(frame, plain).any(axis=0))[0]
        return int(xs.max() - xs.min())

    joined, unjoined = width(joined_frame), width(apart_frame)
    print(f"\nArabic '{word}' shaped {joined} px wide, letters unjoined {unjoined} px")
    assert joined < 0.9 * unjoined


@pytest.mark.parametrize("script", ["arabic", "hebrew"])
def test_right_to_left_captions_put_the_first_word_on_the_right(script, frames_dir):
    language, _ = SAMPLES[script]
    words = sample_words(script)[:3]
    frame, _ = burn_one_frame(_ass(words, language), frames_dir, f"{script}-rtl")  # word 0 highlighted
    yellow = np.nonzero(_yellow(frame).any(axis=0))[0]
    white = np.nonzero(((frame > 220).all(axis=-1)).any(axis=0))[0]
    assert yellow.min() > white.min() + 10 and yellow.max() >= white.max() - 3, (yellow.min(), yellow.max(),
                                                                                   white.min(), white.max())


def test_a_long_chinese_caption_breaks_onto_two_lines_within_the_margins(source, frames_dir):
    _, plain = source
    words = [Word("中华人民共和国全国人民代表大会", 0.0, 0.8, 1), Word("。", 0.8, 1.0, 1)]  # 16 characters, one word
    frame, log = burn_one_frame(_ass(words, "zh"), frames_dir, "chinese-two-lines")
    ink = _ink(frame, plain)
    rows = np.nonzero(ink.any(axis=1))[0]
    bands = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
    assert len(bands) == 2, [(b.min(), b.max()) for b in bands]  # two lines with a gap between
    x0, _, x1, _ = captions.layout(W, H).safe_box
    xs = np.nonzero(ink.any(axis=0))[0]
    assert x0 <= xs.min() and xs.max() < x1
    assert "not found" not in log
