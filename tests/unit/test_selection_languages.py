"""Selection in any language, with no models (keyword fallback and lexical topic sections).

Spanish, German, French, Italian, Portuguese and English text transcripts of the same three topics
(tests/fixtures/topics_multilingual.json): openers that lean on the previous sentence are not
clip starts, questions, claims, numbers and emotion score as such, an instruction naming a topic
in the video's language finds it; a language without word lists gets only neutral rules (never
the English lists), and an unspaced script (Chinese) is split and matched by its own marks.
"""
import pytest

from chalicelib.domain.lexicon import LANGUAGES, words
from chalicelib.domain.messages import say
from chalicelib.domain.selection import _LexicalCohesion, rank_clips, resolve_language, sentence_units, topic_sections
from chalicelib.domain.titles import tidy_title
from chalicelib.domain.transcript import build_transcript
from lang_fixtures import LANGUAGES as FIXTURES, OTHERS, inside, timed, transcript
from support import select_clips

SIX = sorted(FIXTURES)
# Sentences (index into the language's sentence list) opening on a continuation ("and that is
# why", "pero", "aber") or on a word pointing back ("that moment", "esa alerta", "quell'allarme").
LEANING = [4, 13, 17, 25]
ANSWERS = [3, 12, 21]  # right after a question: the answer, not an opener


def sentence_starts(t) -> dict[float, int]:
    return {u.start: k for k, u in enumerate(sentence_units(t))}


def opening_sentence(c, t) -> int | None:
    held = [w for w in t.words if c.start - 1e-3 <= w.start and w.end <= c.end + 1e-3]
    return sentence_starts(t).get(held[0].start)


def only(sentences: list[str], language: str):
    words_ = timed(sentences)
    return build_transcript(language, round(words_[-1].end + 1.0, 3), words_)


@pytest.mark.parametrize("language", SIX)
def test_openers_leaning_on_the_previous_sentence_never_open_a_clip(language):
    t, _ = transcript(language)
    lex = LANGUAGES[language]
    units = sentence_units(t)
    for k in LEANING:  # the fixture really has such openers in every language
        tokens = words(units[k].text)
        assert lex.opener_in(tokens, lex.continuations) or lex.opener_in(tokens, lex.dependent), units[k].text
    opened = set()
    for lo, hi, n in [(5, 15, 8), (8, 25, 5), (3, 10, 12)]:
        clips = select_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi)
        assert clips
        for c in clips:
            first = opening_sentence(c, t)
            assert first is not None, "starts on a sentence"
            assert first not in LEANING + ANSWERS, (units[first].text, c)
            opened.add(first)
    # The same clips without the language's lists: the leaning openers are taken then, so it is
    # the word lists that keep them out.
    neutral = set()
    for lo, hi, n in [(5, 15, 8), (8, 25, 5), (3, 10, 12)]:
        clips = rank_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi, language="xx")
        neutral |= {opening_sentence(c, t) for c in clips.choices}
    assert neutral & set(LEANING), neutral


@pytest.mark.parametrize("language", SIX)
def test_a_question_a_claim_a_number_and_emotion_score_as_such(language):
    topics = FIXTURES[language]
    question, answer = topics[0]["sentences"][2:4]
    claim = topics[1]["sentences"][7]  # "the biggest mistake is ...", "el mayor error es ..."
    number = topics[0]["sentences"][5]  # "... fifty thousand bees ...", "cincuenta mil abejas"
    excited = {"en": "The view was incredible!", "es": "¡La vista fue increíble!",
               "de": "Die Aussicht war unglaublich!", "fr": "La vue était incroyable!",
               "it": "La vista era incredibile!", "pt": "A vista foi incrível!"}[language]
    expected = [([question, answer], "opens_question"), ([claim], "opens_claim"),
                ([number], "opens_number"), ([excited], "emotional")]
    for sentences, key in expected:
        t = only(sentences, language)
        (clip,) = select_clips(t, duration=t.duration, max_clips=1, min_duration=t.duration - 1.5,
                               max_duration=t.duration)
        # The reason is in the video's language.
        assert say(key, language).lower() in clip.reason.lower(), (sentences, clip.reason)
        reason = say(key, "en")[:1].upper() + say(key, "en")[1:]
        # Without word lists only the punctuation still says anything: a question stays one.
        neutral = rank_clips(t, duration=t.duration, max_clips=1, min_duration=t.duration - 1.5,
                             max_duration=t.duration, language="xx").choices[0]
        assert (reason in neutral.reason) == (reason == "Opens with a question"), (sentences, neutral.reason)


@pytest.mark.parametrize("language", SIX)
@pytest.mark.parametrize("bounds", [(15, 40), (30, 60)], ids=["15-40s", "30-60s"])
def test_an_instruction_in_the_videos_language_finds_its_topic_by_keywords(language, bounds):
    # No embeddings at all: accent-folded prefixes of the instruction's content words.
    t, topics = transcript(language)
    for topic in topics:
        clips = select_clips(t, duration=t.duration, max_clips=3, min_duration=bounds[0], max_duration=bounds[1],
                             instructions=topic["instruction"])
        top = max(clips, key=lambda c: c.score)
        assert inside(top, topic, t), (topic["instruction"], top)
        assert top.reason.startswith(tuple(say(key, language, named="")[:1].upper() + say(key, language, named="")[1:]
                                           for key in ("on_topic", "touches_topic"))), top.reason


@pytest.mark.parametrize("language", SIX)
def test_shared_words_find_the_topic_changes_in_every_language(language):
    t, _ = transcript(language)
    units = sentence_units(t)
    sections = topic_sections(len(units), _LexicalCohesion([u.text for u in units], LANGUAGES[language]))
    changes = [k for k in range(1, len(units)) if sections[k] != sections[k - 1]]
    assert changes == [9, 18]


@pytest.mark.parametrize("language", SIX)
def test_titles_drop_the_languages_fillers_and_leaning_words(language):
    t, _ = transcript(language)
    lex = LANGUAGES[language]
    for lo, hi, n in [(5, 15, 8), (10, 25, 5)]:
        for c in select_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi):
            assert c.title and c.title.lstrip("¿¡")[0].isupper(), c.title
            tokens = words(c.title)
            # (Italian "perché" opens a question as "why", not as "because".)
            assert c.title.endswith("?") or not lex.opener_in(tokens, lex.continuations), c.title
            assert tokens[-1] not in lex.dangling, c.title


def test_title_rules_follow_the_language():
    es, it, fr = LANGUAGES["es"], LANGUAGES["it"], LANGUAGES["fr"]
    title = tidy_title("y por eso los apicultores añaden una segunda caja", es)
    assert title == "Los apicultores añaden una segunda caja"
    assert tidy_title("vedo i vulcani e i terremoti", it) == "Vedo i vulcani e i terremoti"  # "i" is "the"
    assert tidy_title("i think it works") == "I think it works"  # English by default
    long = "le magma épais retient le gaz et la pression monte jusqu'à ce que la montagne se déchire dans la"
    assert tidy_title(long, fr).split()[-1] not in fr.dangling


# A language without word lists ----------------------------------------------------------------------

# Turkish: "Her" is "every"; the English lists would take it for "her", an opener leaning back.
TURKISH = OTHERS["turkish"]


@pytest.mark.parametrize("label", ["tr", "", "tr-TR"])
def test_a_language_without_lists_is_not_scored_with_the_english_ones(label):
    t = only(TURKISH, label)
    assert resolve_language(t) == (label.split("-")[0] or None)  # unlabelled: not guessable as one of the six
    bounds = [(3, 8, 8), (4, 12, 6)]
    neutral = [c for lo, hi, n in bounds
               for c in select_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi)]
    on_her = [c for c in neutral if first_word(c, t) == "Her"]
    assert on_her and all("mid-thought" not in c.reason for c in on_her)  # a fine start in Turkish
    # No English hook or number words read into Turkish ("elli bin" is fifty thousand, but unknown here).
    assert not any("strong claim" in c.reason or "concrete number" in c.reason for c in neutral)
    # Read as English, the same speech loses those openings: what the English lists would do.
    english = [c for lo, hi, n in bounds
               for c in rank_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi,
                                   language="en").choices]
    assert all("mid-thought" in c.reason for c in english if first_word(c, t) == "Her")


def first_word(c, t) -> str:
    return next(w for w in t.words if w.start >= c.start - 1e-3).text


def test_an_instruction_in_a_language_without_lists_still_finds_its_topic_by_keywords():
    t = only(TURKISH, "tr")
    (clip,) = select_clips(t, duration=t.duration, max_clips=1, min_duration=3, max_duration=6,
                           instructions="volkanlar")
    assert "Volkanlar" in " ".join(w.text for w in t.words if c_in(w, clip))
    assert "on the requested topic" in clip.reason.lower()


def c_in(w, c) -> bool:
    return c.start - 1e-3 <= w.start and w.end <= c.end + 1e-3


# Unspaced scripts ---------------------------------------------------------------------------------

CHINESE = OTHERS["chinese"]  # bees, then volcanoes


def chinese():
    # Whisper writes Chinese as unspaced pieces of a few characters, punctuation attached.
    pieces = [" ".join(s[k : k + 3] for k in range(0, len(s), 3)) for s in CHINESE]
    return only(pieces, "zh")


def test_chinese_is_split_at_its_own_marks_and_matched_by_character_pairs():
    t = chinese()
    assert len(sentence_units(t)) == len(CHINESE)
    volcano_start = sentence_units(t)[8].start
    clips = select_clips(t, duration=t.duration, max_clips=2, min_duration=8, max_duration=25, instructions="火山喷发")
    top = max(clips, key=lambda c: c.score)
    assert top.start >= volcano_start - 0.5 and "on the requested topic" in top.reason.lower(), top
    assert all(len(c.title) <= 70 for c in clips)


def test_an_inverted_question_mark_opens_a_sentence():
    t = only(["Depende de muchas cosas ¿verdad? Sí, de muchas."], "es")
    assert [u.text for u in sentence_units(t)] == ["Depende de muchas cosas", "¿verdad?", "Sí, de muchas."]
