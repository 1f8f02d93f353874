"""Clip selection with its real models: wordllama embeddings (offline, from the wheel) on the real
Whisper transcript of the five-topic fixture, the Bedrock selector against a stubbed client, the
pipeline's select task, and the two-hour budget.
"""
import json
import logging
import os
import re
import socket
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

import fakes
from chalicelib.adapters import embeddings
from chalicelib.adapters.bedrock import BedrockSelector, prompt
from chalicelib.adapters.embeddings import Embedder
from chalicelib.domain.selection import instruction_topic, rank_clips, sentence_units, topic_sections
from chalicelib.domain.transcript import Transcript, Word, build_transcript
from chalicelib.models import JobOptions
from fakes import FakeBlobs, FakeRecords
from support import no_network

FIXTURES = Path(__file__).parent.parent / "fixtures"
WHISPER = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
TOPICS = json.loads((FIXTURES / "speech_long.topics.json").read_text())["topics"]
UNITS = sentence_units(WHISPER)


@pytest.fixture(scope="module")
def embedder():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(embeddings, "_MODEL", None)
        began = time.perf_counter()
        Embedder().analyse(["warm up"])
        print(f"\nwordllama load (offline, from the wheel): {time.perf_counter() - began:.2f} s")
        yield Embedder()


def rank(embedder, instructions=None, lo=15, hi=40, n=3, transcript=WHISPER):
    signals = embedder.analyse([u.text for u in sentence_units(transcript)], instruction_topic(instructions))
    return rank_clips(transcript, duration=transcript.duration, max_clips=n, min_duration=lo, max_duration=hi,
                      instructions=instructions, relevance=signals.relevance, cohesion=signals.cohesion)


def within(c, topic) -> bool:
    """Every word the clip holds belongs to the topic's paragraph."""
    start, end = (c["start"], c["end"]) if isinstance(c, dict) else (c.start, c.end)
    inside = [k for k, w in enumerate(WHISPER.words) if start < w.end and w.start < end]
    return bool(inside) and topic["first_word"] <= inside[0] and inside[-1] < topic["last_word"]


def test_model_loads_offline_once_per_process(embedder):
    first = embeddings._model()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        assert embeddings._model() is first
        signals = Embedder().analyse(["Bake the bread hot.", "Raise your prices."], "sourdough bread")
    assert signals.relevance[0] > signals.relevance[1]


@pytest.mark.parametrize("bounds", [(15, 40), (30, 60)], ids=["15-40s", "30-60s"])
@pytest.mark.parametrize("wording", ["instruction", "paraphrase"])
@pytest.mark.parametrize("topic", TOPICS, ids=[t["name"] for t in TOPICS])
def test_an_instruction_naming_a_topic_puts_the_best_clip_in_it(embedder, topic, wording, bounds):
    ranking = rank(embedder, topic[wording], *bounds)
    top = max(ranking.choices, key=lambda c: c.score)
    assert within(top, topic), (topic[wording], top)
    assert "requested topic" in top.reason


@pytest.mark.parametrize(
    "name, instructions",
    [("sourdough", "pastry and baking"), ("pricing", "monetization and revenue"), ("pricing", "business models"),
     ("marathon", "jogging"), ("apollo", "space exploration"), ("apollo", "NASA history"),
     ("composting", "organic fertilizer for plants")],
)
def test_instructions_sharing_no_word_with_the_transcript_still_find_their_topic(embedder, name, instructions):
    from chalicelib.domain.selection import _TOKEN, _stem

    spoken = {_stem(t) for u in UNITS for t in _TOKEN.findall(u.text.lower())}
    assert not {_stem(t) for t in _TOKEN.findall(instruction_topic(instructions).lower())} & spoken  # no keyword help
    top = max(rank(embedder, instructions).choices, key=lambda c: c.score)
    assert within(top, next(t for t in TOPICS if t["name"] == name)), top


def test_a_topic_the_video_never_discusses_is_reported_not_invented(embedder):
    clips = rank(embedder, "cryptocurrency and bitcoin").choices
    assert all(c.reason.startswith("No clear match for the requested topic") for c in clips)
    homes = {next((t["name"] for t in TOPICS if within(c, t)), None) for c in clips}
    assert len(homes) == 3  # still the video's best moments, spread out


def test_real_embeddings_find_the_five_topics(embedder):
    signals = embedder.analyse([u.text for u in UNITS])
    sections = topic_sections(len(UNITS), signals.cohesion)
    changes = [k for k in range(1, len(UNITS)) if sections[k] != sections[k - 1]]
    truth = [next(k for k, u in enumerate(UNITS) if u.first_word == t["first_word"]) for t in TOPICS[1:]]
    assert len(changes) == 4 and all(abs(a - b) <= 1 for a, b in zip(changes, truth)), (changes, truth)


@pytest.mark.parametrize("instructions", [None, "marathon training", "prioritize funny moments"])
def test_no_clip_spans_a_detected_topic_change(embedder, instructions):
    signals = embedder.analyse([u.text for u in UNITS])
    sections = topic_sections(len(UNITS), signals.cohesion)
    for lo, hi, n in [(15, 40, 3), (30, 60, 3), (10, 25, 8)]:
        for c in rank(embedder, instructions, lo, hi, n).choices:
            inside = {sections[k] for k, u in enumerate(UNITS) if c.start - 1e-3 <= u.start and u.end <= c.end + 1e-3}
            assert len(inside) == 1, c


def test_without_instructions_the_clips_come_from_different_topics(embedder):
    clips = rank(embedder, None, 15, 40, 3).choices
    homes = [next((t["name"] for t in TOPICS if within(c, t)), None) for c in clips]
    assert None not in homes and len(set(homes)) == 3, homes


# Bedrock -------------------------------------------------------------------------------------------

def converse_response(text: str, stop: str = "end_turn") -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 900, "outputTokens": 120, "totalTokens": 1020},
        "metrics": {"latencyMs": 800},
    }


def stubbed(*responses):
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    stub = Stubber(client)
    for r in responses:
        expected = {"modelId": "test-model", "system": ANY, "messages": ANY, "inferenceConfig": ANY}
        if isinstance(r, Exception):
            stub.add_client_error("converse", service_error_code="ThrottlingException", service_message=str(r),
                                  http_status_code=429, expected_params=expected)
        else:
            stub.add_response("converse", converse_response(*r) if isinstance(r, tuple) else converse_response(r),
                              expected)
    stub.activate()
    return client, stub


@pytest.fixture(scope="module")
def ranking(embedder):
    return rank(embedder, "marathon training", 15, 40, 3)


def test_bedrock_answer_is_used_when_valid(ranking):
    answer = {"clips": [
        {"index": 0,
         "title": "why sourdough tastes sour and what the bacteria are really doing in there all night long…",
         "description": "The science of the tang.",
         "score": 88, "reason": "Strong question hook."},
        {"index": len(ranking.candidates) - 1, "title": "Compost that does not smell",
         "description": "Greens, browns and air.",
         "score": 74.5, "reason": "Practical tip."},
    ]}
    client, stub = stubbed("Here you go:\n```json\n" + json.dumps(answer) + "\n```")
    clips = BedrockSelector(client, "test-model").choose(ranking, "marathon training")
    stub.assert_no_pending_responses()
    first, last = ranking.candidates[0], ranking.candidates[-1]
    assert [(c.start, c.end) for c in clips] == [(first.start, first.end), (last.start, last.end)]
    assert clips[0].title.startswith("Why sourdough tastes sour and what")  # tidied: sentence case,
    assert len(clips[0].title) <= 70 and not clips[0].title.endswith(("…", "..."))  # short, no ellipsis
    assert clips[0].score == 88 and clips[0].reason == "Strong question hook."
    assert clips[1].description == "Greens, browns and air." and clips[1].title == "Compost that does not smell"


def test_bedrock_hashtags_are_used_when_valid_and_the_local_ones_otherwise(ranking):
    first = ranking.candidates[0]
    said = [w for w in re.findall(r"[a-z]{5,}", first.text.lower())
            if w not in {"which", "about", "there"} and w not in first.unsure]
    words = list(dict.fromkeys(said))[:4]
    answers = {
        "valid": words,
        "leading-hash": ["#" + w for w in words[:3]],
        "two": words[:2],
        "six": [*words, "extra", "more"],
        "space-inside": [f"{words[0]} {words[1]}", *words[2:]],
        "hash-inside": [f"{words[0]}#{words[1]}", *words[2:]],
        "other-language": ["pero", "donde", "cuando"],
        "not-said": ["cryptocurrency", "blockchain", "ledger", words[0]],
        "doubted": [*words[:2], min(first.unsure)],  # the transcriber was unsure of it
    }
    for case, tags in answers.items():
        answer = {"clips": [{"index": 0, "title": "A title", "description": "A line.", "hashtags": tags,
                             "score": 80, "reason": "Good."}]}
        client, stub = stubbed(json.dumps(answer))
        [clip] = BedrockSelector(client, "test-model").choose(ranking)
        stub.assert_no_pending_responses()
        if case in ("valid", "leading-hash"):
            assert clip.hashtags == ["#" + w.lstrip("#")[:1].upper() + w.lstrip("#")[1:] for w in tags], case
        else:
            assert clip.hashtags == list(first.hashtags), (case, clip.hashtags)
    assert '"hashtags"' in prompt(ranking, None) and "without '#'" in prompt(ranking, None)
    # A reason in another language than the video's gives way to the local one.
    answer = {"clips": [{"index": 0, "score": 80, "reason": "Empieza con una pregunta sobre el tema que pediste."}]}
    client, _ = stubbed(json.dumps(answer))
    [clip] = BedrockSelector(client, "test-model").choose(ranking)
    assert clip.reason == first.reason


@pytest.mark.parametrize(
    "reply, why",
    [
        ("I think the second one is best!", "no JSON object"),
        ('{"clips": [{"index": "first", "score": 80}]}', "ValidationError"),
        ('{"clips": [{"index": 999, "score": 80}]}', "not a candidate"),
        ('{"clips": [{"index": 1, "score": 80}, {"index": 1, "score": 70}]}', "twice"),
        ('{"clips": [{"index": 1, "score": 180}]}', "ValidationError"),
        ('{"clips": []}', "ValidationError"),
        (('{"clips": [{"index": 1, "sco', "max_tokens"), "cut off"),
        (RuntimeError("Rate exceeded"), "ThrottlingException"),
    ],
    ids=["prose", "wrong-type", "bad-index", "duplicate", "score-range", "empty", "truncated", "service-error"],
)
def test_bedrock_failures_fall_back_to_the_local_ranking(ranking, caplog, reply, why):
    client, _stub = stubbed(reply)
    with caplog.at_level(logging.WARNING, logger="chalicelib.adapters.bedrock"):
        clips = BedrockSelector(client, "test-model").choose(ranking, "marathon training")
    assert clips == ranking.choices
    assert any(why in r.getMessage() and "local ranking" in r.getMessage() for r in caplog.records), caplog.text


def test_bedrock_overlapping_picks_fall_back():
    # A hand-made ranking whose shortlist overlaps, to prove the overlap check itself.
    from chalicelib.domain.selection import Candidate, ClipChoice, Pick, Ranking

    local = [ClipChoice(0.0, 20.0, "Local", 50.0, "local", "d")]
    cands = [Candidate(0, 0.0, 20.0, "a", 50, "r", "A", "d"), Candidate(1, 10.0, 30.0, "b", 40, "r", "B", "d")]
    ranking = Ranking(local, cands, 2, 60.0)
    with pytest.raises(ValueError, match="overlap"):
        ranking.from_picks([Pick(0), Pick(1)])
    client, _ = stubbed('{"clips": [{"index": 0, "score": 60}, {"index": 1, "score": 55}]}')
    assert BedrockSelector(client, "test-model").choose(ranking) == local


def test_bedrock_prompt_numbers_the_candidates_with_times_and_text(ranking):
    text = prompt(ranking, 'marathon "training"')
    assert f"Choose up to {ranking.max_clips} clips" in text and '"marathon \\"training\\""' in text
    for c in ranking.candidates:
        assert f"[{c.index}] " in text and c.text[:40] in text


# The pipeline task -----------------------------------------------------------------------------------

@pytest.mark.parametrize("selector", ["local", "bedrock"])
def test_select_task_stores_titles_descriptions_and_scores(embedder, monkeypatch, selector):
    from chalicelib.config import settings
    from chalicelib.services import pipeline

    records = FakeRecords()
    client, stub = stubbed('{"clips": [{"index": 2, "title": "Pricing, from the model", '
                           '"description": "Chosen by the LLM.", "score": 77, "reason": "LLM pick."}]}')
    fakes.install(monkeypatch, records=records, blobs=FakeBlobs({"t.json": WHISPER.to_dict()}),
                  llm_selector=BedrockSelector(client, "test-model"))
    monkeypatch.setenv("KLYPH_SELECTOR", selector)
    settings.cache_clear()
    try:
        media = {"container": "mp4", "durationSeconds": WHISPER.duration, "hasAudio": True, "hasVideo": True,
                 "sizeBytes": 1000}
        state = {"callId": "call_1", "videoId": "vid_1", "accountId": "acc_1", "source": {"key": "s"}, "media": media,
                 "transcription": {"status": "COMPLETED", "key": "t.json"},
                 "options": {"maxClips": 3, "minDuration": 15, "maxDuration": 40, "aspectRatio": "9:16",
                             "customInstructions": "the Apollo moon missions"}}
        out = pipeline.select(state)
    finally:
        settings.cache_clear()
    assert out["options"] == JobOptions.model_validate(state["options"]).model_dump(mode="json")
    assert len(out["clips"]) == len(records.clips) == (1 if selector == "bedrock" else 3)
    for clip in records.clips:
        assert clip["title"] and len(clip["title"]) <= 70 and 0 < len(clip["description"]) <= 160
        assert 0 <= clip["score"] <= 100 and clip["reason"]
    if selector == "bedrock":
        stub.assert_no_pending_responses()
        assert records.clips[0]["title"] == "Pricing, from the model" and records.clips[0]["reason"] == "LLM pick."
        assert len(records.clips[0]["hashtags"]) in (0, 3, 4, 5)  # hashtags stay local
    else:
        top = max(records.clips, key=lambda c: c["score"])
        apollo = next(t for t in TOPICS if t["name"] == "apollo")
        assert within(top, apollo)


# Budget ---------------------------------------------------------------------------------------------

def test_two_hour_transcript_selects_in_under_two_seconds_including_embeddings(monkeypatch):
    words, offset = [], 0.0
    while offset < 2 * 3600:  # the real Whisper transcript, back to back: real sentences, real lengths
        words += [Word(w.text, w.start + offset, w.end + offset, w.confidence) for w in WHISPER.words]
        offset += WHISPER.duration + 1.0
    long = build_transcript("en", offset, words)
    monkeypatch.setattr(embeddings, "_MODEL", None)  # cold: the model load counts too
    timings = {}
    for instructions in ("marathon training", None):
        began = time.perf_counter()
        signals = Embedder().analyse([u.text for u in sentence_units(long)], instruction_topic(instructions))
        embedded = time.perf_counter()
        ranking = rank_clips(long, duration=long.duration, max_clips=10, min_duration=30, max_duration=60,
                             instructions=instructions, relevance=signals.relevance, cohesion=signals.cohesion)
        timings[instructions] = (embedded - began, time.perf_counter() - embedded)
        assert len(ranking.choices) == 10
    print(f"\n2-hour transcript ({len(long.words)} words, {len(long.segments)} sentences, {os.cpu_count()} CPUs): "
          + "; ".join(f"{k or 'no instructions'}: embeddings {e:.2f} s + ranking {r:.2f} s"
                      for k, (e, r) in timings.items()))
    assert all(e + r < 2.0 for e, r in timings.values()), timings
