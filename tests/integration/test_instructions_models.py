"""Exclusive and negative instructions with the real embeddings (wordllama, offline) on the real
Whisper transcript of the five-topic fixture: every clip of an exclusive instruction lies in its
topic (100%), no clip touches an excluded one, and the notes say why fewer clips came back."""
import json
import time
from pathlib import Path

import pytest

from chalicelib.adapters.embeddings import Embedder
from chalicelib.domain.selection import instruction_avoid, instruction_topic, rank_clips, sentence_units
from chalicelib.domain.transcript import Transcript

FIXTURES = Path(__file__).parent.parent / "fixtures"
WHISPER = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
TOPICS = json.loads((FIXTURES / "speech_long.topics.json").read_text())["topics"]
SENTENCES = [u.text for u in sentence_units(WHISPER)]


@pytest.fixture(scope="module")
def embedder():
    began = time.perf_counter()
    Embedder().analyse(["warm up"])
    print(f"\nwordllama load: {time.perf_counter() - began:.2f} s")
    return Embedder()


def rank(embedder, instructions, n=3, lo=15, hi=40):
    signals = embedder.analyse(SENTENCES, instruction_topic(instructions), avoid=instruction_avoid(instructions))
    return rank_clips(WHISPER, duration=WHISPER.duration, max_clips=n, min_duration=lo, max_duration=hi,
                      instructions=instructions, relevance=signals.relevance, cohesion=signals.cohesion,
                      avoidance=signals.avoidance)


def topics_of(clip):
    return {t["name"] for t in TOPICS if clip.start < t["end"] and t["start"] < clip.end}


@pytest.mark.parametrize("topic", TOPICS, ids=[t["name"] for t in TOPICS])
@pytest.mark.parametrize("wording", ["instruction", "paraphrase"])
def test_exclusive_instructions_keep_every_clip_on_their_topic(embedder, topic, wording):
    ranking = rank(embedder, f"only {topic[wording]}")
    assert ranking.choices, ranking.notes
    on_topic = [c for c in ranking.choices if topics_of(c) == {topic["name"]}]
    print(f"only {topic[wording]!r}: {len(on_topic)}/{len(ranking.choices)} on topic; notes {ranking.notes}")
    assert len(on_topic) == len(ranking.choices)  # 100%
    assert all(c.reason.startswith("On the requested topic") for c in ranking.choices)
    if len(ranking.choices) < 3:
        assert ranking.notes and ranking.notes[-1].startswith(f"Only {len(ranking.choices)} passage")


@pytest.mark.parametrize("topic", TOPICS, ids=[t["name"] for t in TOPICS])
def test_negative_instructions_exclude_their_topic(embedder, topic):
    ranking = rank(embedder, f"nothing about {topic['instruction']}", n=5)
    assert len(ranking.choices) >= 3
    assert not any(topic["name"] in topics_of(c) for c in ranking.choices + ranking.candidates)


def test_exclusive_and_negative_together(embedder):
    ranking = rank(embedder, "only the marathon training, nothing about pricing", n=3)
    assert ranking.choices and all(topics_of(c) == {"marathon"} for c in ranking.choices)
