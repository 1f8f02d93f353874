"""The reframe planner on synthetic detections: still under jitter, follows motion at bounded
speed, keeps its subject against brief intruders, centres without faces, and the sendcmd file."""
from __future__ import annotations

import math
import random

import pytest

from chalicelib.domain.media import crop_box
from chalicelib.domain.reframe import MAX_SPEED, Sighting, max_frame_step, plan_crop_path, sendcmd_script

W, H = 1280, 720
CROP_W = crop_box(W, H, "9:16")[0]  # 404
FPS = 25


def _face(cx: float, size: int = 160, cy: float = 300) -> tuple[int, int, int, int]:
    return int(cx - size / 2), int(cy - size / 2), size, size


def _samples(seconds: float, fps: float = 4.0):
    return [i / fps for i in range(int(seconds * fps) + 1)]


def _per_frame(keyframes, seconds: float) -> list[int]:
    """x at every output frame, as ffmpeg applies the sendcmd script."""
    lines = [line.split() for line in sendcmd_script(keyframes, FPS).splitlines()]
    commands = [(float(parts[0]), int(parts[3].rstrip(";"))) for parts in lines]
    xs, current = [], commands[0][1]
    for frame in range(int(seconds * FPS) + 1):
        for t, x in commands:
            if t <= frame / FPS + 1e-9:
                current = x
        xs.append(current)
    return xs


def _plan(detections, seconds, aspect="9:16"):
    return plan_crop_path(detections, src_w=W, src_h=H, aspect=aspect, duration=seconds)


def test_no_faces_is_the_centre_crop():
    centre = crop_box(W, H, "9:16")[2]
    assert _plan([(t, []) for t in _samples(10)], 10) == [(0.0, centre)]
    assert _plan([], 10) == [(0.0, centre)]
    assert sendcmd_script([(0.0, centre)], FPS) == f"0.000 crop@reframe x {centre};\n"


def test_jitter_of_ten_pixels_does_not_move_the_crop():
    rng = random.Random(7)
    detections = [(t, [_face(400 + rng.uniform(-10, 10), 160 + rng.randint(-8, 8))]) for t in _samples(20)]
    keyframes = _plan(detections, 20)
    assert len(keyframes) == 1
    x = keyframes[0][1]
    assert x % 2 == 0 and x <= 400 - 80 and x + CROP_W >= 400 + 80  # face framed


def test_steady_motion_is_followed_with_bounded_speed():
    seconds, start, end = 10, 150, 1130  # 98 px/s, the face crosses the whole frame
    detections = [(t, [_face(start + (end - start) * t / seconds)]) for t in _samples(seconds)]
    xs = _per_frame(_plan(detections, seconds), seconds)
    steps = [abs(b - a) for a, b in zip(xs, xs[1:])]
    assert max(steps) <= MAX_SPEED * W / FPS + 2
    # Frame-level containment of the whole 160 px face, with the ground truth position.
    inside = [
        x <= start + (end - start) * (f / FPS) / seconds - 80
        and start + (end - start) * (f / FPS) / seconds + 80 <= x + CROP_W
        for f, x in enumerate(xs)
    ]
    assert sum(inside) / len(inside) >= 0.98
    assert all(x % 2 == 0 and 0 <= x <= W - CROP_W for x in xs)


def test_a_fast_move_is_panned_smoothly_not_snapped():
    # 400 px/s for 1.75 s: faster than the crop's top speed, still one continuous track.
    detections = [(t, [_face(300 + 400 * min(max(t - 2, 0), 1.75))]) for t in _samples(8)]
    xs = _per_frame(_plan(detections, 8), 8)
    steps = [b - a for a, b in zip(xs, xs[1:])]
    assert xs[0] <= 300 - 80 and xs[-1] + CROP_W >= 1000 + 80
    assert max(steps) <= MAX_SPEED * W / FPS + 2
    # Acceleration bounded too: speed changes by at most a few px/frame between frames.
    assert max(abs(b - a) for a, b in zip(steps, steps[1:])) <= 6
    assert min(steps) >= 0  # no overshoot and bounce back


def test_a_subject_far_away_is_cut_to_not_panned_to():
    # The face "teleports" (a cut in the source, or another person): one jump, then still.
    detections = [(t, [_face(300 if t < 3 else 1000)]) for t in _samples(8)]
    xs = _per_frame(_plan(detections, 8), 8)
    moves = [(f, b - a) for f, (a, b) in enumerate(zip(xs, xs[1:])) if a != b]
    assert len(moves) == 1 and moves[0][1] > CROP_W / 2
    assert 3.4 <= moves[0][0] / FPS <= 4.0  # after the short hold for a lost subject
    assert xs[0] <= 300 - 80 and xs[-1] <= 1000 - 80 and xs[-1] + CROP_W >= 1000 + 80


def test_a_briefly_appearing_second_face_does_not_steal_the_crop():
    def faces(t):
        main = _face(300, 140)
        # A bigger face at the far right for 0.75 s only.
        return [main, _face(1050, 220)] if 4 <= t < 4.75 else [main]

    keyframes = _plan([(t, faces(t)) for t in _samples(10)], 10)
    assert len(keyframes) == 1 and keyframes[0][1] <= 300 - 70


def test_a_new_subject_that_stays_wins_after_the_hold():
    def faces(t):
        main = _face(300, 140)
        return [main, _face(1050, 240)] if t >= 4 else [main]

    xs = _per_frame(_plan([(t, faces(t)) for t in _samples(10)], 10), 10)
    moves = [f / FPS for f, (a, b) in enumerate(zip(xs, xs[1:])) if a != b]
    assert moves and moves[0] >= 5.0  # the rival held the lead for the whole switch delay
    assert len(moves) == 1  # far away: a cut, not a pan
    assert xs[-1] <= 1050 - 120 and xs[-1] + CROP_W >= 1050 + 120


def test_lost_subject_holds_position_then_face_missing_frames_do_not_recentre():
    detections = [(t, [_face(250)] if (t < 2 or t > 5) else []) for t in _samples(8)]
    keyframes = _plan(detections, 8)
    assert len(keyframes) == 1 and keyframes[0][1] <= 250 - 80


def test_a_flickering_false_positive_is_not_followed():
    # Haar cascades misfire on texture in a sample here and there; alone, that is still "no face".
    centre = crop_box(W, H, "9:16")[2]
    detections = [(t, [_face(1000, 120)] if i % 3 == 0 else []) for i, t in enumerate(_samples(10))]
    assert _plan(detections, 10) == [(0.0, centre)]
    # Nor does it lure the crop away from a real face.
    detections = [(t, [_face(300)] + ([_face(1000, 200)] if i % 3 == 0 else [])) for i, t in enumerate(_samples(10))]
    keyframes = _plan(detections, 10)
    assert len(keyframes) == 1 and keyframes[0][1] <= 300 - 80


def test_the_first_subject_is_the_one_that_persists():
    # A big false positive in the very first sample only; the real face is there throughout.
    detections = [(t, [_face(300)] + ([_face(1000, 240)] if t == 0 else [])) for t in _samples(6)]
    keyframes = _plan(detections, 6)
    assert len(keyframes) == 1 and keyframes[0][1] <= 300 - 80


def test_square_crop_and_clamping_at_the_frame_edges():
    detections = [(t, [_face(60, 100)]) for t in _samples(4)]
    assert _plan(detections, 4, "1:1") == [(0.0, 0)]
    detections = [(t, [_face(1250, 100)]) for t in _samples(4)]
    assert _plan(detections, 4, "1:1") == [(0.0, W - crop_box(W, H, "1:1")[0])]


def test_odd_source_width_still_gives_even_offsets():
    detections = [(t, [_face(1270, 100)]) for t in _samples(3)]
    keyframes = plan_crop_path(detections, src_w=1279, src_h=719, aspect="9:16", duration=3)
    crop_w = crop_box(1279, 719, "9:16")[0]
    assert all(x % 2 == 0 and x + crop_w <= 1279 for _, x in keyframes)


def test_a_source_narrower_than_the_target_never_moves():
    keyframes = plan_crop_path([(0.0, [_face(100, 50)])], src_w=360, src_h=640, aspect="9:16", duration=3)
    assert keyframes == [(0.0, 0)]


def test_sendcmd_emits_one_line_per_change_at_frame_times():
    script = sendcmd_script([(0.0, 100), (1.0, 100), (1.2, 120), (3.0, 120)], 25)
    lines = script.splitlines()
    assert lines[0] == "0.000 crop@reframe x 100;"
    assert lines[-1].endswith("crop@reframe x 120;")
    times = [float(line.split()[0]) for line in lines]
    assert times == sorted(times) and all(abs(t * 25 - round(t * 25)) < 0.03 for t in times)
    assert len(lines) == 1 + 5  # 100 -> 120 in 2 px steps over 5 frames (0.2 s at 25 fps)


def test_sendcmd_renders_a_cut_as_one_jump():
    script = sendcmd_script([(0.0, 100), (2.0, 100), (2.0, 600), (4.0, 600)], 25)
    assert script == "0.000 crop@reframe x 100;\n2.000 crop@reframe x 600;\n"


def test_sendcmd_times_never_land_after_their_frame():
    script = sendcmd_script([(0.0, 0), (1.0, 200)], 30000 / 1001)
    for line in script.splitlines():
        t = float(line.split()[0])
        frame = round(t * 30000 / 1001)
        assert t <= frame * 1001 / 30000 + 1e-9


@pytest.mark.parametrize("fps", [0, -1])
def test_sendcmd_rejects_a_bad_frame_rate(fps):
    with pytest.raises(ValueError):
        sendcmd_script([(0.0, 0)], fps)


# The active speaker: two people in a wide two-shot, far apart (a cut between them).
LEFT, RIGHT = 250, 1030


def _two_shot(speaking, *, nodding_right=False, seconds=12.0, fps=3.0):
    """Sightings of two faces; ``speaking(t)`` is "L", "R" or None and moves that face's mouth.
    A nodding right face bobs up and down (its box moves) while its mouth stays still."""
    out = []
    for t in _samples(seconds, fps):
        who = speaking(t)
        bob = 30 * math.sin(t * 6) if nodding_right else 0
        mouths = [0.25 if who == "L" else 0.02, 0.25 if who == "R" else 0.03]
        out.append(Sighting(t, [_face(LEFT, 150), _face(RIGHT, 150, 300 + bob)], mouths))
    return out


def _holding(xs, face_x, size=150):
    return [x <= face_x - size / 2 and face_x + size / 2 <= x + CROP_W for x in xs]


def test_the_crop_follows_whoever_speaks_and_switches_at_the_turn():
    # Sentences: L 0.3-2.8, L 3.1-5.6, R 6.0-8.6, L 9.0-11.5.
    speech = [(0.3, 2.8), (3.1, 5.6), (6.0, 8.6), (9.0, 11.5)]
    turn = {0: "L", 1: "L", 2: "R", 3: "L"}

    def speaking(t):
        return next((turn[n] for n, (a, b) in enumerate(speech) if a <= t <= b), None)

    keyframes = plan_crop_path(_two_shot(speaking), src_w=W, src_h=H, aspect="9:16", duration=12, speech=speech)
    xs = _per_frame(keyframes, 12)
    moves = [f / FPS for f, (a, b) in enumerate(zip(xs, xs[1:])) if a != b]
    assert len(moves) == 2  # two cuts, no pans between faces 780 px apart
    assert 5.6 <= moves[0] <= 6.0 and 8.6 <= moves[1] <= 9.0  # at the turns, just before the first word
    assert all(_holding(xs[: round(5.7 * FPS)], LEFT)) and all(_holding(xs[round(6 * FPS):round(8.7 * FPS)], RIGHT))
    assert all(_holding(xs[round(9 * FPS):], LEFT))


def test_a_silent_face_that_nods_does_not_take_the_shot():
    speech = [(0.5, 4.0), (4.4, 8.0), (8.3, 11.8)]
    keyframes = plan_crop_path(_two_shot(lambda t: "L" if any(a <= t <= b for a, b in speech) else None,
                                         nodding_right=True),
                               src_w=W, src_h=H, aspect="9:16", duration=12, speech=speech)
    assert len(keyframes) == 1 and _holding([keyframes[0][1]], LEFT)[0]


def test_mouth_motion_without_speech_counts_for_nothing():
    # The right face "talks" (chews, mouths along) while nobody is heard: the left one speaks.
    speech = [(0.5, 3.5), (7.5, 11.0)]

    def speaking(t):
        return "L" if any(a <= t <= b for a, b in speech) else "R"

    keyframes = plan_crop_path(_two_shot(speaking), src_w=W, src_h=H, aspect="9:16", duration=12, speech=speech)
    assert len(keyframes) == 1 and _holding([keyframes[0][1]], LEFT)[0]


def test_a_short_interjection_does_not_cut_away():
    speech = [(0.3, 4.0), (4.3, 4.8), (5.1, 11.0)]  # "Right." from the right face in the middle

    def speaking(t):
        return "R" if 4.3 <= t <= 4.8 else ("L" if any(a <= t <= b for a, b in speech) else None)

    keyframes = plan_crop_path(_two_shot(speaking, fps=6.0), src_w=W, src_h=H, aspect="9:16", duration=12,
                               speech=speech)
    assert len(keyframes) == 1 and _holding([keyframes[0][1]], LEFT)[0]


def test_without_speech_the_bigger_face_is_followed_as_before():
    detections = [Sighting(t, [_face(LEFT, 120), _face(RIGHT, 200)], [0.3, 0.0]) for t in _samples(8)]
    keyframes = plan_crop_path(detections, src_w=W, src_h=H, aspect="9:16", duration=8)
    assert len(keyframes) == 1 and _holding([keyframes[0][1]], RIGHT, 200)[0]


def test_sendcmd_caps_each_frame_step_except_at_a_cut():
    # A pan at 8 px per frame, capped to 6; then a cut of 500 px that stays a cut.
    keyframes = [(0.0, 0), (1.0, 200), (1.0, 700), (2.0, 700)]
    script = sendcmd_script(keyframes, 25, max_step=6)
    xs = [int(line.split()[3].rstrip(";")) for line in script.splitlines()]
    steps = [b - a for a, b in zip(xs, xs[1:])]
    assert max(steps[:-1]) <= 6 and steps[-1] >= 400 and xs[-1] == 700
    assert max_frame_step(1920) == 8 and max_frame_step(1280) == 6 and max_frame_step(200) == 2


def test_keyframe_index_is_read_only_from_a_sound_mp4_index():
    """Where no index says where the keyframes are, the analysis must decode every frame from an
    exact seek: anything but an ISO BMFF file with a video track's sync-sample table is None."""
    import io
    import struct

    from chalicelib.domain.keyframes import keyframe_times

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    def full(kind: bytes, payload: bytes) -> bytes:
        return box(kind, b"\0\0\0\0" + payload)

    def movie(handler: bytes, stss: bytes | None) -> bytes:
        stts = full(b"stts", struct.pack(">III", 1, 10, 1000))  # 10 samples of 1000 ticks
        tables = stts + (full(b"stss", stss) if stss is not None else b"")
        mdhd = full(b"mdhd", struct.pack(">IIIIHH", 0, 0, 25000, 10000, 0, 0))  # 25000 ticks a second
        hdlr = full(b"hdlr", struct.pack(">I4s", 0, handler) + b"\0" * 12)
        trak = box(b"trak", box(b"mdia", mdhd + hdlr + box(b"minf", box(b"stbl", tables))))
        return box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", trak)

    keyed = struct.pack(">III", 2, 1, 6)  # samples 1 and 6 are keyframes
    assert keyframe_times(io.BytesIO(movie(b"vide", keyed))) == [0.0, 0.2]
    assert keyframe_times(io.BytesIO(movie(b"soun", keyed))) is None  # no video track
    assert keyframe_times(io.BytesIO(movie(b"vide", None))) is None  # every frame a keyframe
    assert keyframe_times(io.BytesIO(b"\x1a\x45\xdf\xa3" + b"\0" * 60)) is None  # Matroska
    assert keyframe_times(io.BytesIO(movie(b"vide", struct.pack(">II", 3, 1))[:-3])) is None  # truncated
    assert keyframe_times(io.BytesIO(b"")) is None
