"""Choosing the clips worth posting from a transcript (the local, non-LLM selector).

Candidates are runs of whole sentences, so a clip never starts or ends inside a word; each is
scored 0-100 on speech density, sentence completeness, an opening hook and overlap with the
user's instructions, then picked greedily without overlaps. Videos without speech fall back to
the loudest windows spread across the video. Pure: no I/O.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chalicelib.domain.transcript import Segment, Transcript, Word, ends_sentence, segment_of, sentences
from chalicelib.errors import PipelineError

MARGIN_SECONDS = 0.15  # silence kept around the speech so the first/last syllable isn't clipped
TITLE_MAX_CHARS = 70
_SILENT_DB = -100.0

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SUFFIXES = ("ings", "ing", "ers", "ed", "es", "er", "e", "s", "ly")
_STOPWORDS = frozenset(
    """a an the and or but so if then than of to in on at by for with from about as into over
    is are was were be been being am do does did done have has had it its it's this that these those
    there here i me my we our you your he she they them their his her what which who whom when where
    why how not no yes just very really can could would should will may might must also too more most
    some any all each every get got make made like want find show clip clips moment moments part parts
    video videos focus talk talks talking thing things something anything please""".split()
)
_HOOK_STEMS = frozenset(
    "secret mistak never always best worst important surpris truth actual imagin remember wrong "
    "hardest easiest biggest why how".split()
)
_FILLERS = frozenset("and so but now well okay ok um uh then also like".split())


@dataclass
class ClipChoice:
    start: float
    end: float
    title: str
    score: float
    reason: str


def select_clips(
    transcript: Transcript,
    *,
    duration: float,
    max_clips: int,
    min_duration: float,
    max_duration: float,
    instructions: str | None = None,
    energy: list[float] | None = None,
) -> list[ClipChoice]:
    """Up to ``max_clips`` non-overlapping clips in timeline order.

    ``energy`` is the per-second loudness in dBFS, used only when there is no speech.
    """
    if not 0 < min_duration <= max_duration or max_clips < 1:
        raise ValueError("need 0 < min_duration <= max_duration and max_clips >= 1")
    if duration < min_duration:
        raise PipelineError(
            "video_too_short",
            f"The video is {duration:.1f} seconds long, shorter than minDuration ({min_duration:g} seconds).",
        )
    words = transcript.words
    if not words:
        return _loudness_highlights(duration, max_clips, min_duration, energy)
    units = [piece for seg in transcript.segments or sentences(words) for piece in _split_long(words, seg, max_duration)]
    ranker = _Ranker(words, units, duration, _keywords(instructions))
    candidates = ranker.candidates(min_duration, max_duration, every_end=True)
    if not candidates:
        # Sentences that cannot be combined into [min, max] (e.g. 25 s sentences for 30-40 s
        # clips): fall back to any word boundary, longest run per start word to stay linear.
        ranker = _Ranker(words, [segment_of(words, k, k + 1) for k in range(len(words))], duration, ranker.keywords)
        candidates = ranker.candidates(min_duration, max_duration, every_end=False)
    chosen: list[_Candidate] = []
    for cand in sorted(candidates, key=lambda c: (-c.score, c.start)):
        if all(cand.end <= o.start or cand.start >= o.end for o in chosen):
            chosen.append(cand)
            if len(chosen) == max_clips:
                break
    return [ranker.choice(c) for c in sorted(chosen, key=lambda c: c.start)]


@dataclass
class _Candidate:
    score: float
    start: float
    end: float
    first: int  # unit indices, inclusive
    last: int
    density: float
    complete: float
    hook: float
    matched: list[str]


class _Ranker:
    """Per-unit prefix sums so each candidate run is scored in O(keywords)."""

    def __init__(self, words: list[Word], units: list[Segment], duration: float, keywords: dict[str, str]):
        self.words, self.units, self.duration, self.keywords = words, units, duration, keywords
        self.speech = [0.0]  # cumulative spoken seconds before unit k
        self.hits = {stem: [0] for stem in keywords}
        self.questions = [0]  # cumulative count of units ending in "?"
        self.on_topic = [0]  # cumulative count of units mentioning any instruction keyword
        self.ends_ok, self.question, self.hooked = [], [], []
        for u in units:
            unit_words = words[u.first_word : u.last_word]
            self.speech.append(self.speech[-1] + sum(w.end - w.start for w in unit_words))
            stems = [_stem(t) for w in unit_words for t in _TOKEN.findall(w.text.lower())]
            for stem, cum in self.hits.items():
                cum.append(cum[-1] + stems.count(stem))
            self.on_topic.append(self.on_topic[-1] + any(s in self.hits for s in stems))
            self.ends_ok.append(ends_sentence(unit_words[-1].text))
            self.question.append(unit_words[-1].text.rstrip("\"')]}”’»").endswith("?"))
            self.questions.append(self.questions[-1] + self.question[-1])
            self.hooked.append(any(s in _HOOK_STEMS for s in stems))

    def candidates(self, min_d: float, max_d: float, *, every_end: bool) -> list[_Candidate]:
        units, out, last = self.units, [], 0
        for i, first_unit in enumerate(units):
            last = max(last, i)
            while last + 1 < len(units) and units[last + 1].end - first_unit.start <= max_d:
                last += 1
            ends = range(i, last + 1) if every_end else (last,)
            for j in ends:
                cand = self._candidate(i, j, min_d, max_d)
                if cand:
                    out.append(cand)
        return out

    def _candidate(self, i: int, j: int, min_d: float, max_d: float) -> _Candidate | None:
        # Transcriber and probe may disagree by a few ms about where the media ends.
        words, s, e = self.words, max(0.0, self.units[i].start), min(self.units[j].end, self.duration)
        span = e - s
        if not 0 < span <= max_d:
            return None
        first, last = self.units[i].first_word, self.units[j].last_word
        # Silence available on each side, up to the neighbouring words (never into them).
        room_l = max(0.0, s - (words[first - 1].end if first else 0.0))
        room_r = max(0.0, min(words[last].start if last < len(words) else self.duration, self.duration) - e)
        need = min_d - span  # > 0: widen into silence to reach min_duration
        if need > room_l + room_r:
            return None
        left = min(room_l, max(MARGIN_SECONDS, need / 2))
        right = min(room_r, max(MARGIN_SECONDS, need - left))
        left = min(room_l, max(left, need - right))
        if span + left + right > max_d:
            scale = (max_d - span) / (left + right)
            left, right = left * scale, right * scale
        start, end = s - left, e + right

        density = min(1.0, (self.speech[j + 1] - self.speech[i]) / (end - start))
        complete = 0.5 * (i == 0 or self.ends_ok[i - 1]) + 0.5 * self.ends_ok[j]
        hook = 1.0 if self.question[i] else 0.6 if self.hooked[i] else 0.4 if self.questions[j + 1] > self.questions[i] else 0.0
        matched = [kw for stem, kw in self.keywords.items() if self.hits[stem][j + 1] > self.hits[stem][i]]
        if self.keywords:
            # Coverage of the keywords, focus and opening on them: a clip that mentions them once
            # on its way into another topic ranks below one that starts on them and stays there.
            coverage = len(matched) / len(self.keywords)
            focus = min(1.0, 3 * (self.on_topic[j + 1] - self.on_topic[i]) / (j + 1 - i))
            opens = self.on_topic[i + 1] > self.on_topic[i]
            score = 20 * density + 20 * complete + 10 * hook + 50 * (0.3 * coverage + 0.4 * focus + 0.3 * opens)
        else:
            score = 40 * density + 35 * complete + 25 * hook
        return _Candidate(round(score, 1), start, end, i, j, density, complete, hook, matched)

    def choice(self, c: _Candidate) -> ClipChoice:
        texts = [u.text for u in self.units[c.first : c.last + 1]]
        reasons = [f"{c.density:.0%} speech"]
        reasons.append("complete sentences" if c.complete == 1 else "partial sentences")
        if c.hook:
            reasons.append({1.0: "opens with a question", 0.6: "opens with a hook"}.get(c.hook, "asks a question"))
        if c.matched:
            reasons.append("matches " + ", ".join(c.matched))
        return ClipChoice(round(c.start, 3), round(c.end, 3), _title(texts, c.start), c.score, "; ".join(reasons))


def _split_long(words: list[Word], seg: Segment, max_d: float) -> list[Segment]:
    """``seg`` cut at its largest pauses between words until each piece fits ``max_d``."""
    done: list[Segment] = []
    todo = [(seg.first_word, seg.last_word)]
    while todo:
        a, b = todo.pop()
        if b - a == 1 or words[b - 1].end - words[a].start <= max_d:
            done.append(segment_of(words, a, b))
            continue
        mid = (a + b) / 2  # ties go to the middle, so equal pauses still split in halves
        cut = max(range(a + 1, b), key=lambda k: (words[k].start - words[k - 1].end, -abs(k - mid)))
        todo += [(cut, b), (a, cut)]
    return done


def _stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def _keywords(instructions: str | None) -> dict[str, str]:
    """Stem -> the instruction word it came from, for the content words of ``instructions``."""
    out: dict[str, str] = {}
    for token in _TOKEN.findall((instructions or "").lower()):
        if token not in _STOPWORDS and (len(token) > 2 or token.isdigit()):
            out.setdefault(_stem(token), token)
    return out


def _title(texts: list[str], start: float) -> str:
    """The first strong sentence, shortened on a word boundary to TITLE_MAX_CHARS."""
    strong = next((t for t in texts if len(t.split()) >= (3 if t.endswith("?") else 5)), max(texts, key=len))
    words = strong.split()
    while len(words) > 1 and words[0].lower().strip(",.;:") in _FILLERS:
        words.pop(0)
    title = " ".join(words).rstrip(".,;:")
    if len(title) > TITLE_MAX_CHARS:
        kept: list[str] = []
        for w in words:
            if len(" ".join([*kept, w])) + 1 > TITLE_MAX_CHARS:
                break
            kept.append(w)
        title = " ".join(kept).rstrip(".,;:-") + "…" if kept else ""
    return title[:1].upper() + title[1:] if title else f"Clip at {_clock(start)}"


def _clock(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _loudness_highlights(duration: float, max_clips: int, length: float, energy: list[float] | None) -> list[ClipChoice]:
    """No speech: one window of ``length`` per equal section of the video, at its loudest."""
    count = max(1, min(max_clips, int(duration // length)))
    section = duration / count
    levels = [max(_SILENT_DB, x) for x in energy or []]  # max() also maps NaN and -inf to silence
    cum = [0.0]
    for x in levels:
        cum.append(cum[-1] + x)
    n = max(1, math.ceil(length))
    out = []
    for k in range(count):
        lo, latest = k * section, k * section + section - length
        best: tuple[float, float] | None = None  # (mean dB, start)
        for s in (lo, *range(math.ceil(lo), math.floor(latest) + 1)):
            first = int(s)
            covered = min(first + n, len(levels)) - first
            if covered > 0:
                mean = (cum[first + covered] - cum[first]) / covered
                if best is None or mean > best[0]:
                    best = (mean, float(s))
        if best is None:
            start = lo + (latest - lo) / 2
            out.append(ClipChoice(round(start, 3), round(start + length, 3), f"Highlight at {_clock(start)}", 0.0,
                                  "no speech and no audio levels; evenly spaced"))
        else:
            mean, start = best
            score = round(50 * max(0.0, min(1.0, (mean + 60) / 50)), 1)
            out.append(ClipChoice(round(start, 3), round(start + length, 3), f"Highlight at {_clock(start)}", score,
                                  f"no speech; loudest part of this stretch ({mean:.0f} dBFS)"))
    return out
