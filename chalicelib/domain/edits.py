"""Edits of a clip by its user: new boundaries snapped to words, corrected words. Pure.

Boundaries move either way anywhere in the source. A boundary that falls inside a word takes
the whole word (a clip never opens or ends inside one); one in a pause takes the next word
(start) or the previous one (end). The cut then leaves ``LEAD_SECONDS`` of room around the
speech, but never more than half the pause to the neighbouring word, as the selection's cuts do.
Without words (no speech) the boundaries stay where they were asked for, inside the source.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.cuts import LEAD_SECONDS
from chalicelib.domain.languages import word_separator
from chalicelib.domain.transcript import Transcript, Word, segment_of

MIN_SECONDS, MAX_SECONDS = 5.0, 180.0  # the API's clip lengths


class EditRejected(ValueError):
    """An edit the clip cannot take; ``field`` is the request field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    first_word: int | None = None  # indexes into the transcript's words; None without speech
    last_word: int | None = None


def snap(words: list[Word], start: float, end: float, duration: float) -> Span:
    """[start, end) moved onto word boundaries with room around the speech (see the module)."""
    if not 0 <= start < duration:
        raise EditRejected("startSeconds", f"{start:g} s is outside the video (0-{duration:.2f} s)")
    if not 0 < end <= duration + 1e-6:
        raise EditRejected("endSeconds", f"{end:g} s is outside the video (0-{duration:.2f} s)")
    if end <= start:
        raise EditRejected("endSeconds", f"must be after startSeconds ({end:g} <= {start:g})")
    # A boundary inside a word takes the whole word.
    first = next((k for k, w in enumerate(words) if w.end > start), None)
    last = next((k for k in range(len(words) - 1, -1, -1) if words[k].start < end), None)
    if first is None or last is None or last < first:
        span = Span(round(start, 3), round(min(end, duration), 3))
    else:
        a, b = words[first], words[last]
        room_before = (a.start - words[first - 1].end) / 2 if first else a.start
        room_after = (words[last + 1].start - b.end) / 2 if last + 1 < len(words) else duration - b.end
        new_start = max(0.0, a.start - min(LEAD_SECONDS, max(0.0, room_before)))
        new_end = min(duration, b.end + min(LEAD_SECONDS, max(0.0, room_after)))
        span = Span(round(new_start, 3), round(new_end, 3), first, last)
    length = span.end - span.start
    if length < MIN_SECONDS - 1e-6 or length > MAX_SECONDS + 1e-6:
        raise EditRejected(
            "endSeconds", f"the clip would be {length:.1f} s long on word boundaries "
            f"({span.start:g}-{span.end:g} s); clips are {MIN_SECONDS:g}-{MAX_SECONDS:g} s")
    return span


def correct(transcript: Transcript, corrections: dict[int, str]) -> Transcript:
    """The transcript with the words at these indexes replaced (their timings kept)."""
    words = list(transcript.words)
    for index, text in corrections.items():
        words[index] = replace(words[index], text=text)
    sep = word_separator(transcript.language)
    segments = [segment_of(words, s.first_word, s.last_word, sep) for s in transcript.segments]
    return Transcript(transcript.language, transcript.duration, words, segments)
