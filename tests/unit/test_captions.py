"""Caption generation, pure: which words a clip shows, how they are grouped, and the ASS, SRT
and WebVTT text (content and timing) made from them."""
from __future__ import annotations

import re

import pytest

from chalicelib.domain import captions, scripts
from chalicelib.domain.captions import caption_groups, clip_words, cue_groups, layout, to_ass, to_srt, to_vtt
from chalicelib.domain.transcript import Word, ends_sentence


def _words(text: str, start: float = 0.0, step: float = 0.3, pauses: dict[int, float] | None = None) -> list[Word]:
    """Words of ``text`` every ``step`` s (each lasting 80% of it); ``pauses`` adds silence before word i."""
    out, t = [], start
    for i, token in enumerate(text.split()):
        t += (pauses or {}).get(i, 0.0)
        out.append(Word(token, round(t, 3), round(t + 0.8 * step, 3), 0.9))
        t += step
    return out


_FIRST = _words(
    "Have you ever wondered why homegrown tomatoes taste so much better than the ones from the store? "
    "The secret is time on the vine. Commercial tomatoes are picked green, so they survive shipping. "
    "At home, you can wait until the fruit is deep red and slightly soft. Yes.",
    start=1.0,
)
# After a 1.5 s pause (a paragraph break).
SPEECH = _FIRST + _words(
    "Now let's talk about something completely different: electric bikes for commuting.", start=_FIRST[-1].end + 1.5
)


# --- ASS parsing helpers (what libass reads) ---

_DIALOGUE = re.compile(
    r"^Dialogue: 0,(\d+):(\d\d):(\d\d)\.(\d\d),(\d+):(\d\d):(\d\d)\.(\d\d),Word,,0,0,0,,(.*)$", re.MULTILINE
)
_HIGHLIGHT = re.compile(r"\{\\1c&H00E0FF&\}(.*?)\{\\1c&HFFFFFF&\}")


def _seconds(h, m, s, cs):
    return int(h) * 3600 + int(m) * 60 + int(s) + int(cs) / 100


def ass_events(script: str) -> list[tuple[float, float, str, str]]:
    """(start, end, plain text, highlighted word) of each Dialogue line."""
    out = []
    for m in _DIALOGUE.finditer(script):
        text = m.group(9)
        highlighted = _HIGHLIGHT.search(text)
        plain = re.sub(r"\{[^}]*\}", "", text)
        out.append((_seconds(*m.group(1, 2, 3, 4)), _seconds(*m.group(5, 6, 7, 8)), plain,
                    highlighted and highlighted.group(1)))
    return out


_CUE_TIME = r"(\d\d):(\d\d):(\d\d)[,.](\d{3})"


def sidecar_cues(text: str) -> list[tuple[float, float, list[str]]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        m = re.match(rf"^{_CUE_TIME} --> {_CUE_TIME}$", lines[timing])
        assert m, lines[timing]
        g = m.groups()
        start = int(g[0]) * 3600 + int(g[1]) * 60 + int(g[2]) + int(g[3]) / 1000
        end = int(g[4]) * 3600 + int(g[5]) * 60 + int(g[6]) + int(g[7]) / 1000
        out.append((start, end, lines[timing + 1:]))
    return out


# --- clip words ---

def test_clip_words_keeps_the_words_inside_and_shifts_them_to_clip_time():
    words = [Word("a", 0.5, 0.9, 1), Word("b", 1.0, 1.4, 1), Word("cut", 1.9, 2.5, 1), Word("d", 2.2, 2.9, 1),
             Word("late", 4.9, 5.6, 1)]
    got = clip_words(words, 1.0, 5.0)
    # "late" is mostly outside; "cut" is inside; times shifted and clamped to the clip length.
    assert [(w.text, w.start, w.end) for w in got] == [("b", 0.0, 0.4), ("cut", 0.9, 1.5), ("d", 1.2, 1.9)]
    assert clip_words(words, 10.0, 20.0) == []


def test_clip_words_counts_a_word_cut_by_an_edge_when_most_of_it_is_inside():
    got = clip_words([Word("edge", 9.8, 10.6, 1)], 10.0, 20.0)
    assert [(w.text, w.start, w.end) for w in got] == [("edge", 0.0, 0.6)]
    assert clip_words([Word("edge", 9.0, 10.2, 1)], 10.0, 20.0) == []


# --- grouping ---

def _sentence_of(word: Word) -> list[Word]:
    i = SPEECH.index(word)
    while i and not ends_sentence(SPEECH[i - 1].text):
        i -= 1
    j = i
    while not ends_sentence(SPEECH[j].text):
        j += 1
    return SPEECH[i: j + 1]


def test_groups_are_three_to_seven_words_and_never_cross_a_sentence_or_a_pause():
    groups = caption_groups(SPEECH, max_chars=36)
    assert [w for g in groups for w in g] == SPEECH, "every word once, in order"
    for g in groups:
        assert len(g) <= 7 and captions._chars(g) <= 36
        assert not any(ends_sentence(w.text) for w in g[:-1]), [w.text for w in g]
        assert all(b.start - a.end <= captions.GROUP_PAUSE_SECONDS for a, b in zip(g, g[1:]))
        # Only a short sentence ("Yes.") stands alone; other groups have 3 words or more.
        assert len(g) >= 3 or (ends_sentence(g[-1].text) and len(g) == len(_sentence_of(g[0])))
    texts = [" ".join(w.text for w in g) for g in groups]
    assert "Yes." in texts
    assert not any(t.split()[-1] in {"the", "a", "to", "of", "and"} for t in texts), texts


def test_groups_break_after_a_comma_rather_than_in_even_halves():
    groups = caption_groups(_words("If you wait, the fruit gets sweeter and softer"), max_chars=36)
    assert [" ".join(w.text for w in g) for g in groups] == ["If you wait,", "the fruit gets sweeter and softer"]


def test_groups_respect_the_character_budget_of_narrow_frames():
    words = _words("Internationalization considerations complicate straightforward implementations considerably.")
    groups = caption_groups(words, max_chars=20)
    assert all(len(g) == 1 or captions._chars(g) <= 20 for g in groups)


def test_cues_are_sentences_that_fit_two_lines_and_seven_seconds():
    groups = cue_groups(SPEECH)
    assert [w for g in groups for w in g] == SPEECH
    for g in groups:
        assert captions._chars(g) <= 84 and g[-1].end - g[0].start <= 7.0
        assert not any(ends_sentence(w.text) for w in g[:-1])
    texts = [" ".join(w.text for w in g) for g in groups]
    assert "The secret is time on the vine." in texts and "Yes." in texts


# --- layout ---

@pytest.mark.parametrize("size", [(1080, 1920), (1080, 1080), (1920, 1080), (202, 360), (404, 720)])
def test_layout_scales_with_the_frame_and_stays_in_the_safe_area(size):
    w, h = size
    box = layout(w, h)
    x0, y0, x1, y1 = box.safe_box
    assert 0 <= x0 and x1 <= w and 0 <= y0 < y1 <= h
    assert box.margin_bottom >= 0.1 * h
    if h > w:  # portrait: above the bottom 20% of platform UI, clear of the button rail
        assert y1 <= 0.8 * h and box.margin_x >= 0.1 * w
        assert 0.035 * h <= box.font_size <= 0.05 * h
    assert box.outline >= 0.08 * box.font_size
    assert 12 <= box.line_chars <= 50


def test_layout_for_a_phone_frame():
    box = layout(1080, 1920)
    assert (box.font_size, box.margin_x, box.margin_bottom) == (81, 130, 422)


# --- ASS ---

def test_ass_highlights_each_word_while_it_is_spoken():
    script = to_ass(SPEECH, 1080, 1920)
    assert "PlayResX: 1080" in script and "PlayResY: 1920" in script
    assert "Style: Word,DejaVu Sans,81,&H00FFFFFF," in script and ",-1,0,0,0," in script  # bold
    events = ass_events(script)
    assert [e[3] for e in events] == [w.text for w in SPEECH], "one highlighted event per word, in order"
    for (start, end, plain, _word), w in zip(events, SPEECH):
        assert abs(start - w.start) <= 0.01, (w, start)
        assert end > start and w.text in plain.split()
    for a, b in zip(events, events[1:]):
        assert a[1] <= b[0] + 1e-9, "events never overlap"
    # Within a group the text stays the same (no re-layout), only the highlight moves.
    groups = caption_groups(SPEECH, max_chars=2 * layout(1080, 1920).line_chars)
    i = 0
    for g in groups:
        texts = {events[i + k][2] for k in range(len(g))}
        assert texts == {" ".join(w.text for w in g)}
        # The group stays up through its words and a short hold, unless the next one starts.
        assert events[i + len(g) - 1][1] >= g[-1].end - 0.01
        i += len(g)


def test_ass_for_the_split_layout_sits_on_the_seam():
    # Bottom-centre above the platform band normally; middle-centre (between the two stacked
    # faces) for the split layout.
    style = next(line for line in to_ass(SPEECH, 1080, 1920).splitlines() if line.startswith("Style:"))
    assert style.split(",")[-5:] == ["2", "130", "130", "422", "-1"]
    style = next(line for line in to_ass(SPEECH, 1080, 1920, middle=True).splitlines() if line.startswith("Style:"))
    assert style.split(",")[-5:] == ["5", "130", "130", "0", "-1"]


def test_ass_shows_nothing_in_a_long_pause():
    events = ass_events(to_ass(SPEECH, 1080, 1920))
    pause_start = SPEECH[len(_FIRST) - 1].end
    pause_end = SPEECH[len(_FIRST)].start
    assert pause_end - pause_start >= 1.5
    assert not [e for e in events if e[0] < pause_end - 0.01 and e[1] > pause_start + captions.HOLD_SECONDS + 0.01]


def test_ass_escapes_override_characters_in_words():
    script = to_ass([Word("{\\b1}bold", 0.0, 0.5, 1), Word("back\\Nslash", 0.5, 1.0, 1)], 1080, 1920)
    body = script.split("[Events]")[1]
    assert "\\b1" not in body and "\\N" not in body
    assert "(/b1)bold" in body and "back/Nslash" in body


def test_ass_shrinks_a_word_too_long_for_a_line():
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    script = to_ass([Word(long_word, 0.0, 1.0, 1)], 202, 360)
    assert re.search(r"\{\\fs(\d+)\}", script)


def test_no_words_give_empty_captions():
    assert ass_events(to_ass([], 1080, 1920)) == []
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n\n"


# --- SRT / VTT ---

@pytest.mark.parametrize("render", [to_srt, to_vtt])
def test_sidecars_carry_every_word_at_its_time(render):
    text = render(SPEECH)
    cues = sidecar_cues(text)
    assert " ".join(" ".join(lines) for _, _, lines in cues).split() == [w.text for w in SPEECH]
    i = 0
    for start, end, lines in cues:
        n = len(" ".join(lines).split())
        first, last = SPEECH[i], SPEECH[i + n - 1]
        assert abs(start - first.start) <= 0.001 and last.end - 0.001 <= end <= last.end + 0.3 + 0.001
        assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines)
        i += n
    for a, b in zip(cues, cues[1:]):
        assert a[1] <= b[0]


def test_srt_and_vtt_formats():
    words = [Word("Fish", 61.5, 61.9, 1), Word("&", 62.0, 62.1, 1), Word("<chips>.", 62.2, 62.8, 1)]
    srt = to_srt(words)
    assert srt == "1\n00:01:01,500 --> 00:01:03,100\nFish & <chips>.\n"
    vtt = to_vtt(words)
    assert vtt == "WEBVTT\n\n00:01:01.500 --> 00:01:03.100\nFish &amp; &lt;chips&gt;.\n\n"


def test_long_cue_lines_are_balanced_and_do_not_end_on_weak_words():
    words = _words("At home, you can wait until the fruit is deep red and slightly soft.")
    [(_start, _end, lines)] = sidecar_cues(to_srt(words))
    assert lines == ["At home, you can wait until the fruit", "is deep red and slightly soft."]


# --- every script ---

def _lines_of_events(script: str) -> list[list[str]]:
    """The lines of each Dialogue event as drawn: override blocks removed, split at \\N."""
    out = []
    for line in script.splitlines():
        if line.startswith("Dialogue:"):
            text = re.sub(r"\{[^}]*\}", "", line.split(",", 9)[9])
            out.append(text.split("\\N"))
    return out


CHINESE_TALK = [
    "大家", "好，", "今天", "我们", "来", "聊一下", "人工", "智能", "在", "日常", "生活", "中", "的", "应用",
    "和", "未来", "可能", "带来", "的", "变化", "。", "首先", "我们", "看看", "现在", "已经", "实现", "的",
    "技术", "吧。",
    # One long name: a group wider than a line, broken between its characters.
    "中华人民共和国全国人民代表大会常务委员会", "通过", "了", "决定。",
]


@pytest.mark.parametrize("language", ["zh", None])
def test_chinese_captions_join_without_spaces_and_break_lines_within_the_width(language):
    words = _words(" ".join(CHINESE_TALK), step=0.2)
    box = layout(360, 640)
    script = to_ass(words, 360, 640, language=language)
    events = ass_events(script)
    assert [e[3].replace("\\N", "") for e in events] == [w.text for w in words], "one highlighted event per word"
    lines = _lines_of_events(script)
    assert all(" " not in line for event in lines for line in event)
    shown = "".join("".join(event) for event, previous in zip(lines, [None, *lines]) if event != previous)
    assert shown == "".join(CHINESE_TALK)
    assert all(len(event) <= 2 for event in lines)
    sizes = [int(m.group(1)) if (m := re.search(r"\{\\fs(\d+)\}", e)) else box.font_size
             for e in script.splitlines() if e.startswith("Dialogue:")]
    for event, size in zip(lines, sizes):  # within the line (a smaller font holds more)
        assert all(scripts.text_width(line) <= box.line_chars * box.font_size // size for line in event), event
    assert any(len(event) == 2 for event in lines), "long groups take two lines"
    for event in lines:  # two lines are balanced, not a full line and a stray character
        if len(event) == 2:
            assert abs(len(event[0]) - len(event[1])) <= 2, event
    assert "{\\fnNoto Sans CJK SC}" in script


def test_japanese_caption_lines_do_not_start_with_closing_punctuation():
    tokens = ["皆さん", "こんにちは", "。", "今日", "は", "「", "人工", "知能", "」", "の", "未来", "について", "話し",
              "ましょう", "。"]
    script = to_ass(_words(" ".join(tokens), step=0.1), 202, 360, language="ja")
    for event in _lines_of_events(script):
        assert all(line and line[0] not in "。、」ょっー" and line[-1] != "「" for line in event), event
    assert "{\\fnNoto Sans CJK JP}" in script


def test_korean_is_spaced_and_its_wide_characters_count_double():
    words = _words("안녕하세요 여러분, 오늘은 인공지능의 미래에 대해 이야기해 봅시다.")
    box = layout(360, 640)
    groups = caption_groups(words, max_chars=2 * box.line_chars)
    assert all(len(g) == 1 or captions._chars(g) <= 2 * box.line_chars for g in groups)
    assert captions._chars(words[:2]) == 2 * 5 + 1 + 2 * 3 + 1  # 안녕하세요 여러분,
    assert "안녕하세요 여러분," in to_ass(words, 360, 640, language="ko")


def test_right_to_left_captions_take_their_direction_from_the_text():
    script = to_ass(_words("مرحبا بكم في برنامجنا اليوم، كيف حالكم؟"), 1080, 1920, language="ar")
    # Encoding -1: libass picks each line's base direction from its first strong character.
    assert re.search(r"^Style: Word,.*,-1$", script, re.MULTILINE)
    assert "{\\fnNoto Sans Arabic}" in script


@pytest.mark.parametrize("script_name", ["latin", "cyrillic", "greek", "arabic", "hebrew", "devanagari", "chinese",
                                         "japanese", "korean"])
def test_sidecars_are_utf8_with_every_character_intact(script_name):
    from script_samples import SAMPLES, sample_words

    language, tokens = SAMPLES[script_name]
    words = sample_words(script_name)
    unspaced = script_name in ("chinese", "japanese")
    expected = scripts.join_words(tokens, unspaced)
    for render in (to_srt, to_vtt):
        data = captions.encode_sidecar(render(words, language))
        assert not data.startswith(b"\xef\xbb\xbf")  # no byte order mark
        text = data.decode("utf-8")
        cue_lines = [line for _, _, lines in sidecar_cues(text) for line in lines]
        joined = scripts.join_words(cue_lines, unspaced)
        assert joined == expected, (joined, expected)
        assert all(scripts.text_width(line) <= captions.CUE_LINE_CHARS for line in cue_lines)


def test_chinese_cues_break_lines_between_characters():
    words = _words(" ".join(CHINESE_TALK), step=0.2)
    cues = sidecar_cues(to_srt(words, "zh"))
    assert all(" " not in line for _, _, lines in cues for line in lines)
    assert "".join(line for _, _, lines in cues for line in lines) == "".join(CHINESE_TALK)
    assert all(len(lines) <= 2 and all(scripts.text_width(x) <= 42 for x in lines) for _, _, lines in cues)


def test_every_preset_the_api_accepts_is_drawn_and_overrides_replace_the_presets_values():
    from chalicelib.models import CAPTION_PRESETS, CaptionStyleOptions

    assert set(CAPTION_PRESETS) == set(captions.PRESETS)
    style = CaptionStyleOptions.model_validate({"preset": "minimal", "highlightColor": "#00ff00", "wordsPerLine": 2})
    drawn = style.style()
    assert (drawn.highlight_rgb, drawn.words_per_line, drawn.font_scale) == ("00FF00", 2, 0.8)
    script = to_ass(SPEECH[:6], 1080, 1920, style=drawn)
    assert "{\\1c&H00FF00&}" in script  # ASS colours are BGR
    assert all(len(e[2].split()) <= 2 for e in ass_events(script))
