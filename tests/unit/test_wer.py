"""Word error rate and recovered words, as the transcription tests and make bench measure them."""
import pytest

from bench.report_transcription import transcription_section
from bench.wer import normalise, score


def test_case_and_punctuation_do_not_count():
    s = score("Feed it every day. Why does the bread taste sour?", "feed it every day why does the bread taste sour")
    assert (s.wer, s.recovered, s.reference) == (0.0, 1.0, 10)


def test_substitutions_deletions_and_insertions_are_told_apart():
    s = score("the cat sat on the mat", "the cat sat sat on a")
    assert (s.substitutions, s.deletions, s.insertions) == (1, 1, 1)
    assert s.hits == 4 and s.wer == pytest.approx(3 / 6) and s.recovered == pytest.approx(4 / 6)


def test_an_empty_transcript_recovers_nothing_and_extra_words_push_wer_past_one():
    assert score("one two three", "").recovered == 0.0
    assert score("one", "one two three four").wer == 3.0


def test_words_keep_inner_apostrophes_and_persian_joiners_are_ignored():
    assert normalise("Don’t STOP, aujourd'hui!") == "don't stop aujourd'hui"
    assert normalise("می‌گذاریم") == normalise("میگذاریم")


def test_japanese_and_chinese_are_compared_by_character():
    s = score("家でパンを作る。", "家でパンお作る", "ja")
    assert s.reference == 7 and s.substitutions == 1 and s.hits == 6


def _row(model, fixture, language, reference, hits, seconds, variant="temperature 0", **extra):
    return {"model": model, "variant": variant, "fixture": fixture, "language": language, "reference": reference,
            "hits": hits, "substitutions": reference - hits, "deletions": 0, "insertions": 0,
            "wer": (reference - hits) / reference, "recovered": hits / reference, "transcribe_seconds": seconds,
            "audio_seconds": 40.0, **extra}


def test_the_report_section_weighs_english_by_words_and_flags_a_wrong_detection():
    raw = {"transcription_models": {
        "threads": 2, "load_seconds": {"tiny.en": 0.3, "base": 0.6},
        "fixtures": {"a": "espeak-ng", "b": "real", "speech_es": "espeak-ng", "speech_de": "espeak-ng"},
        "rows": [
            _row("tiny.en", "a", "en", 100, 90, 1.0), _row("tiny.en", "b", "en", 300, 240, 3.0),
            _row("base", "a", "en", 100, 80, 2.0, detected="en", probability=0.9),
            _row("base", "b", "en", 300, 270, 6.0, detected="en", probability=0.9),
            _row("tiny.en", "a", "en", 100, 90, 2.0, variant="temperature fallback"),
            _row("base", "speech_es", "es", 50, 40, 4.0, detected="es", probability=0.96, detect_seconds=1.0),
            _row("base", "speech_de", "de", 50, 20, 4.0, detected="nn", probability=0.4, detect_seconds=1.0),
        ]}}
    text = transcription_section(raw)
    assert "| **all English, word-weighted** | 400 | **17.5%** / 82.5%" in text  # (10 + 60) / 400
    assert "**12.5%** / 87.5%" in text  # base: (20 + 30) / 400
    assert "| Spanish (`es`): `speech_es` | 40 s | es (0.96) |" in text
    assert "nn (0.40) ✗" in text
    assert transcription_section({}) == ""
