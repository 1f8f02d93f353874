"""Caption styles on real renders: each preset burned into the same clip by the render path (the
ffmpeg adapter, the shipped fonts, libass) and read back as pixels; the overrides change what
they say (position by where caption pixels are, words per line by the ASS file and the height
of the ink, colours by the pixels' colour); the hook's headline is up for the first seconds only.

The frames are written as PNGs to a temporary folder (printed with -s) to be looked at."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain import captions
from chalicelib.domain.transcript import Word
from chalicelib.models import CaptionStyleOptions
from media_fixtures import ffmpeg_exe

pytestmark = pytest.mark.media

W, H = 360, 640
SECONDS = 4.0
# Words every 0.3 s from 0.2 s; the frame looked at is in "wondered", the fourth word.
TEXT = "Have you ever wondered why homegrown tomatoes taste so much better than the ones from the store?"
WORDS = [Word(t, round(0.2 + 0.3 * i, 2), round(0.2 + 0.3 * i + 0.25, 2), 0.9) for i, t in enumerate(TEXT.split())]
AT = 1.2  # "wondered" (1.1-1.35) is being spoken
TITLE = "Why homegrown tomatoes win"


def _rgb(path: Path, at: float) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(int)


def _png(path: Path, at: float, dst: Path) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-ss", f"{at:.3f}", "-i", str(path),
                    "-frames:v", "1", str(dst)], check=True)


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("caption-styles")
    print(f"\ncaption style frames in {out}")
    return out


@pytest.fixture(scope="module")
def source(frames_dir) -> Path:
    """A 4 s portrait clip of a moving gradient (captions must read on a picture, not only on grey)."""
    src = frames_dir / "source.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"gradients=s={W}x{H}:r=25:d={SECONDS}:c0=0x203040:c1=0x70a0c0:speed=0.02", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(src)], check=True)
    return src


def _burn(source: Path, frames_dir: Path, name: str, style: dict | str | None, headline: str | None = None):
    """Render the clip with ``style`` (the API's captionStyle) burned in; (frame at AT, ASS text)."""
    options = CaptionStyleOptions.model_validate(style if style is not None else {})
    ass_text = captions.to_ass(WORDS, W, H, style=options.style(), headline=headline)
    ass = frames_dir / f"{name}.ass"
    ass.write_text(ass_text, encoding="utf-8")
    ffmpeg = Ffmpeg(binary="", timeout_seconds=120)
    out = frames_dir / f"{name}.mp4"
    ffmpeg.render_clip(str(source), str(out), start=0.0, end=SECONDS, aspect="9:16", info=ffmpeg.probe(str(source)),
                       captions=str(ass) if ass_text else None, normalize_loudness=False, preset="ultrafast")
    _png(out, AT, frames_dir / f"{name}.png")
    return out, ass_text


@pytest.fixture(scope="module")
def plain(source, frames_dir) -> np.ndarray:
    ffmpeg = Ffmpeg(binary="", timeout_seconds=120)
    out = frames_dir / "plain.mp4"
    ffmpeg.render_clip(str(source), str(out), start=0.0, end=SECONDS, aspect="9:16", info=ffmpeg.probe(str(source)),
                       normalize_loudness=False, preset="ultrafast")
    return _rgb(out, AT)


def _ink(frame: np.ndarray, plain: np.ndarray) -> np.ndarray:
    return np.abs(frame - plain).max(axis=-1) > 40


def _rows(mask: np.ndarray) -> tuple[int, int]:
    ys = np.nonzero(mask.sum(axis=1) > 2)[0]
    assert len(ys), "captions were drawn"
    return int(ys.min()), int(ys.max())


def _near(frame: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 45) -> np.ndarray:
    return (np.abs(frame - np.array(rgb)) <= tolerance).all(axis=-1)


def _black_share(frame: np.ndarray, ink: np.ndarray) -> float:
    ys, xs = np.nonzero(ink)
    area = frame[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    return float(_near(area, (0, 0, 0), 30).mean())


def _dialogue_texts(ass_text: str, style: str = "Word") -> list[str]:
    return [re.sub(r"\{[^}]*\}", "", line.split(",,0,0,0,,", 1)[1])
            for line in ass_text.splitlines() if line.startswith("Dialogue:") and f",{style},," in line]


def test_each_preset_on_the_same_clip_looks_as_it_says(source, plain, frames_dir):
    frames, texts = {}, {}
    for preset in ("highlight", "karaoke", "boxed", "minimal"):
        out, ass_text = _burn(source, frames_dir, preset, preset)
        frames[preset], texts[preset] = _rgb(out, AT), _dialogue_texts(ass_text)
    ink = {name: _ink(frame, plain) for name, frame in frames.items()}
    yellow = {name: _near(frame, (255, 224, 0)).sum() for name, frame in frames.items()}
    green = {name: _near(frame, (46, 230, 107)).sum() for name, frame in frames.items()}
    print({name: (int(m.sum()), int(yellow[name]), int(green[name]), _rows(m)) for name, m in ink.items()})

    # highlight: today's captions, the spoken word in yellow, 3-7 words a group.
    assert yellow["highlight"] > 30 and green["highlight"] == 0
    # karaoke: upper case, the spoken words green (several lit by now, more than one word's worth).
    assert all(t == t.upper() for t in texts["karaoke"]) and green["karaoke"] > yellow["highlight"]
    # boxed: three words at a time on a black box: most of the caption's bounding box is black
    # (an outline only blackens the letters' edges).
    assert all(len(t.split()) <= 3 for t in texts["boxed"])
    black = {name: _black_share(frame, ink[name]) for name, frame in frames.items()}
    print({"black share of the caption's bounding box": black})
    assert black["boxed"] > 0.6 and black["highlight"] < 0.35
    # minimal: nothing highlighted, smaller letters than highlight's.
    assert yellow["minimal"] == green["minimal"] == 0
    assert ink["minimal"].sum() < ink["highlight"].sum()
    # Every preset sits above the bottom band of platform UI.
    for name, m in ink.items():
        assert _rows(m)[1] < 0.8 * H, name


def test_overrides_change_position_words_per_line_colours_and_case(source, plain, frames_dir):
    rows = {}
    for position in ("top", "middle", "bottom"):
        out, _ = _burn(source, frames_dir, f"position-{position}", {"position": position})
        rows[position] = _rows(_ink(_rgb(out, AT), plain))
    print(rows)
    assert rows["top"][1] < H / 3 and rows["top"][0] >= captions.top_margin(W, H) - 10
    assert rows["middle"][0] > H / 3 and rows["middle"][1] < 2 * H / 3
    assert rows["bottom"][0] > H / 2 and rows["bottom"][1] < 0.8 * H

    # Words per line: the ASS groups hold at most that many words, on one line (the ink is one
    # line high where the default's groups of two or three lines are twice that or more; a
    # group too wide for the line is drawn smaller rather than wrapped).
    heights = {}
    for n in (1, 2, 4):
        out, ass_text = _burn(source, frames_dir, f"words-{n}", {"wordsPerLine": n})
        texts = _dialogue_texts(ass_text)
        assert texts and all(1 <= len(t.split()) <= n and "\\N" not in t for t in texts), (n, texts)
        assert max(len(t.split()) for t in texts) == n
        top, bottom = _rows(_ink(_rgb(out, AT), plain))
        heights[n] = bottom - top
    default_top, default_bottom = rows["bottom"]
    print({"words per line ink heights": heights, "default": default_bottom - default_top})
    assert max(heights.values()) < 0.7 * (default_bottom - default_top)

    # Colours, case and size.
    out, ass_text = _burn(source, frames_dir, "colours", {"preset": "minimal", "primaryColor": "#FF2020",
                                                          "highlightColor": "#20FF20", "uppercase": True,
                                                          "fontScale": 1.5})
    frame = _rgb(out, AT)
    assert _near(frame, (255, 32, 32), 50).sum() > 50 and _near(frame, (32, 255, 32), 50).sum() > 20
    assert all(t == t.upper() for t in _dialogue_texts(ass_text))
    # fontScale replaces the preset's (minimal's 0.8): 1.5 times the default size.
    assert f"Style: Word,{captions.FONT_NAME},{round(0.075 * W * 1.5)}," in ass_text


def test_the_hook_burns_the_title_as_a_headline_for_the_first_seconds(source, plain, frames_dir):
    out, ass_text = _burn(source, frames_dir, "hook", {"preset": "highlight", "hook": True}, headline=TITLE)
    assert _dialogue_texts(ass_text, "Headline") == [TITLE]
    white_box = {}
    for at in (0.5, 2.5, 3.5):
        frame = _rgb(out, at)
        top_band = frame[: H // 3]
        white_box[at] = int(_near(top_band, (255, 255, 255), 20).sum())
        if at == 0.5:
            _png(out, at, frames_dir / "hook-0.5s.png")
    print({"white headline box pixels in the top third": white_box})
    assert white_box[0.5] > 2000 and white_box[2.5] > 2000  # the headline's white box
    assert white_box[3.5] < 100  # gone after HEADLINE_SECONDS
    # Captions at the top: the headline moves to the middle, out of their way.
    _, top_ass = _burn(source, frames_dir, "hook-top", {"position": "top", "hook": True}, headline=TITLE)
    assert re.search(r"^Style: Headline,.*,5,\d+,\d+,0,-1$", top_ass, re.MULTILINE)
