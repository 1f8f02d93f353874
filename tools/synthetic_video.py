"""Videos with people in them, made from real face photos, for the reframe tests and `make bench`.

scikit-image ships a public-domain photo of astronaut Eileen Collins; a second person is the same
photo mirrored and tinted. Faces are pasted on a textured background at known places, so the
tests can check crops against the truth, and a face "speaks" by a dark mouth opening and closing
about five times a second, not quite periodically, on every word it says (the word timings come
from a transcript), while the other keeps its lips still. Never shipped: scikit-image is a test dependency.
"""
from __future__ import annotations

import functools
import math
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage import data as skimage_data

from chalicelib.domain.transcript import Transcript


def face_patch(side: int, *, mirrored: bool = False) -> np.ndarray:
    """The astronaut's face with a little hair and collar, as an RGB square of ``side`` px (a
    new array each call: callers draw on it)."""
    return _face_patch(side, mirrored).copy()


@functools.lru_cache(maxsize=16)
def _face_patch(side: int, mirrored: bool) -> np.ndarray:
    # Decoding the photo's PNG took 15 ms: per face per frame, three quarters of making a video.
    face = cv2.resize(skimage_data.astronaut()[40:190, 150:300], (side, side), interpolation=cv2.INTER_AREA)
    if mirrored:  # a second person: the same photo mirrored and tinted
        face = np.clip(face[:, ::-1].astype(np.float32) * [0.9, 1.0, 1.15], 0, 255).astype(np.uint8)
    return face


def talking_face(side: int, *, mirrored: bool, openness: float) -> np.ndarray:
    """``face_patch`` with its mouth open by ``openness`` (0 closed .. 1 wide)."""
    face = face_patch(side, mirrored=mirrored)
    # The mouth (found with YuNet's landmarks on this photo) at 47.5% across, 70% down.
    centre = (round((0.525 if mirrored else 0.475) * side), round(0.70 * side))
    axes = (round(0.1 * side), max(1, round(openness * 0.06 * side)))
    cv2.ellipse(face, centre, axes, 0, 0, 360, (70, 25, 30), -1)
    return face


def background(size: tuple[int, int], seed: int = 3) -> np.ndarray:
    """A room-like RGB backdrop: soft colour fields, grain, and shelves and posters (edges and
    corners of the kind that fooled the old Haar cascades)."""
    w, h = size
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.uniform(40, 215, (9, 16, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = coarse + rng.normal(0, 18, (h, w, 1)).astype(np.float32)
    for _ in range(40):
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        bw, bh = int(rng.integers(20, 160)), int(rng.integers(10, 120))
        img[y:y + bh, x:x + bw] = rng.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class TwoShot:
    """Two people side by side taking turns: ``turns[n]`` ("L" or "R") says the transcript's
    sentence n; faces ``side`` px at ``x["L"]``/``x["R"]`` (only "L": one person), top at ``y``."""

    size: tuple[int, int]
    side: int
    x: dict[str, int]
    y: int
    turns: Sequence[str]


def write_two_shot(
    path: Path,
    shot: TwoShot,
    transcript: Transcript,
    speech: Path,
    seconds: float,
    *,
    ffmpeg: str,
    fps: int = 25,
    encoder: Sequence[str] = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "20"),
    camera: bool = False,
) -> Path:
    """An mp4 of ``shot`` with ``speech`` (the audio ``transcript`` was made from) as its sound.
    The speaker of each word moves their mouth; the left one's listener nods (the whole face
    bobs), which must not read as speech. ``encoder``: how the picture is compressed (a
    camera's or an editor's settings, B-frames and all, for the benchmark); ``camera``: with
    a camera's grain and sway (``like_a_camera``)."""
    sentences = transcript.segments[: len(shot.turns)]
    spoken = [
        (w.start, w.end, who)
        for sentence, who in zip(sentences, shot.turns)
        for w in transcript.words[sentence.first_word:sentence.last_word]
    ]

    def voice(t: float) -> str | None:
        return next((who for a, b, who in spoken if a <= t <= b), None)

    def frame(t: float, base: np.ndarray) -> np.ndarray:
        speaking = voice(t)
        # Lips open and close about five times a second, never exactly periodically (two
        # incommensurate rates): a pure 6.6 Hz opening repeated itself every 0.15 s, so frames
        # 0.16 s apart (a camera file with its B-frames skipped) saw a mouth that never moved.
        talk = 0.3 + 0.7 * abs(math.sin(2 * math.pi * 2.9 * t) * math.cos(2 * math.pi * 1.3 * t + 0.7))
        nod = round(0.12 * shot.side * math.sin(2 * math.pi * 1.2 * t)) if speaking == "L" else 0
        img = base.copy()
        for who, y in (("L", shot.y), ("R", shot.y + nod)):
            if who not in shot.x:  # one person alone: a talking head
                continue
            x = shot.x[who]
            img[y:y + shot.side, x:x + shot.side] = talking_face(
                shot.side, mirrored=who == "R", openness=talk if speaking == who else 0.12
            )
        return img

    base = background(shot.size, seed=5)
    return write_frames(path, shot.size, seconds, lambda t: frame(t, base), ffmpeg=ffmpeg, fps=fps, audio=speech,
                        encoder=encoder, camera=camera)


def like_a_camera(draw: Callable[[float], np.ndarray], size: tuple[int, int], *, fps: int = 25,
                  grain: float = 4.0, sway_px: int = 3, seed: int = 7) -> Callable[[float], np.ndarray]:
    """``draw`` as a camera would record it: sensor grain that changes every frame and a slight
    handheld sway. Without them a static synthetic scene compresses to almost nothing between
    keyframes (97% of a 30 s file's bytes were in its 15 keyframes), which makes decoding cost
    nothing like real footage's, where every frame carries detail."""
    w, h = size
    rng = np.random.default_rng(seed)
    # A cycle of grain frames (one a frame costs seconds of numpy per second of video); longer
    # than the encoder's reference window, so it is never a repeat it can copy.
    cycle = [rng.normal(0, grain, (h, w, 1)).astype(np.int16) for _ in range(7)]

    def recorded(t: float) -> np.ndarray:
        n = round(t * fps)
        dx = round(sway_px * math.sin(2 * math.pi * 0.37 * t))
        dy = round(sway_px * math.sin(2 * math.pi * 0.23 * t + 1.0))
        img = np.roll(draw(t), (dy, dx), axis=(0, 1)).astype(np.int16) + cycle[n % len(cycle)]
        return np.clip(img, 0, 255).astype(np.uint8)

    return recorded


def write_frames(
    path: Path,
    size: tuple[int, int],
    seconds: float,
    draw: Callable[[float], np.ndarray],
    *,
    ffmpeg: str,
    fps: int = 25,
    audio: Path | None = None,
    encoder: Sequence[str] = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "20"),
    camera: bool = False,
) -> Path:
    """Encode ``draw(t)`` (RGB frames of ``size``) for ``seconds`` as H.264 mp4, with ``audio``
    (cut to length) when given; ``camera``: as a camera records it (``like_a_camera``)."""
    if camera:
        draw = like_a_camera(draw, size, fps=fps)
    sound = ["-t", f"{seconds:g}", "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-shortest"] \
        if audio else []
    proc = subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "-",
         *sound, *encoder, "-pix_fmt", "yuv420p", str(path)],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    for n in range(round(seconds * fps)):
        proc.stdin.write(np.ascontiguousarray(draw(n / fps)).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not write {path}")
    return path
