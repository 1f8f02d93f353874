"""Writing systems as captions and titles need them: which text is written without spaces
between words (Chinese, Japanese), how wide a string is on screen, and where a line or a title
may be cut. Pure: no I/O.

Width is counted in "narrow cells": a Latin, Cyrillic, Arabic... character is 1, a wide East
Asian one (Han, kana, Hangul, fullwidth forms) is 2, a combining mark or format character 0.
Breaks follow the gist of Unicode line breaking (UAX #14) for the scripts we caption: after a
space, or between two characters where either is Chinese or Japanese, but never before closing
punctuation or small kana nor after opening punctuation (Japanese kinsoku), never before a
combining mark, and never inside a run of Latin letters or digits ("iPhone 15" stays whole).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from itertools import pairwise

# Languages written without spaces between words (ISO 639 codes, as transcribers report them:
# "zh", "ja", "zh-CN", "yue").
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "yue", "wuu", "cmn", "lzh"})

# Code point ranges of Chinese and Japanese writing: radicals, CJK punctuation, kana,
# bopomofo, Han (all extensions), compatibility ideographs and forms, fullwidth/halfwidth forms.
_UNSPACED_RANGES = (
    (0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x312F), (0x3190, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFF9F),
    (0x20000, 0x3FFFF),
)
# Japanese kinsoku and its Chinese equivalent: characters a line must not start with...
NO_BREAK_BEFORE = frozenset(
    "、。，．・：；？！゛゜ヽヾゝゞ々〻ー‐゠–〜～…‥"
    "）］｝〕〉》」』】〙〗〟’”｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    ".,:;!?)]}%"
)
# ... and must not end with.
NO_BREAK_AFTER = frozenset("（［｛〔〈《「『【〘〖〝‘“｟«([{$")
# Marks that end a sentence or a clause in Chinese and Japanese text (no space follows them).
UNSPACED_SENTENCE_ENDS = ("。", "？", "！", "．")
UNSPACED_CLAUSE_BREAKS = ("，", "、", "；", "：")


def language_code(language: str | None) -> str | None:
    """The primary ISO 639 subtag of a language tag ("zh-CN" -> "zh"); None when unknown."""
    if not language:
        return None
    code = language.strip().replace("_", "-").split("-")[0].lower()
    return None if code in ("", "auto", "und", "unknown") else code


def is_unspaced(char: str) -> bool:
    """Whether ``char`` belongs to Chinese or Japanese writing (Han, kana, CJK punctuation)."""
    cp = ord(char)
    return any(a <= cp <= b for a, b in _UNSPACED_RANGES)


def is_hangul(char: str) -> bool:
    cp = ord(char)
    return 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F or 0xA960 <= cp <= 0xA97F


def is_kana(char: str) -> bool:
    cp = ord(char)
    return 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F


def joins_without_spaces(language: str | None = None, text: str = "") -> bool:
    """Whether words of this language (or, when the language is unknown, of this text) are
    written without spaces between them: Chinese and Japanese. Unknown language: when at least
    half the letters of ``text`` are Han or kana."""
    code = language_code(language)
    if code is not None:
        return code in UNSPACED_LANGUAGES
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and 2 * sum(is_unspaced(c) for c in letters) >= len(letters)


def join_words(words: Iterable[str], unspaced: bool) -> str:
    """Words as one line of text: with spaces between them, or (``unspaced``) with none where
    either side is Chinese or Japanese, keeping the space between two words of another script
    ("用iPhone 15拍的")."""
    out = ""
    for word in words:
        if not word:
            continue
        if out and not (unspaced and (is_unspaced(out[-1]) or is_unspaced(word[0]))):
            out += " "
        out += word
    return out


def char_width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    """On-screen width in narrow cells: wide East Asian characters count double."""
    return sum(char_width(c) for c in text)


def _joins_next(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me", "Mc", "Cf")


def break_positions(text: str) -> list[int]:
    """Indexes ``i`` where a line (or a cut) may fall before ``text[i]``. A space at ``i - 1``
    is then dropped: the line ends before it."""
    out = []
    for i in range(1, len(text)):
        before, after = text[i - 1], text[i]
        if after == " " or before == "\u200d" or _joins_next(after):
            continue
        if before == " " or (
            (is_unspaced(before) or is_unspaced(after))
            and after not in NO_BREAK_BEFORE
            and before not in NO_BREAK_AFTER
        ):
            out.append(i)
    return out


def _line(text: str, start: int, end: int) -> str:
    return text[start:end].strip(" ")


def line_breaks(text: str, max_width: int) -> list[int]:
    """Where to break ``text`` into as few lines of at most ``max_width`` cells as its break
    positions allow (a piece with no break in it may stay wider), the lines balanced: two
    lines of 9 and 8 rather than 16 and 1. Each index starts a line (a space before it is
    dropped); none when the text fits on one line."""
    if text_width(text) <= max_width:
        return []
    breaks = break_positions(text)
    # Fewest lines first (greedy), then balance them: the narrowest width that needs no more lines.
    count = len(_greedy(text, breaks, max_width))
    low, high = 1, max_width
    while low < high:
        mid = (low + high) // 2
        if len(_greedy(text, breaks, mid)) <= count:
            high = mid
        else:
            low = mid + 1
    return [a for a, _ in _greedy(text, breaks, low)[1:]]


def split_lines(text: str, max_width: int) -> list[str]:
    """``text`` broken at ``line_breaks``."""
    bounds = [0, *line_breaks(text, max_width), len(text)]
    return [_line(text, a, b) for a, b in pairwise(bounds)]


def _greedy(text: str, breaks: list[int], max_width: int) -> list[tuple[int, int]]:
    """Spans of lines filled greedily to ``max_width``."""

    def fits(a: int, b: int) -> bool:
        return text_width(_line(text, a, b)) <= max_width

    spans, start, last_fit = [], 0, None
    for b in [*breaks, len(text)]:
        if fits(start, b):
            last_fit = b
            continue
        if last_fit is not None:  # end the line at the last break that fitted, then retry b
            spans.append((start, last_fit))
            start, last_fit = last_fit, None
            if fits(start, b):
                last_fit = b
                continue
        spans.append((start, b))  # a piece with no break wider than a line: alone on its line
        start = b
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if _line(text, a, b)]


def cut(text: str, limit: int) -> str:
    """The longest start of ``text`` of at most ``limit`` characters that ends on a break
    position: whole words for spaced scripts, whole characters (and never a Latin word cut in
    two) for Chinese and Japanese. Empty when the first word alone is longer."""
    if len(text) <= limit:
        return text
    fits = [i for i in break_positions(text) if i <= limit or (i == limit + 1 and text[limit] == " ")]
    return text[: max(fits)].rstrip(" ") if fits else ""
