"""Text transcripts in several languages with known topics (tests/fixtures/topics_multilingual.json).

Each language has three topics, a list of sentences each. They are timed like speech (word length
sets the duration, a short gap between words, a longer one after a sentence) with no longer pause
at a topic change, so only the words can tell where a topic ends.
"""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.domain.transcript import Transcript, Word, build_transcript

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "topics_multilingual.json"
LANGUAGES = json.loads(FIXTURE.read_text())["languages"]
OTHERS = json.loads(FIXTURE.read_text())["others"]  # languages without word lists (see its "about_others")


def timed(sentences: list[str], start: float = 0.5) -> list[Word]:
    words, t = [], start
    for sentence in sentences:
        for token in sentence.split():
            end = t + 0.12 + 0.05 * len(token)
            words.append(Word(token, round(t, 3), round(end, 3), 0.9))
            t = end + (0.35 if token[-1] in ".?!。\uff1f\uff01" else 0.05)
    return words


def transcript(language: str, label: str | None = None) -> tuple[Transcript, list[dict]]:
    """The language's transcript (labelled ``label``, default the language) and its topics, each
    with ``start``/``end`` (seconds) and ``first_word``/``last_word`` (last exclusive) added."""
    topics, sentences = [], []
    for topic in LANGUAGES[language]:
        first = sum(len(s.split()) for s in sentences)
        sentences += topic["sentences"]
        size = sum(len(s.split()) for s in topic["sentences"])
        topics.append({**topic, "first_word": first, "last_word": first + size})
    words = timed(sentences)
    for topic in topics:
        topic["start"], topic["end"] = words[topic["first_word"]].start, words[topic["last_word"] - 1].end
    return build_transcript(language if label is None else label, round(words[-1].end + 1.0, 3), words), topics


def inside(clip, topic: dict, t: Transcript) -> bool:
    """Every word the clip holds belongs to the topic."""
    held = [k for k, w in enumerate(t.words) if clip.start < w.end and w.start < clip.end]
    return bool(held) and topic["first_word"] <= held[0] and held[-1] < topic["last_word"]
