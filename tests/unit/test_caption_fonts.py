"""The shipped caption fonts, checked with fontTools against the captions made from them: every
character of every script's sample is in the character map of the font its run names, the
coverage table the captions read is the fonts' own, and the fonts stay small."""
from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from chalicelib.domain import caption_fonts, captions, font_coverage
from chalicelib.domain.transcript import Word
from script_samples import SAMPLES, sample_words

FONTS_DIR = Path(caption_fonts.__file__).resolve().parents[1] / "assets" / "fonts"
# What the fonts may add to every Lambda function (all of chalicelib ships to each).
FONTS_BUDGET_BYTES = 9_000_000


@cache
def cmap(family: str) -> frozenset[int]:
    file = font_coverage.FONTS[family][0]
    return frozenset(TTFont(FONTS_DIR / file, lazy=True).getBestCmap())


def drawn_characters(script: str) -> list[tuple[str, str]]:
    """(family, character) for every character the ASS events draw, following the style's
    font and the ``\\fn`` overrides as libass does."""
    out = []
    for line in script.splitlines():
        if not line.startswith("Dialogue:"):
            continue
        text = line.split(",", 9)[9].replace("\\N", "")
        family = captions.FONT_NAME
        for block, chars in re.findall(r"(\{[^}]*\})?([^{]*)", text):
            for name in re.findall(r"\\fn([^\\}]*)", block):
                family = name or captions.FONT_NAME
            out += [(family, c) for c in chars]
    return out


def test_the_coverage_table_is_the_fonts_own_character_map():
    files = {p.name for p in FONTS_DIR.iterdir() if p.suffix in (".ttf", ".otf")}
    assert files == {file for file, _, _ in font_coverage.FONTS.values()}, "every shipped font is described"
    for family, (file, digest, _) in font_coverage.FONTS.items():
        path = FONTS_DIR / file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{file} changed: run tools/make_caption_fonts"
        font = TTFont(path, lazy=True)
        assert font["name"].getBestFamilyName() == family
        shipped = caption_fonts.fonts()[family]
        assert shipped.size == len(cmap(family))
        assert all(shipped.covers(chr(cp)) for cp in cmap(family))
    assert set(caption_fonts.FAMILIES) == set(font_coverage.FONTS)


@pytest.mark.parametrize("script", SAMPLES)
def test_every_caption_character_is_in_the_font_that_draws_it(script):
    language, _ = SAMPLES[script]
    words = sample_words(script)
    for lang in (language, None):  # with the transcript's language, and judged from the text
        drawn = drawn_characters(captions.to_ass(words, 1080, 1920, language=lang))
        assert drawn, script
        missing = [(f, c, f"U+{ord(c):04X}") for f, c in drawn if ord(c) not in cmap(f)]
        assert not missing, missing
        # Nothing is left out: every character of the words is burned.
        assert {c for _, c in drawn if not c.isspace()} == set("".join(w.text for w in words))
    assert captions.missing_characters(words) == []


def test_each_script_is_drawn_by_its_own_font():
    expected = {
        "latin": {"DejaVu Sans"}, "cyrillic": {"DejaVu Sans"}, "greek": {"DejaVu Sans"},
        "arabic": {"Noto Sans Arabic"}, "hebrew": {"Noto Sans Hebrew"}, "devanagari": {"Noto Sans Devanagari"},
        "chinese": {"Noto Sans CJK SC"}, "japanese": {"Noto Sans CJK JP"}, "korean": {"Noto Sans CJK KR"},
    }
    for script, (language, _) in SAMPLES.items():
        drawn = drawn_characters(captions.to_ass(sample_words(script), 1080, 1920, language=language))
        letters = {f for f, c in drawn if c.isalpha()}
        assert letters == expected[script], (script, letters)


def test_japanese_kanji_take_japanese_forms_and_chinese_han_chinese_forms():
    runs = caption_fonts.font_runs("直角骨", "ja")
    assert runs == [("Noto Sans CJK JP", "直角骨")]
    assert caption_fonts.font_runs("直角骨", "zh") == [("Noto Sans CJK SC", "直角骨")]
    assert caption_fonts.font_runs("直角骨です", None)[0][0] == "Noto Sans CJK JP"  # kana: Japanese
    # A rare kanji the Japanese subset leaves to the Chinese one still gets drawn.
    japanese = cmap("Noto Sans CJK JP")
    rare = next(chr(cp) for cp in sorted(cmap("Noto Sans CJK SC")) if 0x4E00 <= cp and cp not in japanese)
    assert caption_fonts.font_runs(rare, "ja") == [("Noto Sans CJK SC", rare)]
    # Punctuation inside a Hebrew run that the Hebrew font lacks comes from DejaVu, not as a box.
    assert caption_fonts.font_runs("שלום, עולם", "he")[1] == ("DejaVu Sans", ", ")


def test_characters_no_font_has_are_left_out_of_burned_captions_and_reported():
    words = [Word("I", 0.0, 0.2, 1), Word("love", 0.2, 0.4, 1), Word("🍕pizza", 0.4, 0.8, 1), Word("𓀀.", 0.8, 1, 1)]
    assert captions.missing_characters(words) == ["🍕", "𓀀"]
    ass = captions.to_ass(words, 1080, 1920)
    assert "🍕" not in ass and "𓀀" not in ass and "pizza" in ass
    assert "🍕pizza" in captions.to_srt(words) and "𓀀." in captions.to_vtt(words)  # sidecars keep them


def test_coverage_of_chinese_japanese_and_korean():
    """The CJK subsets cover the national standard sets (the text people speak and write)."""
    def han(codec: str, leads: range, trails: list[int]) -> set[int]:
        out = set()
        for lead in leads:
            for trail in trails:
                try:
                    c = bytes([lead, trail]).decode(codec)
                except UnicodeDecodeError:
                    continue
                if len(c) == 1 and 0x4E00 <= ord(c) <= 0x9FFF:
                    out.add(ord(c))
        return out

    drawn = cmap("Noto Sans CJK SC") | cmap("Noto Sans CJK JP")
    gb2312 = han("gb2312", range(0xB0, 0xF8), list(range(0xA1, 0xFF)))
    big5 = han("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
    jis = han("euc_jp", range(0xB0, 0xF5), list(range(0xA1, 0xFF)))
    assert (len(gb2312), len(big5), len(jis)) == (6763, 5401, 6355)
    assert gb2312 | big5 | jis <= drawn
    assert set(range(0x3041, 0x3097)) | set(range(0x30A1, 0x30FB)) <= cmap("Noto Sans CJK JP")  # all kana
    assert set(range(0xAC00, 0xD7A4)) <= cmap("Noto Sans CJK KR")  # all 11,172 Hangul syllables
    print(f"\nHan drawn: {sum(0x4E00 <= cp <= 0x9FFF for cp in drawn)}")


def test_every_script_is_drawn_at_one_size():
    """libass sizes a font by its Windows cell (usWinAscent + usWinDescent): each Noto subset's
    cell is DejaVu's divided by its em scale, so Arabic is not drawn at half the Latin size."""
    def cell(family: str) -> float:
        font = TTFont(FONTS_DIR / font_coverage.FONTS[family][0], lazy=True)
        return (font["OS/2"].usWinAscent + font["OS/2"].usWinDescent) / font["head"].unitsPerEm

    latin = cell("DejaVu Sans")
    for family in caption_fonts.FAMILIES[1:]:
        assert 0.85 <= latin / cell(family) <= 1.15, family


def test_fonts_are_licensed_and_small():
    assert (FONTS_DIR / "LICENSE").is_file()  # DejaVu
    ofl = (FONTS_DIR / "OFL.txt").read_text()
    assert "SIL OPEN FONT LICENSE" in ofl and "Version 1.1" in ofl
    assert all(family in ofl for family in caption_fonts.FAMILIES if family.startswith("Noto"))
    sizes = {p.name: p.stat().st_size for p in FONTS_DIR.iterdir()}
    print("\n" + "\n".join(f"{name:40s} {size / 1e6:5.2f} MB" for name, size in sorted(sizes.items())))
    print(f"{'total':40s} {sum(sizes.values()) / 1e6:5.2f} MB")
    assert sum(sizes.values()) < FONTS_BUDGET_BYTES
