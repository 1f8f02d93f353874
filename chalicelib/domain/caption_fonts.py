"""Which shipped font draws each character of a burned caption. Pure: no I/O.

libass takes fonts only from chalicelib/assets/fonts (ffmpeg's fontconfig knows none), and
when the style's font lacks a glyph its fallback asks fontconfig, finds nothing and draws a
box. So captions name the font of every run of text themselves (``{\\fn...}``), by script:

- DejaVu Sans Bold: Latin (all accents), Cyrillic, Greek, and whatever else it has;
- Noto Sans Arabic / Hebrew / Devanagari Bold: those scripts (shaped by libass's HarfBuzz);
- Noto Sans CJK SC / JP / KR Bold, subset: Han in Chinese or Japanese forms (JP for Japanese
  text, SC otherwise), kana from JP, Hangul from KR.

Spaces, digits and punctuation stay in the font of the run around them when it has them, so a
run of Arabic is shaped as one. A character no shipped font has is left out of the burned
caption (the sidecars keep it) and reported by ``missing``, never drawn as a box.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cache

from chalicelib.domain import font_coverage, scripts

LATIN = "DejaVu Sans"
ARABIC = "Noto Sans Arabic"
HEBREW = "Noto Sans Hebrew"
DEVANAGARI = "Noto Sans Devanagari"
CJK_SC = "Noto Sans CJK SC"
CJK_JP = "Noto Sans CJK JP"
CJK_KR = "Noto Sans CJK KR"
FAMILIES = (LATIN, ARABIC, HEBREW, DEVANAGARI, CJK_SC, CJK_JP, CJK_KR)

_ARABIC = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_HEBREW = ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))
_DEVANAGARI = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))


@dataclass(frozen=True)
class Font:
    family: str
    file: str  # in chalicelib/assets/fonts
    sha256: str
    _starts: tuple[int, ...]
    _ends: tuple[int, ...]

    def covers(self, char: str) -> bool:
        cp = ord(char)
        i = bisect.bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]

    @property
    def size(self) -> int:
        """Characters in the font's character map."""
        return sum(b - a + 1 for a, b in zip(self._starts, self._ends))


@cache
def fonts() -> dict[str, Font]:
    out = {}
    for family, (file, digest, text) in font_coverage.FONTS.items():
        spans = [tuple(int(h, 16) for h in token.split("-")) for token in text.split()]
        out[family] = Font(family, file, digest, tuple(s[0] for s in spans), tuple(s[-1] for s in spans))
    return out


def _in(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(a <= cp <= b for a, b in ranges)


def cjk_family(language: str | None, text: str) -> str:
    """The CJK font whose glyph forms suit the text: JP for Japanese, KR for Korean, SC for
    Chinese; an unknown language is judged by the characters (kana: Japanese, Hangul: Korean)."""
    code = scripts.language_code(language)
    if code == "ja" or (code is None and any(scripts.is_kana(c) for c in text)):
        return CJK_JP
    if code == "ko" or (code is None and any(scripts.is_hangul(c) for c in text)):
        return CJK_KR
    return CJK_SC


def _candidates(char: str, cjk: str) -> tuple[str, ...]:
    """Families to try for ``char``, best first: its script's font, then any font that has it."""
    cp = ord(char)
    if _in(cp, _ARABIC):
        first: tuple[str, ...] = (ARABIC,)
    elif _in(cp, _HEBREW):
        first = (HEBREW,)
    elif _in(cp, _DEVANAGARI):
        first = (DEVANAGARI,)
    elif scripts.is_hangul(char):
        first = (CJK_KR,)
    elif scripts.is_kana(char):
        first = (CJK_JP,)
    elif scripts.is_unspaced(char):
        first = (cjk, CJK_JP) if cjk == CJK_JP else (cjk, CJK_SC, CJK_JP)
    else:
        first = (LATIN,)
    return first + tuple(f for f in FAMILIES if f not in first)


def _neutral(char: str) -> bool:
    """Spaces, punctuation, digits, symbols and marks: they take the font of the run they are in."""
    return char.isspace() or not char.isalpha()


def font_runs(text: str, language: str | None = None, cjk: str | None = None) -> list[tuple[str | None, str]]:
    """``text`` as consecutive runs, each with the family that draws it; ``None`` for
    characters no shipped font has. ``cjk``: the CJK font to prefer (default: ``cjk_family``
    of ``text``; pass the whole clip's so every caption of a clip agrees)."""
    table = fonts()
    cjk = cjk or cjk_family(language, text)
    runs: list[tuple[str | None, str]] = []
    current: str | None = None
    for char in text:
        if current is not None and _neutral(char) and table[current].covers(char):
            family: str | None = current
        else:
            family = next((f for f in _candidates(char, cjk) if table[f].covers(char)), None)
        if runs and runs[-1][0] == family:
            runs[-1] = (family, runs[-1][1] + char)
        else:
            runs.append((family, char))
        if family is not None:
            current = family
    return runs


def missing(text: str) -> list[str]:
    """Characters of ``text`` that no shipped font draws, in order of first appearance."""
    table = fonts()
    seen: dict[str, None] = {}
    for char in text:
        if not char.isspace() and not any(f.covers(char) for f in table.values()):
            seen.setdefault(char)
    return list(seen)
