"""Selection rules on a real Whisper transcript and on crafted speech: clean openers and endings,
topic sections, relevance, humour, diversity, and validation of an external selector's picks.

Pure: semantic signals are either absent (lexical fallback) or synthetic; the real wordllama
embeddings are exercised in tests/integration/test_selection_models.py.
"""
import json
import math
import re
from pathlib import Path

import pytest

from chalicelib.domain.selection import MARGIN_SECONDS, MAX_PADDING, Pick, rank_clips, sentence_units, topic_sections
from chalicelib.domain.transcript import Transcript, ends_sentence
from support import select_clips
from test_selection import EPS, check_invariants, make

FIXTURES = Path(__file__).parent.parent / "fixtures"
WHISPER = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
TOPICS = json.loads((FIXTURES / "speech_long.topics.json").read_text())["topics"]
CONTINUATIONS = {"and", "so", "but", "because", "which", "or", "then", "thus", "also", "plus", "however"}
DEPENDENT = {"that", "that's", "this", "these", "those", "it", "it's", "they", "he", "she", "yes", "yeah"}


def topic_of(c, t=WHISPER) -> str | None:
    """The fixture topic whose paragraph holds the whole clip, if any."""
    for topic in TOPICS:
        if t.words[topic["first_word"]].start - 1 <= c.start and c.end <= t.words[topic["last_word"] - 1].end + 1:
            return topic["name"]
    return None


def clip_words(c, t):
    return [w for w in t.words if c.start - EPS <= w.start and w.end <= c.end + EPS]


def first_token(text: str) -> str:
    tokens = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())
    return tokens[0] if tokens else ""


SETTINGS = [(15, 40, 3), (30, 60, 3), (10, 25, 6), (20, 45, 10)]


@pytest.mark.parametrize("lo, hi, n", SETTINGS)
@pytest.mark.parametrize("instructions", [None, "marathon training", "prioritize funny moments"])
def test_real_transcript_clips_are_complete_thoughts(lo, hi, n, instructions):
    t = WHISPER
    clips = select_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi,
                         instructions=instructions)
    assert clips
    check_invariants(clips, t, t.duration, lo, hi)  # bounds, no overlap, never inside a word
    starts = {t.words[s.first_word].start: s for s in t.segments}
    for c in clips:
        inside = clip_words(c, t)
        assert inside[0].start in starts, "starts on a sentence"
        assert first_token(inside[0].text) not in CONTINUATIONS | DEPENDENT, c
        assert ends_sentence(inside[-1].text), "ends on a finished sentence"
        before = [w for w in t.words if w.end <= inside[0].start + EPS]
        assert not (before and before[-1].text.endswith("?")), f"opens on the answer, not the question: {c}"
        # Trimmed to the speech: a margin of at most MARGIN_SECONDS a side, unless widened (by at
        # most MAX_PADDING) to reach min_duration.
        pad = (inside[0].start - c.start) + (c.end - inside[-1].end)
        assert c.start <= inside[0].start and c.end >= inside[-1].end
        assert pad <= 2 * MARGIN_SECONDS + EPS or (pad <= MAX_PADDING + EPS and c.end - c.start <= lo + EPS), c
        assert c.reason and 0 < len(c.title) <= 70 and len(c.description) <= 160


def test_continuations_dependent_openers_and_answers_never_open_a_clip():
    text = (
        "What makes a habit stick? Because you repeat it in the same place every day. "
        "And that matters more than motivation. That's why willpower fails most people. "
        "So start with something tiny. But do it at the same time. Which is easier than it sounds. "
        "It takes about two months on average. They studied ninety six people for a year. "
        "The secret is to make it obvious. Yes, obvious and easy. "
        "Nobody tells you that the first week is the hardest part. Then it gets easier."
    )
    t = make([text] * 3)
    for lo, hi, n in [(5, 15, 8), (8, 25, 5), (3, 10, 12)]:
        for c in select_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi):
            opener = clip_words(c, t)[0]
            assert first_token(opener.text) not in CONTINUATIONS | DEPENDENT, c
            k = t.words.index(opener)
            assert k == 0 or not t.words[k - 1].text.endswith("?"), c
            assert c.title[0].isupper() and not c.title.lower().startswith(("and ", "so ", "but "))


def test_continuation_only_speech_still_yields_clips_marked_mid_thought():
    # Nothing can open a clip by the rules: the relaxed tier keeps the job from failing.
    t = make(["And then it went on. So we kept going. But it rained all day. And we stayed anyway."])
    (clip,) = select_clips(t, duration=t.duration, max_clips=1, min_duration=3, max_duration=20)
    assert "mid-thought" in clip.reason


def vectors_cohesion(topic_of_sentence: list[int]):
    """cohesion() for sentences whose embeddings are their topic's axis plus a per-sentence axis."""
    dims = max(topic_of_sentence) + 1 + len(topic_of_sentence)
    vecs = []
    for k, topic in enumerate(topic_of_sentence):
        v = [0.0] * dims
        v[topic], v[max(topic_of_sentence) + 1 + k] = 0.6, 0.8  # unit length: cos 0.36 within a topic, 0 across
        vecs.append(v)

    def cohesion(a, b):
        return math.sqrt(sum(sum(v[d] for v in vecs[a:b]) ** 2 for d in range(dims)))

    return cohesion


def test_topic_sections_find_the_changes_and_only_them():
    truth = [0] * 12 + [1] * 7 + [2] * 15 + [3] * 4
    assert topic_sections(len(truth), vectors_cohesion(truth)) == truth
    assert topic_sections(5, lambda a, b: float(b - a)) == [0] * 5  # perfectly cohesive: one section
    assert topic_sections(0, lambda a, b: 0.0) == []


def test_lexical_fallback_finds_the_real_transcripts_topic_changes():
    # Without embeddings, topic sections come from shared words (TextTiling's lexical cohesion).
    from chalicelib.domain.selection import _LexicalCohesion

    units = sentence_units(WHISPER)
    sections = topic_sections(len(units), _LexicalCohesion([u.text for u in units]))
    changes = [k for k in range(1, len(units)) if sections[k] != sections[k - 1]]
    truth = [next(k for k, u in enumerate(units) if u.first_word == topic["first_word"]) for topic in TOPICS[1:]]
    assert len(changes) == 4 and all(abs(a - b) <= 1 for a, b in zip(changes, truth)), (changes, truth)


def paragraphs_transcript(sizes: list[int]) -> tuple[Transcript, list[int]]:
    """Paragraphs of distinct topics with plain statements; returns the transcript and each sentence's topic."""
    subjects = ["Bees", "Trains", "Violins", "Glaciers", "Chess", "Coffee"]
    paragraphs, truth = [], []
    for p, size in enumerate(sizes):
        paragraphs.append(" ".join(f"{subjects[p]} fact number {k} is worth hearing today." for k in range(size)))
        truth += [p] * size
    return make(paragraphs, paragraph_pause=0.3), truth


def test_no_clip_spans_a_topic_change_when_a_clip_inside_one_topic_exists():
    t, truth = paragraphs_transcript([9, 9, 9, 9])
    cohesion = vectors_cohesion(truth)
    units = sentence_units(t)
    for lo, hi, n in [(5, 15, 6), (10, 25, 4), (3, 30, 8)]:
        for c in select_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi, cohesion=cohesion):
            inside = [k for k, u in enumerate(units) if c.start - EPS <= u.start and u.end <= c.end + EPS]
            assert len({truth[k] for k in inside}) == 1, c
            assert "spans a topic change" not in c.reason


def test_topics_shorter_than_min_duration_are_spanned_rather_than_giving_nothing():
    t, truth = paragraphs_transcript([4, 4, 4, 4, 4, 4])  # about 13 s per topic
    (clip,) = select_clips(t, duration=t.duration, max_clips=1, min_duration=18, max_duration=30,
                           cohesion=vectors_cohesion(truth))
    assert "spans a topic change" in clip.reason


def test_relevance_pulls_clips_to_the_relevant_sentences_and_must_match_the_sentences():
    t, truth = paragraphs_transcript([8, 8, 8, 8])
    relevance = [0.6 if topic == 2 else 0.05 for topic in truth]
    units = sentence_units(t)
    lo, hi = units[truth.index(2)].start, units[len(truth) - 1 - truth[::-1].index(2)].end
    clips = select_clips(t, duration=t.duration, max_clips=3, min_duration=5, max_duration=15,
                         instructions="violins", relevance=relevance, cohesion=vectors_cohesion(truth))
    top = max(clips, key=lambda c: c.score)
    assert lo - 1 <= top.start and top.end <= hi + 1
    assert sum(lo - 1 <= c.start and c.end <= hi + 1 for c in clips) >= 2  # several clips from the topic asked for
    with pytest.raises(ValueError, match="relevance"):
        select_clips(t, duration=t.duration, max_clips=1, min_duration=5, max_duration=15, instructions="x",
                     relevance=relevance[:-1])


def test_funny_instructions_favour_laughter_and_jokes():
    serious = ("Why do interest rates matter so much? The most important thing is the cost of money. "
               "Central banks raise rates to cool prices. Ten percent is a historic high.")
    funny = ("My first startup sold socks for cats. [laughter] It was hilarious, we shipped three pairs! "
             "Haha, the cat hated every single one. Honestly, what a ridiculous idea that was.")
    t = make([serious, funny, serious])
    plain = select_clips(t, duration=t.duration, max_clips=1, min_duration=8, max_duration=20)
    (joke,) = select_clips(t, duration=t.duration, max_clips=1, min_duration=8, max_duration=20,
                           instructions="prioritize funny moments")
    assert "cats" not in " ".join(w.text for w in clip_words(plain[0], t))  # a question hook wins without asking
    assert "[laughter]" in " ".join(w.text for w in clip_words(joke, t))
    assert "laughter" in joke.reason.lower()
    assert "[laughter]" not in joke.title and "[laughter]" not in joke.description


def test_without_instructions_clips_spread_over_the_topics():
    for n in (3, 5):
        clips = select_clips(WHISPER, duration=WHISPER.duration, max_clips=n, min_duration=15, max_duration=40)
        topics = [topic_of(c) for c in clips]
        assert None not in topics and len(set(topics)) == n, topics


def test_ranking_shortlist_and_external_picks_are_validated():
    ranking = rank_clips(WHISPER, duration=WHISPER.duration, max_clips=3, min_duration=15, max_duration=40)
    cands = ranking.candidates
    assert len(cands) > 3 and [c.index for c in cands] == list(range(len(cands)))
    assert all(a.end <= b.start for a, b in zip(cands, cands[1:]))  # timeline order, no overlaps
    assert {(c.start, c.end) for c in ranking.choices} <= {(c.start, c.end) for c in cands}

    assert "annual plans" in cands[4].text.lower()
    picked = ranking.from_picks([Pick(4, "  so, WHY ANNUAL PLANS PAY OFF... ", "", 91, "Great hook."), Pick(1)])
    assert [c.start for c in picked] == sorted([cands[4].start, cands[1].start])
    by_start = {c.start: c for c in picked}
    assert by_start[cands[4].start].title == "Why annual plans pay off" and by_start[cands[4].start].score == 91
    # A title naming nothing the clip says, or in another language, gives way to the local one.
    for wrong in ("Why does bread taste sour", "Por qué los planes anuales son mejores para la empresa"):
        (clip,) = ranking.from_picks([Pick(4, wrong)])
        assert clip.title == cands[4].title
    assert by_start[cands[1].start].title == cands[1].title  # empty title: the local one
    assert by_start[cands[1].start].description == cands[1].description

    for bad, why in [([], "0 picks"), ([Pick(0)] * 2, "twice"), ([Pick(len(cands))], "not a candidate"),
                     ([Pick(-1)], "not a candidate"), ([Pick(0, score=140)], "outside 0-100"),
                     ([Pick(0), Pick(1), Pick(2), Pick(3)], "4 picks")]:
        with pytest.raises(ValueError, match=why):
            ranking.from_picks(bad)


def test_no_speech_ranking_has_no_shortlist():
    ranking = rank_clips(Transcript("en", 120.0), duration=120.0, max_clips=2, min_duration=20, max_duration=30)
    assert ranking.candidates == [] and len(ranking.choices) == 2
    assert all(c.description for c in ranking.choices)


def test_an_external_title_or_description_with_a_word_the_transcriber_doubted_gives_way_to_the_local_one():
    # The model reads the candidates as heard: "lactec and acetic/0.25 acid", "sourdough/0.48".
    ranking = rank_clips(WHISPER, duration=WHISPER.duration, max_clips=3, min_duration=15, max_duration=40)
    first = ranking.candidates[0]
    assert {"lactec", "sourdough"} <= first.unsure and "bread" not in first.unsure
    (clip,) = ranking.from_picks([Pick(0, "Why sourdough bread tastes sour", "The bacteria produce lactec and gas.")])
    assert (clip.title, clip.description) == (first.title, first.description)
    (clip,) = ranking.from_picks([Pick(0, "Feed the starter with flour", "A starter needs flour and water.")])
    assert (clip.title, clip.description) == ("Feed the starter with flour", "A starter needs flour and water.")
    # Hashtags too: one doubted word and the local ones stay.
    (clip,) = ranking.from_picks([Pick(0, hashtags=("Starter", "Flour", "Lactec"))])
    assert clip.hashtags == list(first.hashtags)
    (clip,) = ranking.from_picks([Pick(0, hashtags=("Starter", "Flour", "Bacteria"))])
    assert clip.hashtags == ["#Starter", "#Flour", "#Bacteria"], (clip.hashtags, first.unsure)
