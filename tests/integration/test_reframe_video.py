"""AI reframe end to end on a generated video, measured rather than eyeballed: a real face
(scikit-image's public-domain astronaut photo) moves across a textured 1280x720 background at
known positions; we detect, plan, render through ffmpeg's sendcmd + crop, read back where each
output frame was actually cut from, and check the face against that ground truth."""
from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from chalicelib.adapters.faces import SAMPLE_FPS, detect_faces
from chalicelib.domain import media
from chalicelib.domain.keyframes import keyframe_times
from chalicelib.domain.reframe import max_frame_step, plan_crop_path, sendcmd_script
from chalicelib.domain.transcript import Transcript
from chalicelib.errors import MediaError
from chalicelib.services.reframe import plan_for_clip, speech_spans, write_sendcmd
from tests.media_fixtures import ffmpeg_exe, make_hls_playlist, make_video
from tools.synthetic_video import TwoShot, background, face_patch, write_frames, write_two_shot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

pytestmark = [pytest.mark.media, pytest.mark.slow]

W, H, FPS = 1280, 720, 25
FACE = 200  # side of the pasted face patch; the whole patch counts as "the face"
STRIP = (670, 8)  # rows (top, count) below the face's path, used to locate each output frame


# As cameras and phones write H.264: a keyframe every 2 s and B-frames. The face analysis then
# decodes around keyframes only (the long-GOP files of the other tests: every reference frame).
CAMERA = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-bf", "3")


def _write_video(path: Path, seconds: float, position, *, size: tuple[int, int] = (W, H), face_side: int = FACE,
                 scene=None, encoder: tuple[str, ...] | None = None) -> Path:
    """H.264 mp4 of the face at ``position(t) -> (x, y)`` (top-left, source pixels), or with
    ``position`` None no face at all; ``scene(t)`` draws the background instead of a still one;
    ``encoder``: ffmpeg's encoding options (a long-GOP x264 ultrafast by default)."""
    still, face = background(size), face_patch(face_side)

    def draw(t: float):
        img = scene(t) if scene else still.copy()
        if position is not None:
            x, y = position(t)
            img[y:y + face_side, x:x + face_side] = face
        return img

    options = {"encoder": encoder} if encoder else {}
    return write_frames(path, size, seconds, draw, ffmpeg=ffmpeg_exe(), fps=FPS, **options)


def _sweep(t: float) -> tuple[int, int]:
    """Still at the left, a steady 120 px/s walk to the right (0.375% of the width a frame, under the
    crop's top speed), still again; a slight bob."""
    x = 60 + 120 * min(max(t - 1.5, 0.0), 8.0)
    return round(x), round(200 + 15 * math.sin(t * 2))


@pytest.fixture(scope="module")
def sweep_video(tmp_path_factory) -> Path:
    return _write_video(tmp_path_factory.mktemp("reframe") / "sweep.mp4", 10, _sweep)


def _gray_strips(args: list[str], width: int, strip: tuple[int, int] = STRIP):
    top, rows = strip
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", *args,
         "-vf", f"crop={width}:{rows}:0:{top}", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, rows, width).astype(np.int16)


def _measured_x(rendered: Path, source: Path, start: float, duration: float, crop_w: int, *, src_w: int = W,
                strip: tuple[int, int] = STRIP) -> list[int]:
    """For each rendered frame, the source x it was cut from: the best match of a background
    strip (rows the face never reaches) against the source frame at the same time."""
    out = _gray_strips(["-i", str(rendered)], crop_w, strip)
    src = _gray_strips(["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", str(source)], src_w, strip)
    xs = []
    for k in range(min(len(out), len(src))):
        windows = np.lib.stride_tricks.sliding_window_view(src[k], crop_w, axis=1)[:, ::2]  # (rows, x/2, crop_w)
        errors = np.abs(windows - out[k][:, None, :]).mean(axis=(0, 2))
        xs.append(2 * int(np.argmin(errors)))
    return xs


def test_reframe_follows_a_moving_face(sweep_video, tmp_path):
    start, end, aspect = 1.0, 9.5, "9:16"
    duration = end - start
    crop_w, crop_h, _, _ = media.crop_box(W, H, aspect)

    began = time.perf_counter()
    detections = detect_faces(str(sweep_video), start, end)
    detect_seconds = time.perf_counter() - began
    # Times are relative to the clip start and boxes in source pixels: the true face is found
    # where it was drawn. Texture may add the odd false positive; the planner must ignore it.
    found = extra = 0
    for t, boxes, _ in detections:
        fx, fy = _sweep(start + t)
        on_face = [b for b in boxes
                   if abs(b[0] + b[2] / 2 - fx - FACE / 2) < 25 and abs(b[1] + b[3] / 2 - fy - FACE / 2) < 35]
        found += bool(on_face)
        extra += len(boxes) - len(on_face)
    assert len(detections) == pytest.approx(duration * SAMPLE_FPS, abs=1)
    assert found >= 0.8 * len(detections)

    keyframes = plan_crop_path(detections, src_w=W, src_h=H, aspect=aspect, duration=duration)
    script = tmp_path / "reframe.cmd"
    script.write_text(sendcmd_script(keyframes, FPS, max_frame_step(W)))

    rendered = _render_with_script(sweep_video, start, duration, (W, H), script, tmp_path / "clip.mp4")
    xs = _measured_x(rendered, sweep_video, start, duration, crop_w)
    assert len(xs) >= duration * FPS - 1

    inside = [
        x <= _sweep(start + k / FPS)[0] and _sweep(start + k / FPS)[0] + FACE <= x + crop_w for k, x in enumerate(xs)
    ]
    steps = [abs(b - a) for a, b in zip(xs, xs[1:])]
    share = sum(inside) / len(inside)
    print(
        f"\nreframe 9:16 of a 200 px face crossing 1280x720 at 120 px/s: face inside the crop in "
        f"{share:.1%} of {len(xs)} rendered frames; crop movement max {max(steps)} px/frame, mean "
        f"{sum(steps) / len(steps):.2f} px/frame; {len(keyframes)} keyframes, "
        f"{len(script.read_text().splitlines())} sendcmd lines; face found in {found}/{len(detections)} samples, "
        f"{extra} false positives; detection of {duration:.1f} s in {detect_seconds:.2f} s"
    )
    assert share >= 0.95
    assert max(steps) <= 0.005 * W  # 0.5% of the source width per frame at most
    # The rendered frames were cut exactly where the script said.
    planned = _frame_xs(script.read_text(), len(xs))
    exact = sum(a == b for a, b in zip(xs, planned)) / len(xs)
    print(f"rendered frames cut exactly at the planned x: {exact:.1%}")
    assert exact >= 0.98
    # And the clip itself shows the face: the detector, run on the output, finds it whole.
    in_clip = detect_faces(str(rendered), 0.0, duration, size=(crop_w, crop_h))
    assert sum(1 for _, boxes, _ in in_clip if boxes) >= 0.9 * len(in_clip)


def _frame_xs(script: str, frames: int) -> list[int]:
    commands = [(float(line.split()[0]), int(line.split()[3].rstrip(";"))) for line in script.splitlines()]
    xs, i, x = [], 0, commands[0][1]
    for k in range(frames):
        while i < len(commands) and commands[i][0] <= k / FPS + 1e-9:
            x = commands[i][1]
            i += 1
        xs.append(x)
    return xs


def _info(width: int, height: int, fps: float | None = None) -> media.MediaInfo:
    return media.MediaInfo(container="mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", duration_seconds=10.0,
                           width=width, height=height, fps=fps, has_video=True, has_audio=False,
                           video_codec="h264", audio_codec=None, size_bytes=1)


def test_plan_for_clip_plans_or_declines(sweep_video, tmp_path):
    info = _info(W, H, 25.0)
    plan = plan_for_clip(str(sweep_video), 2.0, 5.0, "1:1", info)
    assert plan is not None and plan.samples == round(3 * SAMPLE_FPS) and plan.withFaces >= 0.8 * plan.samples
    lines = Path(write_sendcmd(plan, info, str(tmp_path))).read_text().splitlines()
    assert lines[0].startswith("0.000 crop@reframe x ")
    assert all(int(line.split()[3].rstrip(";")) % 2 == 0 for line in lines)
    assert plan_for_clip(str(sweep_video), 2.0, 5.0, "16:9", info) is None
    assert plan_for_clip(str(sweep_video), 2.0, 5.0, "9:16", _info(360, 640)) is None


def test_no_face_keeps_the_centre_crop(tmp_path):
    video = make_video(tmp_path / "pattern.mp4", seconds=3, width=640, height=360, audio=None)
    plan = plan_for_clip(str(video), 0.0, 3.0, "9:16", _info(640, 360, 25.0))
    assert plan.keyframes == [(0.0, media.crop_box(640, 360, "9:16")[2])] and plan.withFaces == 0
    # Nobody in the picture: only every third sample is analysed (3 of the 9 sample times).
    assert plan.samples == 3


def test_detection_of_a_hostile_input_fails_cleanly(tmp_path):
    playlist = make_hls_playlist(tmp_path / "list.m3u8")
    with pytest.raises(MediaError):
        detect_faces(str(playlist), 0.0, 2.0, size=(640, 360))


def test_plan_for_clip_falls_back_to_the_centre(tmp_path, monkeypatch):
    info = _info(640, 360, 25.0)
    centre = [(0.0, media.crop_box(640, 360, "9:16")[2])]
    # A file that is no video container: the clip keeps the centred crop (the render reports it).
    playlist = make_hls_playlist(tmp_path / "list.m3u8")
    assert plan_for_clip(str(playlist), 0.0, 2.0, "9:16", info).keyframes == centre
    # A function packaged without OpenCV reframes nothing rather than failing the clip.
    monkeypatch.setitem(sys.modules, "cv2", None)
    video = make_video(tmp_path / "v.mp4", seconds=1, width=640, height=360, audio=None)
    assert plan_for_clip(str(video), 0.0, 1.0, "9:16", info).keyframes == centre


def test_a_clip_from_the_middle_of_a_camera_file_is_sampled_where_its_times_say(tmp_path):
    """Cameras and editors write B-frames and a keyframe every second or two. The analysis skips
    B-frames, and OpenCV's seek, counting only the frames it decoded, used to walk on several
    seconds past the clip's start: the crop of the clip's first seconds followed where the face
    would be later. Each sample must show the face where it was at that sample's time."""
    def walk(t: float) -> tuple[int, int]:
        return round(60 + 45 * t), 220

    still, face = background((W, H)), face_patch(FACE)

    def draw(t: float):
        img = still.copy()
        x, y = walk(t)
        img[y:y + FACE, x:x + FACE] = face
        return img

    video = write_frames(tmp_path / "camera.mp4", (W, H), 22, draw, ffmpeg=ffmpeg_exe(), fps=FPS, encoder=CAMERA)
    with open(video, "rb") as fh:
        assert keyframe_times(fh) == pytest.approx([2.0 * n for n in range(11)], abs=0.05)
    start, end = 13.3, 19.3
    sightings = detect_faces(str(video), start, end)
    assert sightings[0].t < 0.4 and sightings[-1].t > end - start - 0.5
    # One person: the keyframes alone are decoded (the frames between them cost as much again
    # to decode and tell nothing the planner needs), plus a look near the clip's end.
    assert [start + s.t for s in sightings] == pytest.approx([13.3, 14.0, 16.0, 18.0, 19.0], abs=0.2)
    # The face box sits a fixed distance inside the pasted photo: only its spread tells time errors.
    offsets = [s.faces[0][0] - walk(start + s.t)[0] for s in sightings if s.faces]
    assert len(offsets) >= 0.9 * len(sightings)
    # 45 px/s: a sample labelled even 0.5 s away from its frame would be 22 px off the others.
    assert max(offsets) - min(offsets) <= 16, offsets


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def test_detection_time_for_30_seconds_of_720p(tmp_path):
    def back_and_forth(t: float) -> tuple[int, int]:
        phase = (t / 10) % 2
        return int(60 + 1020 * (phase if phase < 1 else 2 - phase)), 220

    video = _write_video(tmp_path / "talk30.mp4", 30, back_and_forth)
    # CPU time too: wall time on a shared 2-core machine depends on whatever else runs.
    cpu_before = _cpu_seconds()
    began = time.perf_counter()
    detections = detect_faces(str(video), 0.0, 30.0, sample_fps=4.0)
    seconds = time.perf_counter() - began
    cpu = _cpu_seconds() - cpu_before
    with_faces = sum(1 for _, boxes, _ in detections if boxes)
    print(
        f"\nface detection, 30 s of 1280x720 at 4 fps: {seconds:.2f} s wall, {cpu:.2f} s CPU incl. ffmpeg "
        f"({len(detections)} frames, {with_faces} with a face, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    assert len(detections) == pytest.approx(120, abs=1)
    assert with_faces >= 0.8 * len(detections)

    # The same clip planned: a face walking back and forth (102 px/s, turning every 10 s).
    keyframes = plan_crop_path(detections, src_w=W, src_h=H, aspect="9:16", duration=30.0)
    crop_w = media.crop_box(W, H, "9:16")[0]
    xs = _frame_xs(sendcmd_script(keyframes, FPS, max_frame_step(W)), 30 * FPS)
    inside = [x <= back_and_forth(k / FPS)[0] and back_and_forth(k / FPS)[0] + FACE <= x + crop_w
              for k, x in enumerate(xs)]
    steps = [abs(b - a) for a, b in zip(xs, xs[1:])]
    print(
        f"30 s back and forth: face inside the 9:16 crop in {sum(inside) / len(inside):.1%} of frames (planned), "
        f"max {max(steps)} px/frame, mean {sum(steps) / len(steps):.2f} px/frame"
    )
    assert sum(inside) / len(inside) >= 0.95


def _render_reframed(source: Path, start: float, duration: float, size: tuple[int, int], tmp_path: Path) -> list[int]:
    """Plan the crop as the pipeline does (detect, plan, sendcmd), render it, and return where
    each rendered frame was really cut from the source."""
    src_w, src_h = size
    info = _info(src_w, src_h, FPS)
    path = write_sendcmd(plan_for_clip(str(source), start, start + duration, "9:16", info), info, str(tmp_path))
    rendered = _render_with_script(source, start, duration, size, Path(path), tmp_path / f"{source.stem}-9x16.mp4")
    crop_w = media.crop_box(src_w, src_h, "9:16")[0]
    return _measured_x(rendered, source, start, duration, crop_w, src_w=src_w, strip=(src_h - 60, 8))


def _render_with_script(source: Path, start: float, duration: float, size: tuple[int, int], script: Path,
                        rendered: Path) -> Path:
    """Render 9:16 as the renderer does: sendcmd steering a named crop that starts centred."""
    crop_w, crop_h, centre_x, crop_y = media.crop_box(*size, "9:16")
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-ss", f"{start:.3f}", "-t", f"{duration:.3f}", *media.INPUT_HARDENING, "-i", f"file:{source}",
         "-vf", f"sendcmd=f={script},crop@reframe=w={crop_w}:h={crop_h}:x={centre_x}:y={crop_y}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p", str(rendered)],
        check=True,
    )
    return rendered


WIDE = (1920, 1080)


def test_a_small_face_in_a_wide_shot_is_found_and_followed(tmp_path):
    """A person in a wide shot: a face 6% of the frame width walking across 1920x1080, which
    the Haar cascades never found (the clip fell back to the centre crop)."""
    side = round(0.06 * WIDE[0])

    def walk(t: float) -> tuple[int, int]:
        return int(200 + 150 * min(max(t - 1.0, 0.0), 9.0)), 420

    video = _write_video(tmp_path / "wide.mp4", 12, walk, size=WIDE, face_side=side, encoder=CAMERA)
    xs = _render_reframed(video, 0.0, 12.0, WIDE, tmp_path)
    crop_w = media.crop_box(*WIDE, "9:16")[0]
    inside = [x <= walk(k / FPS)[0] and walk(k / FPS)[0] + side <= x + crop_w for k, x in enumerate(xs)]
    steps = [abs(b - a) for a, b in zip(xs, xs[1:])]
    print(f"\nwide shot, {side} px face walking 150 px/s: whole face inside the 9:16 crop in "
          f"{sum(inside) / len(inside):.1%} of {len(xs)} frames; max step {max(steps)} px "
          f"({max(steps) / WIDE[0]:.2%} of the width)")
    assert sum(inside) / len(inside) >= 0.95
    assert max(steps) <= 0.005 * WIDE[0]


def test_faceless_footage_keeps_the_crop_still(tmp_path):
    """Textured, patterned footage with no person (shelves, posters, a photo of coffee cups)
    drifting sideways: the crop must not chase anything."""
    base = background((WIDE[0] + 400, WIDE[1]), seed=11)
    coffee = cv2.resize(skimage_data.coffee(), (600, 400))
    base[300:700, 900:1500] = coffee
    bricks = np.dstack([cv2.resize(skimage_data.brick(), (500, 500))] * 3)
    base[500:1000, 1700:2200] = bricks

    def drift(t: float):
        offset = int(20 * t)
        return np.ascontiguousarray(base[:, offset:offset + WIDE[0]])

    video = _write_video(tmp_path / "faceless.mp4", 8, None, size=WIDE, scene=drift, encoder=CAMERA)
    xs = _render_reframed(video, 0.0, 8.0, WIDE, tmp_path)
    movement = max(xs) - min(xs)
    print(f"\nfaceless footage: crop moved {movement} px in total ({movement / WIDE[0]:.2%} of the width)")
    assert movement < 0.02 * WIDE[0]


# Two people in a wide shot, taking turns: the fixture's real speech plays, and the face whose
# turn it is moves its mouth on every word while the other keeps still lips and, while the left
# one speaks, nods.
TWO = TwoShot(size=(W, H), side=96, x={"L": 200, "R": 980}, y=300, turns=["L", "R", "L", "L", "R", "L"])
TWO_SIDE, TWO_X, TWO_Y, TURNS = TWO.side, TWO.x, TWO.y, TWO.turns  # faces 7.5% of the width: a two-shot
TWO_SECONDS = 28.0


def _speech_fixture():
    transcript = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    return transcript, transcript.segments[: len(TURNS)]


@pytest.fixture(scope="module")
def two_shot(tmp_path_factory) -> Path:
    transcript, _ = _speech_fixture()
    return write_two_shot(tmp_path_factory.mktemp("two") / "two_shot.mp4", TWO, transcript,
                          FIXTURES / "speech_long.ogg", TWO_SECONDS, ffmpeg=ffmpeg_exe(), fps=FPS, encoder=CAMERA)


def test_the_crop_follows_whoever_is_speaking(two_shot, tmp_path):
    transcript, sentences = _speech_fixture()
    speech = speech_spans(transcript.segments, 0.0, TWO_SECONDS)
    info = _info(W, H, FPS)
    plan = plan_for_clip(str(two_shot), 0.0, TWO_SECONDS, "9:16", info, speech=speech)
    assert plan is not None and plan.layout == "auto"
    rendered = _render_with_script(two_shot, 0.0, TWO_SECONDS, (W, H), Path(write_sendcmd(plan, info, str(tmp_path))),
                                   tmp_path / "two-9x16.mp4")
    crop_w = media.crop_box(W, H, "9:16")[0]
    xs = _measured_x(rendered, two_shot, 0.0, TWO_SECONDS, crop_w, strip=(H - 60, 8))

    turn_starts = [(s.start, who) for s, who in zip(sentences, TURNS)]
    turn_starts = [ts for n, ts in enumerate(turn_starts) if n == 0 or ts[1] != turn_starts[n - 1][1]]

    def speaker(t: float) -> str:
        return [who for start, who in turn_starts if start <= t][-1] if t >= turn_starts[0][0] else turn_starts[0][1]

    def holds(x: int, who: str) -> bool:
        return x <= TWO_X[who] and TWO_X[who] + TWO_SIDE <= x + crop_w

    holding = [holds(x, speaker(k / FPS)) for k, x in enumerate(xs)]
    moves = [(k + 1) / FPS for k, (a, b) in enumerate(zip(xs, xs[1:])) if a != b]
    cuts = [(k + 1) / FPS for k, (a, b) in enumerate(zip(xs, xs[1:])) if abs(b - a) > 0.005 * W]
    print(f"\ntwo people taking {len(turn_starts)} turns over {TWO_SECONDS:g} s: the speaker inside the 9:16 crop "
          f"in {sum(holding) / len(holding):.1%} of {len(xs)} frames; cuts at {cuts}; turns at "
          f"{[round(s, 2) for s, _ in turn_starts]}; {len(moves) - len(cuts)} other frame-to-frame moves")
    assert sum(holding) / len(holding) >= 0.85
    # One cut per change of speaker, each within 1.5 s of it, and nothing else moves the crop:
    # no switch inside a turn, and the silent one's nodding never takes the shot.
    assert len(cuts) == len(turn_starts) - 1
    for cut, (start, _) in zip(cuts, turn_starts[1:]):
        assert abs(cut - start) <= 1.5, (cut, start)
    assert moves == cuts


def test_split_stacks_the_two_speakers(two_shot, tmp_path):
    transcript, _ = _speech_fixture()
    info = _info(W, H, FPS)
    start, end = 2.0, 10.0
    plan = plan_for_clip(str(two_shot), start, end, "9:16", info, layout="split",
                         speech=speech_spans(transcript.segments, start, end))
    assert plan is not None and plan.layout == "split" and plan.panels is not None
    # Top: the left person; bottom: the right one; each box holds its whole face.
    for (x, y, w, h), who in zip(plan.panels, ("L", "R")):
        assert x <= TWO_X[who] and TWO_X[who] + TWO_SIDE <= x + w and y <= TWO_Y and TWO_Y + TWO_SIDE <= y + h
    out = tmp_path / "split.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-ss", str(start), "-t", str(end - start), *media.INPUT_HARDENING, "-i", f"file:{two_shot}",
         "-vf", media.video_filter(W, H, "9:16", panels=plan.panels), "-c:v", "libx264", "-preset", "ultrafast",
         str(out)],
        check=True,
    )
    panel_w, panel_h = media.split_panel_size(W, H)
    assert (panel_w, panel_h) == (404, 360)
    found = detect_faces(str(out), 0.0, end - start, size=(panel_w, 2 * panel_h))
    stacked = [s for s in found if len(s.faces) == 2 and sorted(b[1] + b[3] / 2 < panel_h for b in s.faces) == [0, 1]]
    print(f"\nsplit: two faces, one per panel, in {len(stacked)}/{len(found)} sampled frames of the stacked clip")
    assert len(stacked) >= 0.9 * len(found)


def test_split_without_two_people_follows_the_one(sweep_video):
    plan = plan_for_clip(str(sweep_video), 1.0, 6.0, "9:16", _info(W, H, FPS), layout="split")
    assert plan is not None and plan.layout == "auto" and plan.panels is None
