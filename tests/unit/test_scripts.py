"""Writing systems, pure: which text joins without spaces, on-screen width, where lines and
titles may be cut (whole words, or whole characters in Chinese and Japanese)."""
from __future__ import annotations

import pytest

from chalicelib.domain import scripts
from chalicelib.domain.titles import shorten, tidy_description, tidy_title

CHINESE = "今天我们来聊一聊人工智能的未来发展方向以及它对我们日常生活和工作方式可能带来的各种深远影响"
JAPANESE = (
    "皆さんこんにちは、今日はiPhoneの新しい機能について話しましょう。"
    "それから「人工知能」の未来についても考えます"
)


@pytest.mark.parametrize("language, text, unspaced", [
    ("zh", "", True), ("zh-CN", "", True), ("ja-JP", "", True), ("yue", "", True),
    ("ko", "안녕하세요", False), ("en", CHINESE, False),  # a known language decides
    (None, CHINESE, True), (None, JAPANESE, True), ("auto", "こんにちは", True),
    (None, "안녕하세요 여러분", False), (None, "Привет, мир", False), (None, "", False),
    (None, "we said 你好 once", False),  # mostly Latin letters
])
def test_which_text_is_written_without_spaces(language, text, unspaced):
    assert scripts.joins_without_spaces(language, text) is unspaced


def test_words_join_without_spaces_only_where_chinese_or_japanese_meets():
    words = ["我", "用", "iPhone", "15", "拍", "的", "照片", "。"]
    assert scripts.join_words(words, unspaced=True) == "我用iPhone 15拍的照片。"
    assert scripts.join_words(["Hola", "señor"], unspaced=True) == "Hola señor"
    assert scripts.join_words(["안녕하세요", "여러분"], unspaced=False) == "안녕하세요 여러분"


def test_width_counts_wide_characters_double_and_marks_not_at_all():
    assert scripts.text_width("abc") == 3
    assert scripts.text_width("今天好") == 6 and scripts.text_width("한국어") == 6
    assert scripts.text_width("，。") == 4  # fullwidth punctuation
    assert scripts.text_width("é") == 1 and scripts.text_width("e\u0301") == 1  # precomposed or combining
    assert scripts.text_width("नमस्ते") < len("नमस्ते")  # virama and vowel signs ride on their consonant


def test_chinese_lines_break_between_characters_balanced_within_the_width():
    lines = scripts.split_lines(CHINESE, 18)
    assert "".join(lines) == CHINESE, "no character lost, no space added"
    assert all(scripts.text_width(line) <= 18 for line in lines)
    assert max(map(len, lines)) - min(map(len, lines)) <= 2, lines  # balanced, not 9+9+9+1


def test_japanese_lines_keep_kinsoku_and_latin_words_whole():
    lines = scripts.split_lines(JAPANESE, 20)
    assert "".join(lines) == JAPANESE
    assert all(scripts.text_width(line) <= 20 for line in lines)
    for line in lines:
        assert line[0] not in "、。」ょっー", lines  # no line starts with closing punctuation or small kana
        assert line[-1] != "「", lines
    assert any("iPhone" in line for line in lines), lines  # the Latin word is never split


def test_spaced_lines_break_at_spaces_and_drop_them():
    assert scripts.split_lines("Have you ever wondered why tomatoes", 22) == ["Have you ever", "wondered why tomatoes"]
    assert scripts.split_lines("Supercalifragilistic", 5) == ["Supercalifragilistic"]  # never inside a word
    assert scripts.line_breaks("short", 10) == []


@pytest.mark.parametrize("text, limit, expected", [
    ("Have you ever wondered why homegrown tomatoes", 20, "Have you ever"),
    ("abc def", 3, "abc"),
    ("Supercalifragilistic", 5, ""),
    ("今天天气很好，我们去公园散步吧", 7, "今天天气很好，"),
    ("我用iPhone拍的", 4, "我用"),  # not "我用iP"
    ("Привет всем сегодня", 12, "Привет всем"),
])
def test_cut_ends_on_a_whole_word_or_a_whole_character(text, limit, expected):
    assert scripts.cut(text, limit) == expected


def test_titles_in_chinese_and_japanese_are_cut_on_whole_characters():
    title = tidy_title(CHINESE + "和挑战还有机遇以及我们应该如何准备迎接这个全新的时代")
    assert 0 < len(title) <= 70 and CHINESE.startswith(title[:40])
    japanese = tidy_title(JAPANESE * 2)
    assert 0 < len(japanese) <= 70 and (JAPANESE * 2).startswith(japanese)
    assert "iPhon" not in japanese.replace("iPhone", "")  # never a Latin word cut in two
    # A clause mark far enough in is where the title stops.
    long_sentence = (
        "今天我们来聊一聊人工智能的未来发展方向和它的影响，"
        "以及它对我们日常生活和工作方式可能带来的各种深远影响和挑战"
    )
    assert shorten(long_sentence, 40) == "今天我们来聊一聊人工智能的未来发展方向和它的影响"


def test_titles_in_spaced_scripts_keep_whole_words():
    russian = tidy_title("Привет всем, сегодня мы поговорим о будущем искусственного интеллекта и его влиянии на жизнь")
    assert russian == "Привет всем, сегодня мы поговорим о будущем искусственного интеллекта"
    arabic = tidy_title("مرحبا بكم في برنامجنا اليوم حيث سنتحدث عن مستقبل الذكاء الاصطناعي وتأثيره على حياتنا اليومية")
    assert len(arabic) <= 70 and "مرحبا بكم في برنامجنا اليوم حيث سنتحدث عن مستقبل الذكاء الاصطناعي".startswith(arabic)


def test_chinese_descriptions_keep_whole_sentences_without_spaces():
    sentence = "今天我们来聊一聊人工智能。"
    description = tidy_description(sentence * 20)
    assert description == sentence * 12 and " " not in description  # 156 characters, whole sentences
    long_one = tidy_description("我们" * 100 + "。")
    assert len(long_one) <= 160 and long_one.endswith("。")
