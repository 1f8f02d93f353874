"""AI reframe, the pure part: from face detections over a clip, plan where a 9:16 or 1:1 crop
window sits over time, and write that plan as an ffmpeg ``sendcmd`` script.

The plan is offline (the whole clip's detections are known) and behaves like a camera operator:
it follows one subject, holds still while that face stays near the middle of the crop, pans
with bounded speed and acceleration when it leaves, and switches subject only after another
face has clearly dominated for a while. Without any face the crop stays centred.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from chalicelib.domain.media import crop_box

Box = tuple[int, int, int, int]  # x, y, w, h in source pixels
Detections = list[tuple[float, list[Box]]]  # (seconds from clip start, faces in that frame)
Keyframe = tuple[float, int]  # (seconds from clip start, left edge of the crop)

STEP_SECONDS = 0.1  # planner tick; sendcmd_script interpolates keyframes to the frame rate
TRACK_GAP_SECONDS = 1.0  # a face missed for longer than this starts a new track
SCORE_WINDOW_SECONDS = 1.0  # subject score: face area x presence over this window
SWITCH_MARGIN = 1.3  # a challenger must score this much more than the subject...
SWITCH_HOLD_SECONDS = 1.0  # ...for this long before the crop moves to it
LOST_HOLD_SECONDS = 0.5  # the hold when the subject has left (or the source cut away)
DEAD_ZONE = 0.30  # fraction of the crop width, centred, inside which the face may move freely
SETTLE_FRACTION = 0.04  # a pan ends once the crop is this close (x crop width) to its goal
FACE_SMOOTHING_SECONDS = 0.3  # time constant of the (zero-lag) low-pass on the face centre
MAX_SPEED = 0.12  # source widths per second: under 0.5% of the width per frame at 24 fps and up
MAX_ACCEL = 0.7  # source widths per second squared


@dataclass
class _Track:
    boxes: dict[float, Box] = field(default_factory=dict)
    last_t: float = 0.0

    @property
    def last(self) -> Box:
        return self.boxes[self.last_t]


def plan_crop_path(
    detections: Detections, *, src_w: int, src_h: int, aspect: str, duration: float
) -> list[Keyframe]:
    """Keyframes (t, x) of the crop's left edge, x even and inside the frame, t from 0 to
    ``duration``; x is linear between keyframes, and two keyframes at one t are a cut. One
    keyframe when the crop never moves."""
    crop_w, _, centre_x, _ = crop_box(src_w, src_h, aspect)
    max_x = (src_w - crop_w) // 2 * 2  # even, like every x we emit (yuv420p chroma)
    samples = sorted((t, boxes) for t, boxes in detections if 0 <= t <= duration)
    if max_x <= 0 or not any(boxes for _, boxes in samples):
        return [(0.0, centre_x)]

    segments = _subject_centres(_tracks(samples), [t for t, _ in samples])
    if not segments:
        return [(0.0, centre_x)]

    speed, accel = MAX_SPEED * src_w, MAX_ACCEL * src_w
    dead_half, settle = DEAD_ZONE * crop_w / 2, SETTLE_FRACTION * crop_w
    steps = max(1, math.ceil(duration / STEP_SECONDS - 1e-9))
    times = [min(i * STEP_SECONDS, duration) for i in range(steps + 1)]
    faces, starts = _face_path(segments, times)
    # Start already framed on the first subject rather than panning in from the centre.
    pos = goal = _clamp(faces[0] - crop_w / 2, max_x)
    velocity, panning = 0.0, False
    points: list[Keyframe] = []
    for i, (t, face) in enumerate(zip(times, faces)):
        if i in starts and abs(_clamp(face - crop_w / 2, max_x) - pos) > crop_w / 2:
            # A new subject far away: cut to it, as an editor would, instead of a long pan
            # across whatever lies between the two (the old and new x share this instant).
            points.append((round(t, 3), _even(pos, max_x)))
            pos = goal = _clamp(face - crop_w / 2, max_x)
            velocity, panning = 0.0, False
        if not panning and abs(face - (pos + crop_w / 2)) > dead_half:
            panning = True
        if panning:
            # Re-centre the face rather than nudging it back to the dead-zone edge, so a
            # moving subject is followed in a few deliberate pans instead of constant creep.
            goal = _clamp(face - crop_w / 2, max_x)
            if abs(goal - pos) < settle and abs(velocity) < speed / 10:
                panning = False
        if i and i not in starts:
            pos, velocity = _approach(pos, velocity, goal, speed, accel, STEP_SECONDS)
            pos = _clamp(pos, max_x)
        points.append((round(t, 3), _even(pos, max_x)))
    return _compress(points)


def sendcmd_script(keyframes: list[Keyframe], fps: float) -> str:
    """An ffmpeg ``sendcmd`` file moving ``crop@reframe`` along ``keyframes``: x interpolated
    at every output frame, one line only where it changes, so a still crop is a single line."""
    if not keyframes:
        raise ValueError("sendcmd_script needs at least one keyframe")
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    keyframes = sorted(keyframes, key=lambda k: k[0])  # stable: a cut is two keyframes at one time
    times = [t for t, _ in keyframes]
    end = times[-1]
    lines: list[str] = []
    last_x = None
    for frame in range(math.floor(end * fps + 1e-6) + 1):
        t = frame / fps
        x = _interpolate(keyframes, times, t)
        if x != last_x:
            # Rounded down to the millisecond: a command stamped after its frame's time would
            # only apply from the next frame on.
            lines.append(f"{math.floor(t * 1000 + 1e-6) / 1000:.3f} crop@reframe x {x};")
            last_x = x
    return "\n".join(lines) + "\n"


def _tracks(samples: Detections) -> list[_Track]:
    """Link detections across samples into tracks: each face joins the live track it overlaps
    most, or whose last centre is within one face width."""
    tracks: list[_Track] = []
    for t, boxes in samples:
        live = [tr for tr in tracks if t - tr.last_t <= TRACK_GAP_SECONDS]
        pairs = sorted(
            ((_affinity(tr.last, box), n, m) for n, tr in enumerate(live) for m, box in enumerate(boxes)),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        for score, n, m in pairs:
            if score <= 0 or n in used_tracks or m in used_boxes:
                continue
            live[n].boxes[t], live[n].last_t = boxes[m], t
            used_tracks.add(n)
            used_boxes.add(m)
        for m, box in enumerate(boxes):
            if m not in used_boxes:
                tracks.append(_Track({t: box}, t))
    return tracks


def _affinity(a: Box, b: Box) -> float:
    """> 0 when b plausibly is the same face as a: IoU, or nearness of centres for a face that
    moved more than its own size would allow to overlap between samples."""
    iou = _iou(a, b)
    if iou > 0:
        return 1 + iou
    reach = max(a[2], b[2])
    distance = math.dist(_centre(a), _centre(b))
    size_ratio = max(a[2], b[2]) / max(1, min(a[2], b[2]))
    return 1 - distance / reach if distance < reach and size_ratio < 2 else 0.0


def _subject_centres(tracks: list[_Track], times: list[float]) -> list[list[tuple[float, float]]]:
    """(t, centre x of the followed face) at each sample where the subject is seen, as one
    list per stretch of following the same subject."""
    subject: _Track | None = None
    challenger: _Track | None = None
    challenger_since = 0.0
    segments: list[list[tuple[float, float]]] = []
    for i, t in enumerate(times):
        if subject is None:
            # The plan is offline: start on the face that dominates the coming window, so a
            # false positive in the very first sample is not followed for a second.
            ahead = times[i:bisect.bisect_left(times, t + SCORE_WINDOW_SECONDS)]
            scores = {id(tr): _score(tr, ahead) for tr in tracks if t in tr.boxes}
            if scores and max(scores.values()) > 0:
                subject = next(tr for tr in tracks if id(tr) == max(scores, key=scores.__getitem__))
                segments.append([])
        else:
            recent = times[bisect.bisect_right(times, t - SCORE_WINDOW_SECONDS):i + 1]
            scores = {id(tr): _score(tr, recent) for tr in tracks}
            best = max(tracks, key=lambda tr: scores[id(tr)])
            if best is not subject and scores[id(best)] > SWITCH_MARGIN * scores[id(subject)]:
                if challenger is not best:
                    challenger, challenger_since = best, t
                # A subject that is gone (not a rival that is bigger) is given up sooner.
                hold = LOST_HOLD_SECONDS if scores[id(subject)] == 0 else SWITCH_HOLD_SECONDS
                if t - challenger_since >= hold:
                    subject, challenger = best, None
                    segments.append([])
            else:
                challenger = None
        if subject is not None and t in subject.boxes:
            segments[-1].append((t, _centre(subject.boxes[t])[0]))
    return [segment for segment in segments if segment]


def _score(track: _Track, window: list[float]) -> float:
    """Summed face area over the window's samples, i.e. size times presence; 0 for a face seen
    in half of them or fewer: an isolated detection (a false positive on texture, a face that
    flashes past) never becomes the subject."""
    areas = [track.boxes[s][2] * track.boxes[s][3] for s in window if s in track.boxes]
    return float(sum(areas)) if 2 * len(areas) > len(window) else 0.0


def _face_path(segments: list[list[tuple[float, float]]], times: list[float]) -> tuple[list[float], set[int]]:
    """The followed face's centre at each tick, smoothed within each subject's stretch (never
    across a switch), and the ticks where a new subject's stretch begins."""
    firsts = [segment[0][0] for segment in segments]
    owner = [max(0, bisect.bisect_right(firsts, t) - 1) for t in times]
    alpha = 1 - math.exp(-STEP_SECONDS / FACE_SMOOTHING_SECONDS)
    faces: list[float] = []
    starts: set[int] = set()
    for n, segment in enumerate(segments):
        ticks = [i for i, o in enumerate(owner) if o == n]
        if ticks:
            faces += _smooth([_face_at(segment, times[i]) for i in ticks], alpha)
            if n:
                starts.add(ticks[0])
    return faces, starts


def _face_at(centres: list[tuple[float, float]], t: float) -> float:
    """Face centre at t: linear between sightings, held before the first and after the last."""
    i = bisect.bisect_right(centres, (t, math.inf))
    if i == 0:
        return centres[0][1]
    if i == len(centres):
        return centres[-1][1]
    (t0, x0), (t1, x1) = centres[i - 1], centres[i]
    # Across a long gap (subject off screen, or a switch) hold, then jump at the next sighting.
    if t1 - t0 > TRACK_GAP_SECONDS:
        return x0
    return x0 + (x1 - x0) * (t - t0) / (t1 - t0)


def _smooth(values: list[float], alpha: float) -> list[float]:
    """Exponential smoothing run forwards then backwards: detector jitter is averaged out
    without the lag a one-way filter adds (the plan is offline, so the future is known)."""
    out = list(values)
    for order in (range(1, len(out)), range(len(out) - 2, -1, -1)):
        for i in order:
            prev = out[i - 1] if order.step > 0 else out[i + 1]
            out[i] = prev + alpha * (out[i] - prev)
    return out


def _approach(pos: float, velocity: float, goal: float, speed: float, accel: float, dt: float) -> tuple[float, float]:
    """One tick of a bounded pan: the wanted velocity is capped by the top speed and by what
    still allows stopping at the goal (v^2 = 2ad), and velocity changes at most accel * dt,
    so the crop eases in, cruises and eases out without overshooting."""
    error = goal - pos
    wanted = math.copysign(min(speed, math.sqrt(2 * accel * abs(error)), abs(error) / dt), error)
    velocity += max(-accel * dt, min(accel * dt, wanted - velocity))
    step = velocity * dt
    # Never step past the goal: a last small overshoot would read as a bounce.
    if abs(step) > abs(error) and step * error > 0:
        return goal, 0.0
    return pos + step, velocity


def _compress(points: list[Keyframe]) -> list[Keyframe]:
    """Drop keyframes that linear interpolation between their neighbours reproduces."""
    if all(x == points[0][1] for _, x in points):
        return [(0.0, points[0][1])]
    kept = [points[0]]
    for prev, cur, nxt in zip(points, points[1:], points[2:]):
        if not (prev[1] == cur[1] == nxt[1]):
            kept.append(cur)
    kept.append(points[-1])
    return kept


def _interpolate(keyframes: list[Keyframe], times: list[float], t: float) -> int:
    i = bisect.bisect_right(times, t)
    if i == 0:
        return keyframes[0][1]
    if i == len(keyframes):
        return keyframes[-1][1]
    (t0, x0), (t1, x1) = keyframes[i - 1], keyframes[i]
    return round((x0 + (x1 - x0) * (t - t0) / (t1 - t0)) / 2) * 2


def _centre(box: Box) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _clamp(x: float, max_x: int) -> float:
    return min(max(x, 0.0), float(max_x))


def _even(x: float, max_x: int) -> int:
    return min(max(round(x / 2) * 2, 0), max_x)
