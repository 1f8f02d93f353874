"""Clean openings and endings measured on the audio, not only on word timings.

Transcribers place word edges within a tenth or two of a second of the sound, sometimes after
the onset (a clip would open inside its first word) and sometimes before the decay ends. Given
the speech audio's level in short frames around a clip's edges, each cut is placed:

- at the start: on the first word's onset as the audio has it (walking back from the
  transcriber's start while the level stays within ``QUIET_DB`` of the speech), then up to
  ``LEAD_SECONDS`` of room before it, but never more than half of the pause (measured on the
  audio) after the previous word, so a clip never opens inside or on the tail of that word;
- at the end: after the last word's decay by the same rule;
- when no pause is within reach (continuous sound), on the quietest frame there.

A clip widened to reach ``min_duration`` keeps that width; none gets longer than ``max_duration``.
Pure: the levels come
from the caller (``Levels``: dBFS per ``FRAME_SECONDS`` frame over a time range).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from chalicelib.domain.transcript import Word

LEAD_SECONDS = 0.3
FRAME_SECONDS = 0.01
QUIET_DB = 15.0  # a cut's level must be this far under the speech level next to it (tested)
SOUND_DB = 35.0  # a word's soft onset or decay still counts as sound down to this far under its speech
_REACH = 0.5  # seconds beyond the word edge an onset or decay may be found

# levels(a, b): dBFS of each FRAME_SECONDS frame from a (inclusive) to b, in order.
Levels = Callable[[float, float], list[float]]


def refine(words: Sequence[Word], start: float, end: float, levels: Levels, *, duration: float,
           max_duration: float, min_duration: float = 0.0) -> tuple[float, float]:
    """(start, end) of a clip spanning ``words`` from ``start`` to ``end``, moved onto quiet audio."""
    inside = [k for k, w in enumerate(words) if w.start >= start - 1e-3 and w.end <= end + 1e-3]
    if not inside:
        return start, end
    new_start = _opening(words, inside[0], levels)
    new_end = _ending(words, inside[-1], levels, duration)
    if new_end - new_start < min_duration:  # the selection widened it to reach minDuration: keep that
        new_start, new_end = min(new_start, start), max(new_end, end)
    # Never longer than allowed: give back the extra room, the end's first.
    excess = (new_end - new_start) - max_duration
    if excess > 0:
        back = min(excess, max(0.0, new_end - end))
        new_end -= back
        new_start += excess - back
    return round(new_start, 3), round(new_end, 3)


def _opening(words: Sequence[Word], k: int, levels: Levels) -> float:
    w = words[k]
    # Look back at most _REACH, and not past the previous word's timed start (its timing, like this
    # one's, may be off: the pause is found on the audio).
    lo = max(words[k - 1].start if k else 0.0, w.start - _REACH, 0.0)
    frames = levels(lo, w.end)
    if not frames:
        return max(lo, w.start - LEAD_SECONDS)
    at = _index(lo)
    quiet = _sound_floor(frames)
    onset = min(max(at(w.start), 0), len(frames) - 1)
    while onset > 0 and frames[onset - 1] > quiet:  # the word's sound began before its timing said
        onset -= 1
    gap = onset
    while gap > 0 and frames[gap - 1] <= quiet:  # back through the pause to the previous sound
        gap -= 1
    if onset == 0 or frames[onset - 1] > quiet:
        # No pause in reach (continuous sound): the quietest frame between the timed words.
        a = min(max(at(words[k - 1].end) if k else 0, 0), len(frames) - 1)
        return lo + min(range(a, max(a + 1, min(at(w.start), len(frames)))), key=lambda i: frames[i]) * FRAME_SECONDS
    reaches_back = (gap == 0 and not k) or (gap == 0 and lo == w.start - _REACH)
    middle = gap if reaches_back else (gap + onset) / 2  # never more than half the pause
    cut = max(middle, onset - LEAD_SECONDS / FRAME_SECONDS)
    return lo + cut * FRAME_SECONDS


def _ending(words: Sequence[Word], k: int, levels: Levels, duration: float) -> float:
    w = words[k]
    hi = min(words[k + 1].end if k + 1 < len(words) else duration, w.end + _REACH, duration)
    frames = levels(w.start, hi)
    if not frames:
        return min(hi, w.end + LEAD_SECONDS)
    at = _index(w.start)
    quiet = _sound_floor(frames)
    last = len(frames) - 1
    decay = min(max(at(w.end) - 1, 0), last)
    while decay < last and frames[decay + 1] > quiet:  # the word's sound goes on after its timing
        decay += 1
    gap = decay + 1
    while gap <= last and frames[gap] <= quiet:  # on through the pause to the next sound
        gap += 1
    if decay >= last:  # no pause in reach (continuous sound): the quietest frame between the timed words
        a = min(at(w.end), last)
        b = min(at(words[k + 1].start) if k + 1 < len(words) else last, last)
        return w.start + min(range(a, max(a, b) + 1), key=lambda i: frames[i]) * FRAME_SECONDS
    reaches_on = gap > last
    middle = gap if reaches_on else (decay + 1 + gap) / 2
    cut = min(middle, decay + 1 + LEAD_SECONDS / FRAME_SECONDS)
    return min(w.start + cut * FRAME_SECONDS, duration)


def _sound_floor(frames: list[float]) -> float:
    """The level above which a frame is sound (a soft onset included), below which it is the room:
    ``SOUND_DB`` under the speech there (its loudest tenth), and at least 10 dB above the room
    (its quietest tenth)."""
    ordered = sorted(frames)
    speech, room = ordered[(9 * len(ordered)) // 10], ordered[len(ordered) // 10]
    return max(room + 10.0, speech - SOUND_DB)


def _index(origin: float) -> Callable[[float], int]:
    return lambda t: round((t - origin) / FRAME_SECONDS)
