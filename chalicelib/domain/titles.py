"""Titles and one-line descriptions for clips, drawn from what is said in them.

A title is the clip's hook question or key claim, trimmed of fillers and stage directions, at
most 70 characters, ending on a whole word with no ellipsis, sentence-cased. The description is
the line that follows it (the answer, the support), at most 160 characters. Text written
without spaces (Chinese, Japanese) is cut on whole characters, at its own clause marks (，、)
first, and never inside a Latin word within it. Pure: no I/O.
"""
from __future__ import annotations

import re

from chalicelib.domain import scripts

TITLE_MAX_CHARS = 70
DESCRIPTION_MAX_CHARS = 160

# Stage directions transcribers add: [laughter], (laughs), *applause*.
STAGE_DIRECTIONS = re.compile(r"\s*[\[(*][a-z ]{2,24}[\])*]\s*", re.IGNORECASE)
_LEADING_FILLERS = re.compile(
    r"^(?:(?:and|so|but|now|well|okay|ok|um+|uh+|er|like|yeah|yes|right|look|listen|basically|honestly|"
    r"actually|also|then|anyway|you know|i mean|i think that|i guess)\b[,.]?\s+)+",
    re.IGNORECASE,
)
_INNER_FILLERS = re.compile(r",?\s\b(?:um+|uh+|erm?|hmm+)\b,?(?=\s)", re.IGNORECASE)
# A title must not end on a word that promises more ("how to price a", "ten percent of the").
_DANGLING = frozenset(
    """a an the and or but so because which that who whom whose of to in on at by for with from as into
    onto than then if when while is are was were be been being am has have had do does did will would
    can could should may might must not no my our your their his her its this these those very more
    most less just really about over under after before between like""".split()
)
_CLAUSE_BREAKS = re.compile(r"[,;:،؛](?=\s)|\s[-–—]\s|[，、；：](?=.)")
_TRAILING = " ,;:-–—،؛，、；："
_SENTENCE_SPLIT = re.compile(r"(?<=[.?!؟।])\s+|(?<=[。？！])\s*")


def clean(text: str) -> str:
    """``text`` without stage directions, leading fillers, "um"s, or doubled spaces."""
    text = STAGE_DIRECTIONS.sub(" ", text)
    text = _INNER_FILLERS.sub("", " " + text + " ").strip()
    text = _LEADING_FILLERS.sub("", text)
    return re.sub(r"\s+", " ", text).strip(" ,;:-–—")


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole, else up to a clause break, else whole words
    (whole characters in Chinese and Japanese) minus any dangling function word at the end.
    Never cut inside a word, never an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    breaks = [m.start() for m in _CLAUSE_BREAKS.finditer(head) if m.start() >= limit // 3]
    if breaks:
        return _drop_dangling(text[: breaks[-1]])
    return _drop_dangling(scripts.cut(text, limit))


def _drop_dangling(text: str) -> str:
    words = text.rstrip(_TRAILING).split()
    while len(words) > 1 and words[-1].lower().strip(",;:") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(_TRAILING)


def sentence_case(text: str) -> str:
    if text.isupper() and len(text) > 3:
        text = text.lower()  # shouting transcripts ("WHAT A DAY") read better as sentences
    text = re.sub(r"\bi\b", "I", text)
    return text[:1].upper() + text[1:]


def tidy_title(text: str) -> str:
    """A title in house style from any text (a transcript sentence, an LLM's suggestion)."""
    title = shorten(clean(text), TITLE_MAX_CHARS)
    title = re.sub(r"(?:\.{2,}|…)+$", "", title).rstrip(" .,;:-–—")  # no trailing period or ellipsis
    return sentence_case(title)


def tidy_description(text: str) -> str:
    """One line of at most DESCRIPTION_MAX_CHARS, preferring whole sentences."""
    text = clean(text)
    if len(text) <= DESCRIPTION_MAX_CHARS:
        return sentence_case(text)
    # Whole sentences while they fit; else the first sentence shortened on a clause or word.
    parts = [p for p in _SENTENCE_SPLIT.split(text) if p]
    unspaced = scripts.joins_without_spaces(None, text)
    kept = ""
    for part in parts:
        if len(scripts.join_words([kept, part], unspaced)) > DESCRIPTION_MAX_CHARS:
            break
        kept = scripts.join_words([kept, part], unspaced)
    if kept:
        return sentence_case(kept)
    stop = "。" if unspaced else "."
    return sentence_case(shorten(parts[0], DESCRIPTION_MAX_CHARS - 1).rstrip(".。") + stop)


def _title_worth(k: int, sentence: str, hook: float) -> float:
    n = len(clean(sentence).split())
    if n < 3:
        return -1.0
    fits = 1.0 if len(clean(sentence)) <= TITLE_MAX_CHARS else 0.6  # whole sentences beat cut ones
    shape = 1.0 if 4 <= n <= 14 else 0.7
    return (hook + 0.5) * fits * shape - 0.25 * k  # earlier is better: it is what viewers hear first


def title_and_description(sentences: list[str], hooks: list[float] | None = None) -> tuple[str, str]:
    """Title from the clip's strongest early sentence (hook question or claim), description from
    what follows it (or, when it is the last, from what precedes it)."""
    hooks = hooks or [0.0] * len(sentences)
    window = range(min(len(sentences), 4))
    best = max(window, key=lambda k: _title_worth(k, sentences[k], hooks[k]), default=0)
    title = tidy_title(sentences[best]) if sentences else ""
    rest = sentences[best + 1 :] or sentences[:best]
    description = tidy_description(" ".join(rest)) if rest else ""
    if not description or description.rstrip(".?!").lower() == title.lower():
        description = tidy_description(" ".join(sentences))
    return title, description
