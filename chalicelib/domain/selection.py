"""Choosing the clips worth posting from a transcript (the local ranker).

A candidate is a run of whole sentences that opens on a sentence able to stand alone (not "and
...", "that's why ...", nor the answer to a question it leaves out), closes on a finished one,
stays inside one topic section, and is trimmed to the speech with a small margin, never inside a
word. Each is scored 0-100 from its opening hook, self-containedness, speech density, laughter
and emotion cues, topical coherence and, when the user asked for a topic, its relevance to it.
Clips are then picked greedily, penalising candidates near one already chosen, and returned in
timeline order. When no candidate meets the rules they are relaxed step by step (topic sections,
then sentence boundaries, then any word boundary) rather than returning nothing.

The semantic signals come from the caller so this module stays pure (no I/O, no numpy):
``relevance`` (per sentence of ``sentence_units``, similarity to the instructions' topic) and
``cohesion`` (how strongly a run of sentences holds together, for finding topic changes).
Videos without speech fall back to the loudest windows spread across the video.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from chalicelib.domain import messages
from chalicelib.domain.instructions import Request, parse as parse_instructions
from chalicelib.domain.lexicon import (
    CLOSERS,
    ENGLISH,
    NEUTRAL,
    QUESTION_MARKS,
    SENTENCE_INITIAL,
    STYLE_WORDS,
    Lexicon,
    guess_language,
    is_unspaced,
    lexicon,
    normalise_code,
    words as lexicon_words,
)
from chalicelib.domain.messages import reason as reason_line, say
from chalicelib.domain.posting import Line, Vocabulary, compose, doubted_words
from chalicelib.domain.titles import (
    STAGE_DIRECTIONS,
    TITLE_MAX_CHARS,
    tidy_description,
    tidy_title,
    title_and_description,
)
from chalicelib.domain.transcript import (
    SENTENCE_PAUSE_SECONDS,
    Segment,
    Transcript,
    Word,
    ends_sentence,
    segment_of,
    sentences,
)
from chalicelib.errors import PipelineError

__all__ = [
    "MARGIN_SECONDS", "TITLE_MAX_CHARS", "Candidate", "ClipChoice", "Pick", "Ranking", "instruction_avoid",
    "instruction_topic",
    "needs_multilingual", "rank_clips", "resolve_language", "sentence_units", "topic_sections",
]

MARGIN_SECONDS = 0.3  # lead-in and tail of room sound kept around the speech (at most half the pause to a neighbour)
# Cohesion a split must gain to count as a topic change. With unit-length sentence embeddings a
# run's cohesion grows about linearly inside a topic and only with the square root across topics;
# measured on the five-topic fixture, 1-2 finds exactly the topic changes.
TOPIC_PENALTY = 1.5
SHORTLIST = 24  # candidates offered to an LLM selector
ANSWER_GAP_SECONDS = 2.5  # a sentence this soon after a question is its answer, not an opener
NEIGHBOUR_GUARD = 0.05  # seconds of a pause never given to a clip next to the neighbouring word
MAX_PADDING = 1.0  # seconds of silence a clip may be widened by to reach min_duration before it is a last resort
_SILENT_DB = -100.0

Cohesion = Callable[[int, int], float]

# English tokens and stems, as the selector always had them (other languages: lexicon.Lexicon).
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_stem = ENGLISH.stem
_CASED_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_WEIGHTS = {"hook": 0.30, "contained": 0.25, "density": 0.20, "emotion": 0.15, "coherence": 0.10}


@dataclass
class ClipChoice:
    start: float
    end: float
    title: str
    score: float
    reason: str
    description: str = ""
    hashtags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A clip on the shortlist an LLM selector chooses from (non-overlapping, timeline order)."""

    index: int
    start: float
    end: float
    text: str
    score: float
    reason: str
    title: str
    description: str
    hashtags: tuple[str, ...] = ()
    unsure: frozenset[str] = frozenset()  # words (lower case) the transcriber doubted, said nowhere surely in it


@dataclass(frozen=True)
class Pick:
    """An external selector's choice of one shortlisted candidate."""

    index: int
    title: str = ""
    description: str = ""
    score: float | None = None
    reason: str = ""
    hashtags: tuple[str, ...] = ()  # words without '#', validated by ``Ranking.hashtags``


@dataclass
class Ranking:
    choices: list[ClipChoice]  # the local ranker's pick, timeline order
    candidates: list[Candidate]  # a wider non-overlapping shortlist for an LLM selector
    max_clips: int
    duration: float
    language: str | None = "en"  # the transcript's language (None: unknown), for tidying external titles
    notes: list[str] = field(default_factory=list)  # why fewer clips than asked, what was not found

    def from_picks(self, picks: list[Pick]) -> list[ClipChoice]:
        """Turn an external selector's picks into clips; ValueError (saying why) if they are unusable."""
        if not 1 <= len(picks) <= self.max_clips:
            raise ValueError(f"{len(picks)} picks, expected 1 to {self.max_clips}")
        seen: set[int] = set()
        out = []
        lex = lexicon(self.language)
        for p in picks:
            if not 0 <= p.index < len(self.candidates):
                raise ValueError(f"pick {p.index} is not a candidate (0-{len(self.candidates) - 1})")
            if p.index in seen:
                raise ValueError(f"candidate {p.index} picked twice")
            seen.add(p.index)
            c = self.candidates[p.index]
            if not 0 <= c.start < c.end <= self.duration + 1e-3:
                raise ValueError(f"candidate {p.index} lies outside the video")
            score = c.score if p.score is None else p.score
            if not 0 <= score <= 100:
                raise ValueError(f"score {score} for candidate {p.index} is outside 0-100")
            title = tidy_title(p.title, lex) if p.title.strip() else ""
            description = tidy_description(p.description, lex) if p.description.strip() else ""
            # An external title must name what the clip is about and be in its language; else ours.
            said = {lex.stem(t) for t in lex.keyword_tokens(c.text)}
            if title and (not {lex.stem(t) for t in lex.keyword_tokens(title)} & said
                          or guess_language(title) not in (None, self.language) or _doubted(title, c.unsure)):
                title = ""
            if description and (guess_language(description) not in (None, self.language)
                                or _doubted(description, c.unsure)):
                description = ""
            # Reasons follow the video's language too (messages.py); a reason in another is ours instead.
            reason = p.reason.strip()[:300]
            if reason and guess_language(reason) not in (None, messages.language_of(self.language)):
                reason = ""
            out.append(ClipChoice(c.start, c.end, title or c.title, round(float(score), 1),
                                  reason or c.reason, description or c.description,
                                  self.hashtags(p.hashtags, c.text, c.unsure) or list(c.hashtags)))
        out.sort(key=lambda c: c.start)
        for a, b in itertools.pairwise(out):
            if b.start < a.end:
                raise ValueError(f"picks overlap at {b.start:.1f} s")
        return out


    def hashtags(self, tags: Sequence[str], said: str, unsure: frozenset[str] = frozenset()) -> list[str]:
        """An external selector's hashtags as ours ("#Tomatoes"), or [] when they are not 3-5 single
        words (a leading '#' is allowed, none inside, no spaces), not in the clip's language (no
        stop word of it, no other language told by them, most of them said in the clip) or one is
        a word the transcriber doubted (``unsure``)."""
        lex = lexicon(self.language)
        words = [t.strip().removeprefix("#") for t in tags]
        if not 3 <= len(words) <= 5 or len({w.lower() for w in words}) != len(words):
            return []
        if not all(_HASHTAG_WORD.fullmatch(w) and len(w) <= 30 and not lex.is_stopword(w.lower()) for w in words):
            return []
        if guess_language(" ".join(words)) not in (None, self.language) or any(
                w.lower() in unsure for w in words):
            return []
        stems = {lex.stem(t) for t in lex.terms(said)}
        if 2 * sum(lex.stem(w.lower()) in stems for w in words) < len(words):
            return []
        return ["#" + w[:1].upper() + w[1:] for w in words]


_HASHTAG_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")


def sentence_units(transcript: Transcript) -> list[Segment]:
    """The sentences ``relevance`` and ``cohesion`` are indexed by."""
    return transcript.segments or sentences(transcript.words)


def resolve_language(transcript: Transcript, language: str | None = None) -> str | None:
    """The video's language code: ``language`` if given, else the transcript's, else a guess from
    its words among the languages with word lists; None when it cannot be told."""
    code = normalise_code(language) or normalise_code(transcript.language)
    return code or guess_language(w.text for w in transcript.words[:5000])


def instruction_topic(instructions: str | None, language: str | None = "en") -> str:
    """The topic part of the user's instructions (content words, no style or meta words): what the
    caller should embed to score relevance. Empty when the instructions only ask for a style.

    Stop words are those of the video's ``language`` (None: unknown, so none) and of the language
    the instructions themselves are written in, when that can be told. What the instructions
    exclude ("nothing about space") is not part of it: see ``instruction_avoid``."""
    return _topic_words(parse_instructions(instructions).topic_text, instructions, language)


def instruction_avoid(instructions: str | None, language: str | None = "en") -> str:
    """The topic the instructions exclude ("nothing about space training" -> "space training")."""
    return _topic_words(parse_instructions(instructions).avoid_text, instructions, language)


def _topic_words(text: str, instructions: str | None, language: str | None) -> str:
    said_in = guess_language(instructions or "")
    lexicons = {lexicon(code) for code in (normalise_code(language), said_in) if code} | {NEUTRAL}
    kept = [t for t in _CASED_TOKEN.findall(text)
            if not any(lex.is_stopword(t.lower()) for lex in lexicons) and t.lower() not in STYLE_WORDS
            and (len(t) > 2 or t.isdigit() or t.isupper() or is_unspaced(t))]
    return " ".join(kept)


def needs_multilingual(language: str | None, instructions: str | None) -> bool:
    """Whether matching needs a multilingual embedding model: anything but English instructions
    (or none) on an English video."""
    return not (normalise_code(language) == "en" and guess_language(instructions or "") in (None, "en"))


def topic_sections(count: int, cohesion: Cohesion, penalty: float = TOPIC_PENALTY) -> list[int]:
    """Section number of each of ``count`` sentences: the partition maximising total cohesion minus
    ``penalty`` per section, solved exactly by dynamic programming. ``cohesion(a, b)`` rates the
    sentences a..b-1 together; with unit-length sentence embeddings, the length of their sum (the
    sum of their cosines to the group's mean direction). That is subadditive, so PELT pruning
    (Killick et al. 2012) is exact and keeps the work near linear."""
    if count == 0:
        return []
    best, back, live = [0.0] * (count + 1), [0] * (count + 1), [0]
    for b in range(1, count + 1):
        scored = [(best[a] + cohesion(a, b), a) for a in live]
        top, back[b] = max(scored)
        best[b] = top - penalty
        live = [a for value, a in scored if value > best[b]] + [b]
    cuts, b = [], count
    while b:
        cuts.append(back[b])
        b = back[b]
    out, section = [], 0
    starts = set(cuts)
    for k in range(count):
        if k and k in starts:
            section += 1
        out.append(section)
    return out


def rank_clips(
    transcript: Transcript,
    *,
    duration: float,
    max_clips: int,
    min_duration: float,
    max_duration: float,
    instructions: str | None = None,
    energy: list[float] | None = None,
    relevance: list[float] | None = None,
    cohesion: Cohesion | None = None,
    language: str | None = None,
    avoidance: list[float] | None = None,
) -> Ranking:
    """The local ranking: its choices and a shortlist for an external selector.

    ``energy`` is the per-second loudness in dBFS, used only when there is no speech.
    ``relevance`` and ``cohesion`` are indexed by ``sentence_units(transcript)``; without them
    instructions are matched by keywords and topic sections by shared words.
    ``language`` overrides the transcript's (see ``resolve_language``): the rules use that
    language's word lists, or only language-neutral signals for a language without them.
    ``avoidance`` (like ``relevance``) rates each sentence against what the instructions exclude.

    Instructions are obeyed with their limits: an exclusive one ("only ...") keeps only clips
    inside the sections on its topic, however few; an excluded topic ("nothing about ...") and
    a skipped intro are never in a clip; with a topic named, no clip crosses a topic change.
    ``Ranking.notes`` says why fewer clips than ``max_clips`` come back.
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
        choices = _loudness_highlights(duration, max_clips, min_duration, energy)
        return Ranking(choices, [], max_clips, duration, normalise_code(language or transcript.language))
    code = resolve_language(transcript, language)
    lex = lexicon(code)
    sents = sentence_units(transcript)
    if relevance is not None and len(relevance) != len(sents):
        raise ValueError(f"{len(relevance)} relevance scores for {len(sents)} sentences")
    request = parse_instructions(instructions)
    signals = _Signals(words, sents, request, relevance, cohesion, lex, avoidance)
    units = [piece for seg in sents for piece in _split_long(words, seg, max_duration)]
    ranker = _Ranker(words, units, duration, signals)
    candidates = [c for c in ranker.candidates(min_duration, max_duration, every_end=True) if ranker.allowed(c)]
    if any(c.tier < 2 for c in candidates):
        # Fewer clips rather than clips that start or end mid-thought.
        candidates = [c for c in candidates if c.tier < 2]
    if not candidates:
        # Sentences that cannot be combined into [min, max] (e.g. 25 s sentences for 30-40 s
        # clips): fall back to any word boundary, longest run per start word to stay linear.
        ranker = _Ranker(words, [segment_of(words, k, k + 1) for k in range(len(words))], duration, signals)
        candidates = [c for c in ranker.candidates(min_duration, max_duration, every_end=False) if ranker.allowed(c)]
    # With a topic asked for, several clips from its section are what the user wants.
    spread = 0.1 if signals.topic_weight else 0.4
    reach = max(max_duration, duration / (2 * max_clips))
    picked = _pick(candidates, max(max_clips, SHORTLIST), spread, reach)
    choices = sorted((ranker.choice(c) for c in picked[:max_clips]), key=lambda c: c.start)
    shortlist = sorted(picked, key=lambda c: c.start)
    return Ranking(
        choices,
        [_candidate(k, c, ranker) for k, c in enumerate(shortlist)],
        max_clips,
        duration,
        code,
        _notes(signals, picked[:max_clips], max_clips, min_duration, max_duration),
    )


def _notes(signals: _Signals, picked: list[_Candidate], max_clips: int, min_d: float, max_d: float) -> list[str]:
    """Short sentences for the user, in the video's language: why fewer clips than asked, what the
    instructions found."""
    notes, n, request, code = [], len(picked), signals.request, signals.lex.code
    topic = signals.phrase(request.topic_text, signals.keywords)
    avoid = signals.phrase(request.avoid_text, signals.avoid_keywords)
    lengths = f"{min_d:g}-{max_d:g} s"
    absent = bool(topic) and signals.strength < 0.5
    if absent:
        notes.append(say("topic_absent_none" if request.exclusive else "topic_absent_strongest", code, topic=topic))
    if n < max_clips and not (absent and request.exclusive):
        passages = "passage" if n <= 1 else "passages"
        if request.exclusive and topic:
            what = say("passages_about", code, passages=passages, topic=topic)
        elif request.exclusive and "humour" in request.styles:
            what = say("passages_funny", code, passages=passages)
        else:
            what = say("passages_whole", code, passages=passages)
        limits = [say("without", code, topic=avoid) if avoid else "",
                  say("after_intro", code) if request.skip_intro else ""]
        what += "".join(" " + x for x in limits if x)
        fields = {"n": n, "what": what, "What": what[:1].upper() + what[1:], "lengths": lengths,
                  "verb": "is" if n == 1 else "are"}
        notes.append(say("only_some" if n else "only_none", code, **fields))
    if "humour" in request.styles and picked and not any(c.laughs for c in picked):
        notes.append(say("no_laughter_found", code))
    return notes


def _candidate(k: int, c: _Candidate, ranker: _Ranker) -> Candidate:
    reason, title, description, hashtags = ranker.describe(c)
    start, end = _rounded(c)
    return Candidate(k, start, end, ranker.text(c), c.score, reason, title, description, hashtags, ranker.unsure(c))


def _doubted(text: str, unsure: frozenset[str]) -> bool:
    """Whether an external title or description uses a word the transcriber doubted (the model
    reads the transcript as heard, "lactec" and all)."""
    return bool(unsure) and any(w in unsure for w in lexicon_words(text))


def _rounded(c: _Candidate) -> tuple[float, float]:
    return round(c.start, 3), round(c.end, 3)


class _Signals:
    """Per-sentence signals: relevance to the instructions (0-1), topic section, requested style,
    and which sentences no clip may hold (an excluded topic, the skipped intro, or, for an
    exclusive instruction, everything outside the sections on its topic)."""

    def __init__(self, words: list[Word], sents: list[Segment], request: Request,
                 relevance: list[float] | None, cohesion: Cohesion | None, lex: Lexicon,
                 avoidance: list[float] | None = None):
        self.lex, self.request = lex, request
        self.styles = set(request.styles)
        self.keywords = self._keywords(request.topic_text)  # stem -> instruction word
        self.avoid_keywords = self._keywords(request.avoid_text)
        self.sentence_of_word = [0] * len(words)
        for k, s in enumerate(sents):
            self.sentence_of_word[s.first_word : s.last_word] = [k] * (s.last_word - s.first_word)
        self.sections = topic_sections(len(sents), cohesion or _LexicalCohesion([s.text for s in sents], lex))
        self.relevance = [0.0] * len(sents)
        self.section_relevance: dict[int, float] = {}
        self.topic_weight = self.strength = 0.0
        self.blocked = [False] * len(sents)
        stems = [self.stems(s.text) for s in sents] if self.keywords or self.avoid_keywords else []
        if self.keywords:
            self.relevance, self.strength, self.section_relevance = self._match(self.keywords, stems, relevance)
            self.topic_weight = 0.65 * self.strength
            if request.exclusive:
                # Only the sections that dwell on the topic; none when the video never discusses it.
                top = max(self.section_relevance.values(), default=0.0)
                kept = {s for s, v in self.section_relevance.items() if v >= max(0.3, 0.5 * top)}
                if self.strength < 0.5:
                    kept = set()
                self.blocked = [self.sections[k] not in kept for k in range(len(sents))]
                # A section found a sentence too early must not pull in its neighbour's closing
                # line: each kept section runs from its first sentence on the topic (topics open
                # by naming themselves) to its end; with keywords alone, which few sentences name,
                # a last sentence naming none is left out too.
                for section in kept:
                    members = [k for k in range(len(sents)) if self.sections[k] == section]
                    on = [k for k in members if self.relevance[k] >= (0.3 if relevance is not None else 1e-9)]
                    last = members[-1] if relevance is not None or not on else max(on[-1], members[-1] - 1)
                    for k in members:
                        self.blocked[k] = not on or not on[0] <= k <= last
        if self.avoid_keywords:
            avoid, strength, by_section = self._match(self.avoid_keywords, stems, avoidance, any_keyword=True)
            if strength >= 0.5:
                # A sentence on the excluded topic, or any in a section about it (by keywords, which
                # few of its sentences name: the section naming it most, or nearly as much).
                top = max(by_section.values())
                floor = 0.5 if avoidance is not None else max(0.3, 0.6 * top)
                self.blocked = [b or a >= 0.6 or by_section[self.sections[k]] >= floor
                                for k, (b, a) in enumerate(zip(self.blocked, avoid))]
        if request.skip_intro and sents:
            # The intro: the first topic section when the video has others and it is short (at
            # most 30% of the speech), else the first 10% of the speech (30 s at most).
            spoken = sents[-1].end - sents[0].start
            first_section = [k for k in range(len(sents)) if self.sections[k] == 0]
            intro_end = sents[first_section[-1]].end
            if len(first_section) == len(sents) or intro_end - sents[0].start > 0.3 * spoken:
                intro_end = sents[0].start + min(30.0, 0.1 * spoken)
            self.blocked = [b or s.start < intro_end for b, s in zip(self.blocked, sents)]

    def _keywords(self, text: str) -> dict[str, str]:
        # Stemmed as the video's language stems, so "volcanoes" still finds "volcanes".
        out: dict[str, str] = {}
        for token in self.lex.terms(_topic_words(text, self.request.source, self.lex.code or None)):
            out.setdefault(self.lex.stem(token), token)
        return out

    def _match(self, keywords: dict[str, str], stems: list[set[str]], cosines: list[float] | None,
               any_keyword: bool = False) -> tuple[list[float], float, dict[int, float]]:
        """(relevance of each sentence 0-1, how clearly the topic is present 0-1, each section's
        relevance). ``any_keyword``: one keyword is a full match (what is excluded is excluded whole)."""
        # Rare keywords weigh more: "composting" says more about a sentence than "home".
        weight = {k: 1 / max(1, sum(k in st for st in stems)) for k in keywords}
        total = sum(weight.values())
        lexical = [float(bool(keywords.keys() & st)) if any_keyword else
                   sum(weight[k] for k in keywords.keys() & st) / total for st in stems]
        if cosines is None:
            relevance, strength = lexical, float(any(lexical))
        else:
            # Cosines are on no fixed scale: rank each sentence between the transcript's typical
            # sentence (median) and its closest one; how far the closest stands out says how
            # clearly the topic is present at all.
            ordered = sorted(cosines)
            median, top = ordered[len(ordered) // 2], ordered[-1]
            spread = max(top - median, 1e-9)
            semantic = [min(1.0, max(0.0, (r - median) / spread)) for r in cosines]
            # Exact keyword hits still count: names ("Apollo") can be rare words to a small model.
            relevance = [0.75 * s + 0.25 * x for s, x in zip(semantic, lexical)]
            # Measured with wordllama on the fixture: topics present stand 0.25-0.85 above the
            # median, absent ones ("cryptocurrency", "politics") 0.1-0.2.
            strength = max(min(1.0, max(0.0, (top - median - 0.1) / 0.15)), float(any(lexical)))
        # A section's relevance: its three most relevant sentences, so a topic named once in
        # passing elsewhere does not outrank the stretch that dwells on it.
        by_section: dict[int, list[float]] = {}
        for k, r in enumerate(relevance):
            by_section.setdefault(self.sections[k], []).append(r)
        return relevance, strength, {s: sum(sorted(v)[-3:]) / min(3, len(v)) for s, v in by_section.items()}

    def phrase(self, text: str, keywords: dict[str, str]) -> str:
        """The words of ``text`` from its first keyword to its last ("saving for retirement")."""
        tokens = text.split()
        hits = [k for k, t in enumerate(tokens) if self.stems(t) & keywords.keys()]
        return " ".join(tokens[hits[0] : hits[-1] + 1]).strip(" ,.;:!?") if hits else ", ".join(keywords.values())

    def stems(self, text: str) -> set[str]:
        return {self.lex.stem(t) for t in self.lex.terms(text)}


class _LexicalCohesion:
    """``cohesion`` without embeddings: the same measure over bag-of-stems sentence vectors (the
    lexical cohesion of TextTiling). Sparse sums are kept per run start and extended as the run
    grows, which is the order in which ``topic_sections`` asks."""

    def __init__(self, texts: list[str], lex: Lexicon = ENGLISH):
        self.vectors = []
        for text in texts:
            counts: dict[str, float] = {}
            for t in lex.keyword_tokens(text):
                stem = lex.stem(t)
                counts[stem] = counts.get(stem, 0.0) + 1
            norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
            self.vectors.append({k: v / norm for k, v in counts.items()})
        self.runs: dict[int, tuple[int, dict[str, float], float]] = {}

    def __call__(self, a: int, b: int) -> float:
        upto, sums, square = self.runs.get(a, (a, {}, 0.0))
        if upto > b:
            upto, sums, square = a, {}, 0.0
        for vector in self.vectors[upto:b]:
            for k, x in vector.items():
                old = sums.get(k, 0.0)
                sums[k] = old + x
                square += 2 * old * x + x * x
        self.runs[a] = (b, sums, square)
        return math.sqrt(max(square, 0.0))


@dataclass(slots=True)
class _Candidate:
    score: float
    tier: int  # 0: meets every rule; 1: spans a topic change; 2: starts or ends mid-thought
    start: float
    end: float
    first: int  # unit indices, inclusive
    last: int
    section: int
    density: float
    hook: float
    contained: float
    emotion: float
    laughs: bool
    coherent: bool
    relevant: float


class _Ranker:
    """Per-unit features and prefix sums, so each candidate run is scored in O(1)."""

    def __init__(self, words: list[Word], units: list[Segment], duration: float, signals: _Signals):
        self.words, self.units, self.duration, self.signals = words, units, duration, signals
        n = len(units)
        sent = [signals.sentence_of_word[u.first_word] for u in units]
        self.section = [signals.sections[s] for s in sent]
        self.blocked = [0]
        for s in sent:
            self.blocked.append(self.blocked[-1] + signals.blocked[s])
        self.rel = [signals.relevance[s] for s in sent]
        gaps = [units[k + 1].start - units[k].end for k in range(n - 1)] + [math.inf]
        self.finished = [ends_sentence(words[u.last_word - 1].text) or gaps[k] >= SENTENCE_PAUSE_SECONDS
                         for k, u in enumerate(units)]
        lex = signals.lex
        texts = [u.text.lower() for u in units]
        tokens_of = [words_of(STAGE_DIRECTIONS.sub(" ", text), lex) for text in texts]
        self.question = [_is_question(words[u.last_word - 1].text, texts[k], tokens_of[k], lex)
                         for k, u in enumerate(units)]
        self.opens, self.continues, self.hook = [], [], []
        self.speech, self.rel_time, self.humour_sum, self.emotion_sum = [0.0], [0.0], [0.0], [0.0]
        for k, u in enumerate(units):
            text, tokens = texts[k], tokens_of[k]
            starts_sentence = k == 0 or self.finished[k - 1]
            answers = k > 0 and self.question[k - 1] and gaps[k - 1] < ANSWER_GAP_SECONDS and not self.question[k]
            # Italian "perché" is "because" and "why": a question it opens leans on nothing.
            continues = lex.opener_in(tokens, lex.continuations) and not (
                self.question[k] and lex.opener_in(tokens, lex.question_words))
            self.continues.append(continues)
            # A stage direction alone ("[laughter]") is a reaction, not an opening.
            self.opens.append(bool(tokens) and starts_sentence and not answers
                              and not continues and not lex.opener_in(tokens, lex.dependent))
            claim = lex.hook is not None and lex.hook.search(text)
            cues = 1.0 if self.question[k] else 0.8 if claim else 0.5 if lex.numbers.search(text) else 0.0
            self.hook.append(cues)
            humour = 1.0 if lex.laughter.search(text) else 0.5 if any(t in lex.humour for t in tokens) else 0.0
            emotion = min(1.0, 0.4 * (text.count("!") + text.count("\uff01"))
                          + 0.3 * sum(t in lex.sentiment for t in tokens))
            spoken = sum(w.end - w.start for w in words[u.first_word : u.last_word])
            self.speech.append(self.speech[-1] + spoken)
            self.rel_time.append(self.rel_time[-1] + spoken * self.rel[k])
            self.humour_sum.append(self.humour_sum[-1] + humour)
            self.emotion_sum.append(self.emotion_sum[-1] + emotion)
        weights = dict(_WEIGHTS)
        if signals.styles & {"humour", "emotion"}:
            weights["emotion"] = 0.45
        if "hook" in signals.styles:
            weights["hook"] = 0.45
        total = sum(weights.values())
        self.weights = {k: v / total for k, v in weights.items()}
        self.humour_factor = 2.0 if "humour" in signals.styles else 1.0
        self.vocabulary = Vocabulary([u.text for u in units], lex)  # as said: capitals mark names

    def candidates(self, min_d: float, max_d: float, *, every_end: bool) -> list[_Candidate]:
        units, out, last = self.units, [], 0
        for i, first_unit in enumerate(units):
            last = max(last, i)
            while last + 1 < len(units) and units[last + 1].end - first_unit.start <= max_d:
                last += 1
            ends = range(i, last + 1) if every_end else (last,)
            top_rel = 0.0
            for j in range(i, last + 1):
                top_rel = max(top_rel, self.rel[j])
                if j in ends:
                    cand = self._candidate(i, j, min_d, max_d, top_rel)
                    if cand:
                        out.append(cand)
        return out

    def _candidate(self, i: int, j: int, min_d: float, max_d: float, top_rel: float) -> _Candidate | None:
        # Transcriber and probe may disagree by a few ms about where the media ends.
        words, s, e = self.words, max(0.0, self.units[i].start), min(self.units[j].end, self.duration)
        span = e - s
        if not 0 < span <= max_d:
            return None
        first, last = self.units[i].first_word, self.units[j].last_word
        # Silence available on each side, up to the neighbouring words (never into them, and not
        # up to their very edge: word timings are approximate and an onset must not leak in).
        room_l = max(0.0, s - (words[first - 1].end + NEIGHBOUR_GUARD if first else 0.0))
        room_r = max(0.0, min(words[last].start - NEIGHBOUR_GUARD if last < len(words) else self.duration,
                              self.duration) - e)
        need = min_d - span  # > 0: widen into silence to reach min_duration
        if need > room_l + room_r:
            return None
        if need <= 0:
            # Half the pause to a neighbouring word at most, so back-to-back clips never overlap.
            left = min(MARGIN_SECONDS, room_l / 2 if first else room_l)
            right = min(MARGIN_SECONDS, room_r / 2 if last < len(words) else room_r)
        else:
            left = min(room_l, max(MARGIN_SECONDS, need / 2))
            right = min(room_r, max(MARGIN_SECONDS, need - left))
            left = min(room_l, max(left, need - right))
        if span + left + right > max_d:
            scale = (max_d - span) / (left + right)
            left, right = left * scale, right * scale
        start, end = s - left, e + right

        n = len(self.units)
        density = min(1.0, (self.speech[j + 1] - self.speech[i]) / (end - start))
        opens = self.opens[i]
        closes = self.finished[j]
        start_part = 1.0 if opens else 0.3 if i == 0 or self.finished[i - 1] else 0.0
        end_part = float(closes) - 0.5 * (self.question[j] and j + 1 < n) - 0.5 * (j + 1 < n and self.continues[j + 1])
        contained = (start_part + max(0.0, end_part)) / 2
        hook = max(self.hook[i], 0.5 * self.hook[i + 1] if j > i else 0.0) * (1.0 if opens else 0.5)
        laughs = self.humour_sum[j + 1] > self.humour_sum[i]
        cue_sum = self.humour_factor * (self.humour_sum[j + 1] - self.humour_sum[i]) + (
            self.emotion_sum[j + 1] - self.emotion_sum[i])
        emotion = min(1.0, cue_sum / 1.5)
        coherent = self.section[i] == self.section[j]
        w = self.weights
        quality = (w["hook"] * hook + w["contained"] * contained + w["density"] * min(1.0, density / 0.85)
                   + w["emotion"] * emotion + w["coherence"] * coherent)
        relevant = 0.0
        topic_weight = self.signals.topic_weight
        if topic_weight:
            spoken = self.speech[j + 1] - self.speech[i]
            mean_rel = (self.rel_time[j + 1] - self.rel_time[i]) / spoken if spoken > 0 else 0.0
            # Opening on the topic, reaching its most relevant line, and staying on it.
            relevant = 0.4 * self.rel[i] + 0.3 * top_rel + 0.3 * mean_rel
            relevant = 0.6 * relevant + 0.4 * self.signals.section_relevance[self.section[i]]
        score = 100 * ((1 - topic_weight) * quality + topic_weight * relevant)
        # Padding a short run with silence to reach min_duration is dead air: a last resort.
        tier = 2 if need > MAX_PADDING or not (opens and closes) else 0 if coherent else 1
        return _Candidate(round(score, 1), tier, start, end, i, j, self.section[i], density, hook, contained,
                          emotion, laughs, coherent, relevant)

    def allowed(self, c: _Candidate) -> bool:
        """Whether the instructions allow ``c``: nothing excluded in it; inside one topic section
        when they name a topic; with laughter or jokes when they ask only for funny moments."""
        signals = self.signals
        if self.blocked[c.last + 1] > self.blocked[c.first]:
            return False
        if signals.keywords and signals.strength >= 0.5 and not c.coherent:
            return False
        return not (signals.request.exclusive and not signals.keywords and "humour" in signals.styles
                    and not c.laughs)

    def text(self, c: _Candidate) -> str:
        return " ".join(u.text for u in self.units[c.first : c.last + 1])

    def describe(self, c: _Candidate) -> tuple[str, str, str, tuple[str, ...]]:
        """(reason, title, description, hashtags) for a candidate."""
        lines = [Line(self.words[u.first_word : u.last_word], self.hook[k])
                 for k, u in enumerate(self.units[c.first : c.last + 1], start=c.first)]
        context = [u.text for u in self.units[max(0, c.first - 4) : c.first] + self.units[c.last + 1 : c.last + 5]]
        post = compose(lines, self.vocabulary, context)
        title, description = post.title, post.description
        if not title:  # nothing sure and distinctive to say: the clip's own words, as before
            title, description = title_and_description([line.text for line in lines],
                                                       self.hook[c.first : c.last + 1], self.signals.lex)
        return self._reason(c), title or f"Clip at {_clock(c.start)}", description, tuple(post.hashtags)

    def unsure(self, c: _Candidate) -> frozenset[str]:
        """The words of ``c`` the transcriber doubted (``posting.doubted_words``)."""
        lex = self.signals.lex
        return doubted_words([self.words[u.first_word : u.last_word] for u in self.units[c.first : c.last + 1]], lex)

    def choice(self, c: _Candidate) -> ClipChoice:
        reason, title, description, hashtags = self.describe(c)
        return ClipChoice(*_rounded(c), title, c.score, reason, description, list(hashtags))

    def _reason(self, c: _Candidate) -> str:
        """How the clip relates to the instructions and why it is good, in the video's language."""
        parts = []
        request, code = self.signals.request, self.signals.lex.code
        if self.signals.keywords and self.signals.strength < 0.5:
            parts.append(say("no_topic_match", code))
        elif self.signals.keywords:
            matched = sorted({kw for stem, kw in self.signals.keywords.items()
                              if any(stem in self.signals.stems(u.text)
                                     for u in self.units[c.first : c.last + 1])})
            named = f" ({', '.join(matched)})" if matched else ""
            if c.relevant >= 0.4 or request.exclusive:  # exclusive: it lies inside a section on the topic
                parts.append(say("on_topic", code, named=named))
            elif matched or c.relevant >= 0.15:  # near the topic without naming it: it touches it still
                parts.append(say("touches_topic", code, named=named))
            else:
                parts.append(say("little_on_topic", code))
        if c.hook >= 1:
            parts.append(say("opens_question", code))
        elif c.hook >= 0.8:
            parts.append(say("opens_claim", code))
        elif c.hook >= 0.5:
            parts.append(say("opens_number", code))
        if c.laughs:
            parts.append(say("laughter_as_asked" if "humour" in self.signals.styles else "laughter", code))
        elif c.emotion >= 0.3:
            parts.append(say("emotional", code))
        if "humour" in self.signals.styles and not c.laughs:
            parts.append(say("no_laughter_here", code))
        if self.signals.avoid_keywords:
            avoided = self.signals.phrase(request.avoid_text, self.signals.avoid_keywords)
            parts.append(say("nothing_about", code, topic=avoided))
        if request.skip_intro:
            parts.append(say("after_intro", code))
        if c.contained == 1:
            parts.append(say("complete", code))
        elif not self.opens[c.first]:
            parts.append(say("starts_mid", code))
        else:
            parts.append(say("ends_on_question" if self.question[c.last] else "ends_mid", code))
        if not c.coherent:
            parts.append(say("spans_topic_change", code))
        parts.append(say("speech_share", code, percent=round(100 * c.density)))
        return reason_line(parts)


def _pick(cands: list[_Candidate], k: int, spread: float, reach: float) -> list[_Candidate]:
    """Greedy: each step takes the best candidate of the strictest tier that still has one not
    overlapping those taken, its score discounted by up to ``spread`` for sitting near (or in
    the same topic section as) one already taken."""
    order = sorted(cands, key=lambda c: (c.tier, -c.score, c.start, -c.end))
    chosen: list[_Candidate] = []
    while len(chosen) < k:
        best, best_value = None, -1.0
        for c in order:
            if best is not None and (c.tier > best.tier or c.score <= best_value):
                break  # sorted: nothing further can beat it
            if any(c.start < o.end and o.start < c.end for o in chosen):
                continue
            near = max(
                (max(0.6 * (c.section == o.section), math.exp(-max(o.start - c.end, c.start - o.end, 0.0) / reach))
                 for o in chosen),
                default=0.0,
            )
            value = c.score * (1 - spread * near)
            if best is None or value > best_value:
                best, best_value = c, value
        if best is None:
            break
        chosen.append(best)
    return chosen


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


def words_of(text: str, lex: Lexicon) -> list[str]:
    """Lower-cased words of ``text`` with the language's opening fillers ("um", "bueno") dropped."""
    tokens = lexicon_words(text)
    while len(tokens) > 1 and tokens[0] in lex.fillers:
        tokens.pop(0)
    return tokens


def _is_question(last_word: str, text: str, tokens: list[str], lex: Lexicon) -> bool:
    """Ends on a question mark, opens on "¿", or (left unpunctuated) opens on a question word."""
    bare = last_word.rstrip(CLOSERS)
    if bare.endswith(QUESTION_MARKS) or text.lstrip().startswith(SENTENCE_INITIAL[0]):
        return True
    return not ends_sentence(last_word) and lex.opener_in(tokens, lex.question_words)


def _clock(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _loudness_highlights(
    duration: float, max_clips: int, length: float, energy: list[float] | None
) -> list[ClipChoice]:
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
        title = f"Highlight at {_clock(best[1] if best else lo + (latest - lo) / 2)}"
        if best is None:
            start = lo + (latest - lo) / 2
            out.append(ClipChoice(round(start, 3), round(start + length, 3), title, 0.0,
                                  "no speech and no audio levels; evenly spaced",
                                  f"A {length:g} s moment from {_clock(start)}; the video has no speech."))
        else:
            mean, start = best
            score = round(50 * max(0.0, min(1.0, (mean + 60) / 50)), 1)
            out.append(ClipChoice(round(start, 3), round(start + length, 3), title, score,
                                  f"no speech; loudest part of this stretch ({mean:.0f} dBFS)",
                                  f"The loudest {length:g} s between {_clock(lo)} and {_clock(lo + section)}; "
                                  "the video has no speech."))
    return out
