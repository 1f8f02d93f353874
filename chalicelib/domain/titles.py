"""Titles and one-line descriptions for clips, drawn from what is said in them.

A title is the clip's hook question or key claim, trimmed of fillers and stage directions, at
most 70 characters, ending on a whole word with no ellipsis, sentence-cased. The description is
the line that follows it (the answer, the support), at most 160 characters. Fillers and the
function words a title must not end on come from the video's language (``lexicon``); English by
default, none for a language without word lists. Text written without spaces (Chinese,
Japanese) is cut on whole characters, at its own clause marks (，、) first, and never inside a
Latin word within it. Pure: no I/O.
"""
from __future__ import annotations

import re
from functools import lru_cache

from chalicelib.domain import scripts
from chalicelib.domain.lexicon import ENGLISH, Lexicon, is_unspaced

TITLE_MAX_CHARS = 70
DESCRIPTION_MAX_CHARS = 160

# Stage directions transcribers add: [laughter], (laughs), *applause*, (risas), [Gelächter].
STAGE_DIRECTIONS = re.compile(r"\s*[\[(*\uff08](?:[^\W\d_]| ){2,24}[\])*\uff09]\s*")
# Hesitations in any of the languages ("um", "eh", "äh", "euh", "ehm"): never words of a title.
_INNER_FILLERS = re.compile(r",?\s\b(?:um+|uh+|erm?|hmm+|mm+|eh|em|äh|ähm|öh|euh|heu|ehm)\b,?(?=\s)",
                            re.IGNORECASE)
_CLAUSE_BREAKS = re.compile(r"[,;:،؛](?=\s)|\s[-–—]\s|[，、；：](?=.)")
_TRAILING = " ,;:-–—،؛，、；："
_SENTENCE_SPLIT = re.compile(r"(?<=[.?!؟।])\s+|(?<=[。？！])\s*")


@lru_cache(maxsize=16)
def _leading_fillers(lex: Lexicon) -> re.Pattern[str] | None:
    if not lex.leading_fillers:
        return None
    # Longest first, so "i think that" wins over "i"; hesitations ("um", "uh") in any language.
    alternatives = sorted((re.escape(f) for f in lex.leading_fillers), key=len, reverse=True)
    return re.compile(rf"^(?:(?:{'|'.join(alternatives)}|um+|uh+)\b[,.]?\s+)+", re.IGNORECASE)


def clean(text: str, lex: Lexicon = ENGLISH) -> str:
    """``text`` without stage directions, leading fillers, "um"s, or doubled spaces."""
    text = STAGE_DIRECTIONS.sub(" ", text)
    text = _INNER_FILLERS.sub("", " " + text + " ").strip()
    leading = _leading_fillers(lex)
    if leading is not None:
        text = leading.sub("", text)
    return re.sub(r"\s+", " ", text).strip(" ,;:-–—")


def shorten(text: str, limit: int, lex: Lexicon = ENGLISH) -> str:
    """``text`` in at most ``limit`` characters: whole, else up to a clause break, else whole words
    (whole characters in Chinese and Japanese) minus any dangling function word at the end.
    Never cut inside a word, never an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    breaks = [m.start() for m in _CLAUSE_BREAKS.finditer(head) if m.start() >= limit // 3]
    if breaks:
        return _drop_dangling(text[: breaks[-1]], lex)
    return _drop_dangling(scripts.cut(text, limit), lex)


def _drop_dangling(text: str, lex: Lexicon) -> str:
    # A title must not end on a word that promises more ("how to price a", "ten percent of the").
    words = text.rstrip(_TRAILING).split()
    while len(words) > 1 and words[-1].lower().strip(",;:") in lex.dangling:
        words.pop()
    return " ".join(words).rstrip(_TRAILING)


def sentence_case(text: str, lex: Lexicon = ENGLISH) -> str:
    if text.isupper() and len(text) > 3:
        text = text.lower()  # shouting transcripts ("WHAT A DAY") read better as sentences
    if lex.english_title_case:
        text = re.sub(r"\bi\b", "I", text)  # not in Italian, where "i" is "the"
    return text[:1].upper() + text[1:]


def tidy_title(text: str, lex: Lexicon = ENGLISH) -> str:
    """A title in house style from any text (a transcript sentence, an LLM's suggestion)."""
    title = shorten(clean(text, lex), TITLE_MAX_CHARS, lex)
    title = re.sub(r"(?:\.{2,}|…)+$", "", title).rstrip(" .,;:-–—。")  # no trailing period or ellipsis
    return sentence_case(title, lex)


def tidy_description(text: str, lex: Lexicon = ENGLISH) -> str:
    """One line of at most DESCRIPTION_MAX_CHARS, preferring whole sentences."""
    text = clean(text, lex)
    if len(text) <= DESCRIPTION_MAX_CHARS:
        return sentence_case(text, lex)
    # Whole sentences while they fit; else the first sentence shortened on a clause or word.
    parts = [p for p in _SENTENCE_SPLIT.split(text) if p]
    unspaced = scripts.joins_without_spaces(None, text)
    kept = ""
    for part in parts:
        if len(scripts.join_words([kept, part], unspaced)) > DESCRIPTION_MAX_CHARS:
            break
        kept = scripts.join_words([kept, part], unspaced)
    if kept:
        return sentence_case(kept, lex)
    stop = "。" if unspaced else "."
    return sentence_case(shorten(parts[0], DESCRIPTION_MAX_CHARS - 1, lex).rstrip(".。") + stop, lex)


def _title_worth(k: int, sentence: str, hook: float, lex: Lexicon) -> float:
    cleaned = clean(sentence, lex)
    n = len(cleaned.split())
    if n < 3 and not is_unspaced(cleaned):  # unspaced scripts: one "word" can be a whole sentence
        return -1.0
    fits = 1.0 if len(cleaned) <= TITLE_MAX_CHARS else 0.6  # whole sentences beat cut ones
    shape = 1.0 if 4 <= n <= 14 else 0.7
    return (hook + 0.5) * fits * shape - 0.25 * k  # earlier is better: it is what viewers hear first


def title_and_description(
    sentences: list[str], hooks: list[float] | None = None, lex: Lexicon = ENGLISH
) -> tuple[str, str]:
    """Title from the clip's strongest early sentence (hook question or claim), description from
    what follows it (or, when it is the last, from what precedes it)."""
    hooks = hooks or [0.0] * len(sentences)
    window = range(min(len(sentences), 4))
    best = max(window, key=lambda k: _title_worth(k, sentences[k], hooks[k], lex), default=0)
    title = tidy_title(sentences[best], lex) if sentences else ""
    rest = sentences[best + 1 :] or sentences[:best]
    description = tidy_description(" ".join(rest), lex) if rest else ""
    if not description or description.rstrip(".?!").lower() == title.lower():
        description = tidy_description(" ".join(sentences), lex)
    return title, description
