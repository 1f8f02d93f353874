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
    assert t.language == "en"  # Klyph's code for the job's locale en-US
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


def aws_doc(locale, tokens, identified=True):
    """Amazon Transcribe output as it comes for Chinese or Japanese: timed words with no spaces
    between them (characters or short words), punctuation items of their own."""
    items, t = [], 0.3
    for token in tokens:
        if token in "。，？！、":
            items.append({"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": token}]})
            continue
        items.append({"type": "pronunciation", "start_time": f"{t:.2f}", "end_time": f"{t + 0.3:.2f}",
                      "alternatives": [{"confidence": "0.97", "content": token}]})
        t += 0.35
    results = {"transcripts": [{"transcript": "".join(tokens)}], "items": items, "language_code": locale}
    if identified:
        results["language_identification"] = [{"code": locale, "score": "0.98"}, {"code": "en-US", "score": "0.01"}]
    return {"jobName": "call_1", "accountId": "1", "status": "COMPLETED", "results": results}


def test_parse_aws_chinese_joins_words_without_spaces_and_splits_on_full_stops():
    doc = aws_doc("zh-CN", ["大家", "好", "，", "欢迎", "收听", "。", "今天", "我们", "聊", "定价", "。"])
    t = parse_aws_transcribe(doc, "zh-CN")
    assert t.language == "zh"
    assert [w.text for w in t.words] == ["大家", "好，", "欢迎", "收听。", "今天", "我们", "聊", "定价。"]
    assert [s.text for s in t.segments] == ["大家好，欢迎收听。", "今天我们聊定价。"]
    assert Transcript.from_dict(json.loads(json.dumps(t.to_dict()))) == t  # the separator survives the trip


def test_parse_aws_japanese_identified_language_comes_from_the_job_or_the_output():
    doc = aws_doc("ja-JP", ["値段", "を", "決める", "の", "は", "難しい", "です", "。", "本当", "に", "？"])
    for t in (parse_aws_transcribe(doc, "ja-JP"), parse_aws_transcribe(doc)):
        assert t.language == "ja"
        assert [s.text for s in t.segments] == ["値段を決めるのは難しいです。", "本当に？"]
        assert t.separator == ""


def test_sentences_end_at_arabic_and_devanagari_marks_too():
    words = words_from("چقدر می‌دهند؟ خوب است. यह अच्छा है। ठीक")
    assert [s.text for s in sentences(words)] == ["چقدر می‌دهند؟", "خوب است.", "यह अच्छा है।", "ठीक"]
