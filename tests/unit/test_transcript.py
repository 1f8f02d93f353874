"""The normalised transcript: sentence splitting, the Amazon Transcribe parser, JSON round trip."""
import json
from pathlib import Path

import pytest

from chalicelib.domain.transcript import Transcript, Word, build_transcript, parse_aws_transcribe, sentences

FIXTURE = Path(__file__).parent.parent / "fixtures" / "aws_transcribe_output.json"


def words_from(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    out = []
    for token in text.split():
        out.append(Word(token, round(start, 3), round(start + step - 0.1, 3), 0.9))
        start += step
    return out


def test_sentences_split_on_final_punctuation_and_keep_word_ranges():
    words = words_from("Hello there. Is it working? Yes! It is, mostly.")
    segs = sentences(words)
    assert [s.text for s in segs] == ["Hello there.", "Is it working?", "Yes!", "It is, mostly."]
    assert [(s.first_word, s.last_word) for s in segs] == [(0, 2), (2, 5), (5, 6), (6, 9)]
    assert segs[1].start == words[2].start and segs[1].end == words[4].end


def test_sentences_split_unpunctuated_text_on_long_pauses_only():
    words = words_from("so we went there", 0.0) + words_from("and then it rained", 3.0) + words_from("a lot", 4.8)
    assert [s.text for s in sentences(words)] == ["so we went there", "and then it rained a lot"]


def test_sentences_ignore_abbreviations_and_ellipses():
    words = words_from('Dr. Smith said... well, "it works." Done')
    assert [s.text for s in sentences(words)] == ['Dr. Smith said... well, "it works."', "Done"]


def test_sentences_of_nothing():
    assert sentences([]) == []


def test_parse_aws_transcribe_fixture():
    doc = json.loads(FIXTURE.read_text())
    t = parse_aws_transcribe(doc)
    assert t.language == "en-US"
    assert " ".join(w.text for w in t.words) == doc["results"]["transcripts"][0]["transcript"]
    assert t.words[1].text == "everyone,"  # punctuation belongs to the word before it
    assert t.words[0].start == 0.52 and t.words[0].confidence == pytest.approx(0.998)
    assert all(a.end <= b.start for a, b in zip(t.words, t.words[1:]))
    assert [s.text for s in t.segments] == [
        "Hi everyone, welcome back to the show.",
        "Why do most startups underprice their product?",
        "Founders are afraid of losing customers.",
        "But a higher price often brings better customers, and fewer support tickets.",
    ]
    assert t.duration == t.words[-1].end


def test_parse_aws_transcribe_without_speech():
    t = parse_aws_transcribe({"results": {"transcripts": [{"transcript": ""}], "items": []}})
    assert t.words == [] and t.segments == [] and t.duration == 0.0


def test_round_trip_is_lossless_at_millisecond_precision_and_json_safe():
    t = build_transcript("en", 12.5, words_from("One two. Three four five? Six.", 1.0))
    data = json.loads(json.dumps(t.to_dict()))
    assert Transcript.from_dict(data) == t
    assert data["segments"] == [[0, 2], [2, 5], [5, 6]]


def test_from_dict_rejects_unknown_versions():
    with pytest.raises(ValueError, match="version"):
        Transcript.from_dict({"v": 99, "language": "en", "duration": 0, "words": [], "segments": []})
