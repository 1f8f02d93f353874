"""The normalised transcript: timed words grouped into sentences.

Both transcribers (faster-whisper locally, Amazon Transcribe on AWS) produce this shape, and
it is what the pipeline stores as JSON in S3 and what clip selection reads. Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.languages import from_locale, word_separator
from chalicelib.domain.lexicon import CLOSERS, SENTENCE_FINAL, SENTENCE_INITIAL

FORMAT_VERSION = 1
# A pause this long ends a sentence even without punctuation (unpunctuated or run-on speech).
SENTENCE_PAUSE_SECONDS = 1.2
_FINAL = SENTENCE_FINAL  # . ? ! and the CJK, Arabic and Devanagari marks
_CLOSERS = CLOSERS
# Words ending in "." that rarely end a sentence.
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e.", "approx."}


@dataclass(frozen=True)
class Word:
    text: str  # as spoken, with any punctuation that follows it attached ("soft.", "yes,")
    start: float  # seconds from the start of the media
    end: float
    confidence: float  # 0..1


@dataclass(frozen=True)
class Segment:
    """A sentence: the words ``words[first_word:last_word]`` (``last_word`` is exclusive)."""

    text: str
    start: float
    end: float
    first_word: int
    last_word: int


@dataclass
class Transcript:
    language: str  # Klyph's code (``en``, ``es``, ``zh``): the language given, or the one detected
    duration: float  # seconds of media the transcript covers
    words: list[Word] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-safe form: words as ``[text, start, end, confidence]``, segments as
        ``[first_word, last_word]`` (their text and times follow from the words)."""
        return {
            "v": FORMAT_VERSION,
            "language": self.language,
            "duration": round(self.duration, 3),
            "words": [[w.text, round(w.start, 3), round(w.end, 3), round(w.confidence, 3)] for w in self.words],
            "segments": [[s.first_word, s.last_word] for s in self.segments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"unsupported transcript format version: {data.get('v')!r}")
        words = [Word(str(t), float(s), float(e), float(c)) for t, s, e, c in data["words"]]
        language = str(data["language"])
        sep = word_separator(language)
        segments = [segment_of(words, int(a), int(b), sep) for a, b in data["segments"]]
        return cls(language, float(data["duration"]), words, segments)

    @property
    def separator(self) -> str:
        """What goes between two words when they are written out: nothing for Chinese, Japanese
        and other scripts without spaces (their words are characters or short runs of them)."""
        return word_separator(self.language)


def segment_of(words: list[Word], first: int, last: int, sep: str = " ") -> Segment:
    """The Segment spanning ``words[first:last]``, its text the words joined by ``sep``."""
    if not 0 <= first < last <= len(words):
        raise ValueError(f"bad word range [{first}, {last}) for {len(words)} words")
    return Segment(
        sep.join(w.text for w in words[first:last]), words[first].start, words[last - 1].end, first, last
    )


def ends_sentence(text: str) -> bool:
    """Whether a word (with its attached punctuation) closes a sentence."""
    bare = text.rstrip(_CLOSERS)
    return bare.endswith(_FINAL) and not bare.endswith("...") and bare.lower() not in _ABBREVIATIONS


def sentences(words: list[Word], max_pause: float = SENTENCE_PAUSE_SECONDS, sep: str = " ") -> list[Segment]:
    """Split words into sentences at . ? ! (and other scripts' marks), before ¿ ¡, and at pauses
    longer than ``max_pause`` seconds; ``sep`` joins a sentence's words."""
    out: list[Segment] = []
    first = 0
    for i, word in enumerate(words):
        last = i + 1 == len(words)
        if (last or ends_sentence(word.text) or words[i + 1].start - word.end > max_pause
                or words[i + 1].text.startswith(SENTENCE_INITIAL)):
            out.append(segment_of(words, first, i + 1, sep))
            first = i + 1
    return out


def build_transcript(language: str, duration: float, words: list[Word]) -> Transcript:
    """A Transcript with its sentences computed from the words."""
    return Transcript(language, duration, words, sentences(words, sep=word_separator(language)))


def parse_aws_transcribe(doc: dict[str, Any], locale: str = "") -> Transcript:
    """Amazon Transcribe batch output JSON -> Transcript.

    ``results.items`` holds "pronunciation" items (timed words; times and confidence are
    strings) and untimed "punctuation" items, which belong to the word before them. The output
    carries no media length, so ``duration`` is the end of the last word. For Chinese and
    Japanese the items are characters or short words written without spaces, and the
    transcript joins them with nothing. The language is the job's locale (``locale``, from
    GetTranscriptionJob; the identified one under IdentifyLanguage), else the output's own
    ``language_code``, stored as Klyph's code (``zh-CN`` -> ``zh``).
    """
    results = doc["results"]
    parts: list[list[Any]] = []  # [text, start, end, confidence], mutable while punctuation attaches
    for item in results.get("items", []):
        best = item["alternatives"][0]
        if item["type"] == "pronunciation":
            parts.append(
                [best["content"], float(item["start_time"]), float(item["end_time"]), float(best["confidence"])]
            )
        elif item["type"] == "punctuation" and parts:
            parts[-1][0] += best["content"]
    words = [Word(*p) for p in parts]
    language = from_locale(locale or results.get("language_code") or "")
    return build_transcript(language, words[-1].end if words else 0.0, words)
