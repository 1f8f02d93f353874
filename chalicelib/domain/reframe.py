"""AI reframe, the pure part: from face detections over a clip, plan where a 9:16 or 1:1 crop
window sits over time, and write that plan as an ffmpeg ``sendcmd`` script.

The plan is offline (the whole clip's detections are known) and behaves like a camera operator:
it follows one subject, holds still while that face stays near the middle of the crop, pans
with bounded speed and acceleration when it leaves, and switches subject only after another
face has clearly dominated for a while. Without any face the crop stays centred.

With two or more people in the picture the subject is whoever speaks: each sentence of the
transcript (voice activity) is given to the face whose mouth moved most while it was said, and
the crop switches at the start of a speaker's turn, never inside a sentence. Mouth motion
outside speech counts for nothing, so a silent face that nods or turns never takes the shot.
"""
from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from chalicelib.domain.media import crop_box

Box = tuple[int, int, int, int]  # x, y, w, h in source pixels
Keyframe = tuple[float, int]  # (seconds from clip start, left edge of the crop)
Span = tuple[float, float]  # (start, end) in seconds from the clip start


class Sighting(NamedTuple):
    """One sampled frame: its time (seconds from the clip start), the faces in it, and for each
    face how much its mouth moved just then (0 when not measured)."""

    t: float
    faces: list[Box]
    mouths: Sequence[float] = ()


# (t, faces) pairs are accepted too: a detector that measures no mouths.
Detections = Sequence[Sighting | tuple[float, list[Box]]]

STEP_SECONDS = 0.1  # planner tick; sendcmd_script interpolates keyframes to the frame rate
TRACK_GAP_SECONDS = 1.0  # a face missed for longer than this starts a new track
SCORE_WINDOW_SECONDS = 1.0  # subject score: face area x presence over this window
# Samples may come sparser than SCORE_WINDOW_SECONDS allows for (the face analysis samples
# only keyframes, every 1-2 s, while one person or nobody is in view): a window then spans at
# least this many samples, so presence is still judged on more than one sighting, and a
# face is still followed across the gap between two samples (TRACK_GAP_SAMPLES gaps; it may
# move its own width per REACH_SECONDS).
WINDOW_SAMPLES = 3
TRACK_GAP_SAMPLES = 1.5
REACH_SECONDS = 0.35
SWITCH_MARGIN = 1.3  # a challenger must score this much more than the subject...
SWITCH_HOLD_SECONDS = 1.0  # ...for this long before the crop moves to it
LOST_HOLD_SECONDS = 0.5  # the hold when the subject has left (or the source cut away)
DEAD_ZONE = 0.30  # fraction of the crop width, centred, inside which the face may move freely
SETTLE_FRACTION = 0.04  # a pan ends once the crop is this close (x crop width) to its goal
FACE_SMOOTHING_SECONDS = 0.3  # time constant of the (zero-lag) low-pass on the face centre
MAX_SPEED = 0.12  # source widths per second: ~0.5% of the width a frame at 24 fps (sendcmd_script caps it)
MAX_ACCEL = 0.7  # source widths per second squared
# The active speaker: a sentence goes to the face whose mouth moved most while it was said,
# when that face's motion is at least MOUTH_FLOOR (still lips measure ~0.02, speech ~0.15 and
# up) and SPEAKER_MARGIN times the next face's. A turn shorter than MIN_TURN_SECONDS (a "yes"
# from the other side) does not take the shot; the cut comes TURN_LEAD_SECONDS before the
# turn's first word, as an editor cuts on the breath.
MOUTH_FLOOR = 0.06
SPEAKER_MARGIN = 1.5
MIN_TURN_SECONDS = 1.5
TURN_LEAD_SECONDS = 0.2


@dataclass
class _Track:
    boxes: dict[float, Box] = field(default_factory=dict)
    mouths: dict[float, float] = field(default_factory=dict)
    last_t: float = 0.0

    @property
    def last(self) -> Box:
        return self.boxes[self.last_t]


def plan_crop_path(
    detections: Detections,
    *,
    src_w: int,
    src_h: int,
    aspect: str,
    duration: float,
    speech: Sequence[Span] = (),
) -> list[Keyframe]:
    """Keyframes (t, x) of the crop's left edge, x even and inside the frame, t from 0 to
    ``duration``; x is linear between keyframes, and two keyframes at one t are a cut. One
    keyframe when the crop never moves. ``speech`` is when someone speaks (the transcript's
    sentences, clip time): with it and measured mouths, the crop follows the active speaker."""
    crop_w, _, centre_x, _ = crop_box(src_w, src_h, aspect)
    max_x = (src_w - crop_w) // 2 * 2  # even, like every x we emit (yuv420p chroma)
    samples = _sightings(detections, duration)
    if max_x <= 0 or not any(s.faces for s in samples):
        return [(0.0, centre_x)]

    tracks = _tracks(samples)
    sampled = times = [s.t for s in samples]
    segments = _subject_centres(tracks, times, _speaker_turns(tracks, times, speech))
    if not segments:
        return [(0.0, centre_x)]

    speed, accel = MAX_SPEED * src_w, MAX_ACCEL * src_w
    dead_half, settle = DEAD_ZONE * crop_w / 2, SETTLE_FRACTION * crop_w
    steps = max(1, math.ceil(duration / STEP_SECONDS - 1e-9))
    times = [min(i * STEP_SECONDS, duration) for i in range(steps + 1)]
    faces, starts = _face_path(segments, times, sampled)
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


def plan_split(
    detections: Detections,
    *,
    src_w: int,
    src_h: int,
    panel_w: int,
    panel_h: int,
    duration: float,
    speech: Sequence[Span] = (),
) -> list[Box] | None:
    """The ``split`` layout: two source boxes (x, y, w, h), top panel then bottom, each of the
    panel's shape and framing one of the two main people: the two seen longest (more than
    half the clip each), or with three or more, the two whose mouths moved most in speech.
    The left one goes on top. None when there are not two people to stack.

    Each box is at least the panel's size (nothing is scaled up) and about three face heights
    tall, the face a little above the middle, as a mid shot is framed. The boxes stay still:
    two stacked moving crops would be restless to watch."""
    samples = _sightings(detections, duration)
    if not samples:
        return None
    people = _people(samples)
    if len(people) < 2:
        return None
    voiced = [s.t for s in samples if any(a <= s.t <= b for a, b in speech)]
    if len(people) > 2 and voiced:
        people.sort(key=lambda p: -sum(m for t, _, m in p if t in voiced))
    main = sorted(people[:2], key=lambda p: _median([_centre(b)[0] for _, b, _ in p]))
    return [_panel_box([b for _, b, _ in person], src_w, src_h, panel_w, panel_h) for person in main]


def _people(samples: list[Sighting]) -> list[list[tuple[float, Box, float]]]:
    """Sightings grouped by person: faces whose centres stay in one column of the frame (a
    face width either side), present in more than half the samples; most present first."""
    columns: list[list[tuple[float, Box, float]]] = []
    for t, faces, mouths in samples:
        for box, mouth in zip(faces, mouths):
            x = _centre(box)[0]
            home = next((c for c in columns if abs(_median([_centre(b)[0] for _, b, _ in c]) - x) < box[2]), None)
            if home is None:
                columns.append([(t, box, mouth)])
            else:
                home.append((t, box, mouth))
    present = [c for c in columns if 2 * len({t for t, _, _ in c}) > len(samples)]
    return sorted(present, key=lambda c: -len(c))


def _panel_box(boxes: list[Box], src_w: int, src_h: int, panel_w: int, panel_h: int) -> Box:
    face_x = _median([_centre(b)[0] for b in boxes])
    face_y = _median([_centre(b)[1] for b in boxes])
    face_h = _median([b[3] for b in boxes])
    h = min(float(src_h), max(float(panel_h), 3.0 * face_h))
    w = h * panel_w / panel_h
    if w > src_w:
        w, h = float(src_w), src_w * panel_h / panel_w
    w_even, h_even = int(w) // 2 * 2, int(h) // 2 * 2
    x = _even(face_x - w_even / 2, src_w - w_even)
    y = _even(face_y - 0.42 * h_even, src_h - h_even)
    return x, y, w_even, h_even


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def sendcmd_script(keyframes: list[Keyframe], fps: float, max_step: int | None = None) -> str:
    """An ffmpeg ``sendcmd`` file moving ``crop@reframe`` along ``keyframes``: x interpolated
    at every output frame, one line only where it changes, so a still crop is a single line.
    ``max_step`` caps the move from one frame to the next (cuts aside): rounding x to even
    pixels would otherwise let a pan at top speed step 2 px further now and then."""
    if not keyframes:
        raise ValueError("sendcmd_script needs at least one keyframe")
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    keyframes = sorted(keyframes, key=lambda k: k[0])  # stable: a cut is two keyframes at one time
    times = [t for t, _ in keyframes]
    cuts = [a for a, b in itertools.pairwise(times) if a == b]
    end = times[-1]
    lines: list[str] = []
    last_x: int | None = None
    for frame in range(math.floor(end * fps + 1e-6) + 1):
        t = frame / fps
        x = _interpolate(keyframes, times, t)
        if last_x is not None and max_step is not None and not any(t - 1 / fps < c <= t + 1e-9 for c in cuts):
            x = min(max(x, last_x - max_step), last_x + max_step)
        if x != last_x:
            # Rounded down to the millisecond: a command stamped after its frame's time would
            # only apply from the next frame on.
            lines.append(f"{math.floor(t * 1000 + 1e-6) / 1000:.3f} crop@reframe x {x};")
            last_x = x
    return "\n".join(lines) + "\n"


def crop_x_at(keyframes: list[Keyframe], t: float) -> int:
    """The crop's left edge at clip time ``t``, as the render applies the path (even, linear
    between keyframes)."""
    keyframes = sorted(keyframes, key=lambda k: k[0])
    return _interpolate(keyframes, [k[0] for k in keyframes], t)


def max_frame_step(src_w: int) -> int:
    """The most the crop moves between two frames outside a cut: 0.5% of the source width,
    in even pixels (the crop's x is even)."""
    return max(2, int(0.005 * src_w) // 2 * 2)


def _sightings(detections: Detections, duration: float) -> list[Sighting]:
    out = []
    for d in detections:
        s = Sighting(*d)
        if 0 <= s.t <= duration:
            out.append(s if len(s.mouths) == len(s.faces) else Sighting(s.t, s.faces, [0.0] * len(s.faces)))
    return sorted(out, key=lambda s: s.t)


def _tracks(samples: list[Sighting]) -> list[_Track]:
    """Link detections across samples into tracks: each face joins the live track it overlaps
    most, or whose last centre is within one face width."""
    tracks: list[_Track] = []
    previous = samples[0].t if samples else 0.0
    for t, boxes, mouths in samples:
        gap = max(TRACK_GAP_SECONDS, TRACK_GAP_SAMPLES * (t - previous))
        previous = t
        live = [tr for tr in tracks if t - tr.last_t <= gap]
        pairs = sorted(
            ((_affinity(tr.last, box, t - tr.last_t), n, m)
             for n, tr in enumerate(live) for m, box in enumerate(boxes)),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        for score, n, m in pairs:
            if score <= 0 or n in used_tracks or m in used_boxes:
                continue
            live[n].boxes[t], live[n].mouths[t], live[n].last_t = boxes[m], mouths[m], t
            used_tracks.add(n)
            used_boxes.add(m)
        for m, box in enumerate(boxes):
            if m not in used_boxes:
                tracks.append(_Track({t: box}, {t: mouths[m]}, t))
    return tracks


def _affinity(a: Box, b: Box, dt: float) -> float:
    """> 0 when b, seen ``dt`` seconds after a, plausibly is the same face: IoU, or nearness of
    centres for a face that moved more than its own size would allow to overlap between
    samples (its own width per REACH_SECONDS)."""
    iou = _iou(a, b)
    if iou > 0:
        return 1 + iou
    reach = max(a[2], b[2]) * max(1.0, dt / REACH_SECONDS)
    distance = math.dist(_centre(a), _centre(b))
    size_ratio = max(a[2], b[2]) / max(1, min(a[2], b[2]))
    return 1 - distance / reach if distance < reach and size_ratio < 2 else 0.0


def _subject_centres(
    tracks: list[_Track], times: list[float], turns: list[tuple[float, _Track]]
) -> list[list[tuple[float, float]]]:
    """(t, centre x of the followed face) at each sample where the subject is seen, as one
    list per stretch of following the same subject. ``turns`` (from ``_speaker_turns``) name
    the subject while their speaker is in view; otherwise the most prominent face is."""
    subject: _Track | None = None
    challenger: _Track | None = None
    challenger_since = 0.0
    segments: list[list[tuple[float, float]]] = []
    turn_starts = [start for start, _ in turns]
    for i, t in enumerate(times):
        recent, ahead = _behind(times, i), _ahead(times, i)
        speaker = turns[max(0, bisect.bisect_right(turn_starts, t) - 1)][1] if turns else None
        if speaker is not None and _score(speaker, recent if subject else ahead) > 0:
            # Whoever speaks has the shot, switched at once: turns already hold for a sentence.
            if speaker is not subject:
                subject, challenger = speaker, None
                segments.append([])
        elif subject is None:
            # The plan is offline: start on the face that dominates the coming window, so a
            # false positive in the very first sample is not followed for a second.
            scores = {id(tr): _score(tr, ahead) for tr in tracks if t in tr.boxes}
            if scores and max(scores.values()) > 0:
                subject = next(tr for tr in tracks if id(tr) == max(scores, key=scores.__getitem__))
                segments.append([])
        else:
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


def _speaker_turns(tracks: list[_Track], times: list[float], speech: Sequence[Span]) -> list[tuple[float, _Track]]:
    """(from when, whose shot) for each speaker's turn, when two or more people are in view
    and the mouths tell who speaks. Each sentence goes to the face whose mouth moved clearly
    most while it was said; undecided sentences leave the shot where it was; consecutive
    sentences of one speaker are one turn, and a turn too short to cut to is skipped."""
    confirmed = [tr for tr in tracks if _confirmed(tr, times)]
    if len(confirmed) < 2 or not speech:
        return []
    said: list[tuple[float, float, _Track]] = []
    for start, end in sorted(speech):
        window = times[bisect.bisect_left(times, start):bisect.bisect_right(times, end)]
        motion = []
        for track in confirmed:
            seen = [track.mouths[t] for t in window if t in track.boxes]
            if seen and 2 * len(seen) >= len(window):
                motion.append((sum(seen) / len(seen), track))
        motion.sort(key=lambda m: m[0], reverse=True)
        if not motion:
            continue
        best, runner_up = motion[0][0], motion[1][0] if len(motion) > 1 else 0.0
        if best >= MOUTH_FLOOR and best >= SPEAKER_MARGIN * runner_up:
            if said and said[-1][2] is motion[0][1]:
                said[-1] = (said[-1][0], end, motion[0][1])
            else:
                said.append((start, end, motion[0][1]))
    turns: list[tuple[float, _Track]] = []
    for start, end, track in said:
        if turns and (turns[-1][1] is track or end - start < MIN_TURN_SECONDS):
            continue
        turns.append((max(0.0, start - TURN_LEAD_SECONDS), track))
    return turns


def _confirmed(track: _Track, times: list[float]) -> bool:
    """Seen in more than half the samples of some window (``_ahead``): a person, not a flicker."""
    return any(_score(track, _ahead(times, bisect.bisect_left(times, t))) > 0 for t in track.boxes)


def _behind(times: list[float], i: int) -> list[float]:
    """The samples of the SCORE_WINDOW_SECONDS up to sample i, or its last WINDOW_SAMPLES."""
    first = bisect.bisect_right(times, times[i] - SCORE_WINDOW_SECONDS)
    return times[min(first, max(0, i + 1 - WINDOW_SAMPLES)):i + 1]


def _ahead(times: list[float], i: int) -> list[float]:
    """The samples of the SCORE_WINDOW_SECONDS from sample i on, or its next WINDOW_SAMPLES."""
    last = bisect.bisect_left(times, times[i] + SCORE_WINDOW_SECONDS)
    return times[i:max(last, min(len(times), i + WINDOW_SAMPLES))]


def _score(track: _Track, window: list[float]) -> float:
    """Summed face area over the window's samples, i.e. size times presence; 0 for a face seen
    in half of them or fewer: an isolated detection (a false positive on texture, a face that
    flashes past) never becomes the subject."""
    areas = [track.boxes[s][2] * track.boxes[s][3] for s in window if s in track.boxes]
    return float(sum(areas)) if 2 * len(areas) > len(window) else 0.0


def _face_path(segments: list[list[tuple[float, float]]], times: list[float],
               sampled: Sequence[float]) -> tuple[list[float], set[int]]:
    """The followed face's centre at each tick, smoothed within each subject's stretch (never
    across a switch), and the ticks where a new subject's stretch begins. ``sampled``: the
    times of all samples, faces or not."""
    firsts = [segment[0][0] for segment in segments]
    owner = [max(0, bisect.bisect_right(firsts, t) - 1) for t in times]
    alpha = 1 - math.exp(-STEP_SECONDS / FACE_SMOOTHING_SECONDS)
    faces: list[float] = []
    starts: set[int] = set()
    for n, segment in enumerate(segments):
        ticks = [i for i, o in enumerate(owner) if o == n]
        if ticks:
            faces += _smooth([_face_at(segment, times[i], sampled) for i in ticks], alpha)
            if n:
                starts.add(ticks[0])
    return faces, starts


def _face_at(centres: list[tuple[float, float]], t: float, sampled: Sequence[float]) -> float:
    """Face centre at t: linear between sightings, held before the first and after the last,
    and held across a gap in which samples missed the face."""
    i = bisect.bisect_right(centres, (t, math.inf))
    if i == 0:
        return centres[0][1]
    if i == len(centres):
        return centres[-1][1]
    (t0, x0), (t1, x1) = centres[i - 1], centres[i]
    # Across a long gap (subject off screen, or a switch) hold, then jump at the next sighting;
    # a gap with no sample in it is only sparse sampling: the face moved through it.
    if t1 - t0 > TRACK_GAP_SECONDS:
        between = bisect.bisect_right(sampled, t0 + 1e-6)
        if between < len(sampled) and sampled[between] < t1 - 1e-6:
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
