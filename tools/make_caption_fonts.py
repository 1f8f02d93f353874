"""Rebuild the caption fonts in ``chalicelib/assets/fonts`` and their coverage table
``chalicelib/domain/font_coverage.py`` from Debian's Noto packages.

    apt-get install fonts-noto-core fonts-noto-cjk   # Debian 12: 20201225-1, 1:20220127+repack1-1
    .venv/bin/python -m tools.make_caption_fonts      # about a minute; needs fonttools (tests/requirements.txt)

Every file under chalicelib/ ships to every Lambda function, so the fonts are subset to what
captions draw, without hinting (libass renders unhinted): the whole script for Arabic, Hebrew
and Devanagari, and for CJK the characters of the national standard sets, which cover the
text people speak (see ``cjk_sets``); Han outside them is rare enough to be reported instead.
Their vertical metrics are changed so libass draws every script at one size (``EM_SCALE``).
The same inputs give byte-identical outputs (no timestamps are written); the inputs' SHA-256
are checked against ``SOURCES`` so a different package version is noticed, not shipped by accident.
DejaVu Sans Bold (Latin, Cyrillic, Greek) ships unmodified and is only read for its coverage.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "chalicelib" / "assets" / "fonts"
COVERAGE = ROOT / "chalicelib" / "domain" / "font_coverage.py"
NOTO = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")

# (input, SHA-256) from fonts-noto-core 20201225-1 and fonts-noto-cjk 1:20220127+repack1-1.
SOURCES = {
    NOTO / "NotoSansArabic-Bold.ttf": "ded6fc7359ca36d15d7aab9ef0c066e21ce48b26a069994d6602fa2cb9a1b952",
    NOTO / "NotoSansHebrew-Bold.ttf": "d3b01343f71e8a93fffb84c345a1aecbaf4694b98d0eaace916cb9eac9e6dcd3",
    NOTO / "NotoSansDevanagari-Bold.ttf": "77ad688cfe1dc55185bf4edb4db3c614202c65dd23a1463ad0e23fc52bcc9a5c",
    NOTO_CJK: "faa5f3656a78b2e2d450d27fe8382c778bc2b6bb5ea29c986664a6a435056ceb",
}


def _span(first: int, last: int) -> set[int]:
    return set(range(first, last + 1))


# Kept in every subset: digits, spaces and punctuation inside a run of the script stay in its
# font (no font switch, so no break in Arabic shaping), and the dashes, quotes and ellipsis
# transcribers write.
COMMON = _span(0x20, 0x7E) | {0xA0, 0xAB, 0xBB, 0xB7} | _span(0x2010, 0x2027) | _span(0x200B, 0x200F) | {0x25CC}
CJK_PUNCTUATION = (
    _span(0x3000, 0x303F)  # CJK symbols and punctuation: 、。「」〜
    | _span(0xFF01, 0xFF60)  # fullwidth forms: ，！？（）
    | _span(0xFFE0, 0xFFE6)
    | _span(0x2030, 0x203B)  # ‰ ′ ″ ※
)
KANA = _span(0x3041, 0x30FF) | _span(0x31F0, 0x31FF) | _span(0xFF61, 0xFF9F)
HANGUL = _span(0xAC00, 0xD7A3) | _span(0x3131, 0x318E)  # every precomposed syllable, compatibility jamo (ㅋㅋ)


def _double_byte(codec: str, leads: Iterable[int], trails: Iterable[int]) -> set[int]:
    """Han characters of a double-byte national standard, read from Python's codec tables."""
    trails = list(trails)
    out = set()
    for lead in leads:
        for trail in trails:
            try:
                char = bytes([lead, trail]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(char) == 1 and _is_han(ord(char)):
                out.add(ord(char))
    return out


def _is_han(cp: int) -> bool:
    return 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF


def cjk_sets() -> dict[str, set[int]]:
    gb2312 = _double_byte("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF))  # 6,763: simplified Chinese
    big5_common = _double_byte("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])  # 5,401
    jis_level1 = _double_byte("euc_jp", range(0xB0, 0xD0), range(0xA1, 0xFF))  # 2,965 most used kanji
    jis_level2 = _double_byte("euc_jp", range(0xD0, 0xF5), range(0xA1, 0xFF))  # 3,390 rarer kanji
    # Jōyō kanji of 2010 that JIS X 0208 lacks: 𠮟 塡 剝 頰.
    joyo_2010 = {0x20B9F, 0x5861, 0x525D, 0x9830}
    chinese = gb2312 | big5_common
    return {
        # Chinese, simplified and traditional (Whisper writes either): the SC face.
        "sc": chinese | CJK_PUNCTUATION | _span(0x3100, 0x312F) | COMMON,
        # Japanese: kana and kanji in Japanese glyph forms; the level-2 kanji the Chinese font
        # already has are drawn by it (Chinese forms, rare kanji) rather than shipped twice.
        "jp": KANA | jis_level1 | joyo_2010 | (jis_level2 - chinese) | CJK_PUNCTUATION | COMMON,
        # Korean: Hangul only (Hanja is rare in speech; the Chinese font draws it).
        "kr": HANGUL | CJK_PUNCTUATION | COMMON,
    }


CJK_SETS = {"sc": 2, "jp": 0, "kr": 1}  # face index in NotoSansCJK-Bold.ttc

# libass sizes a font like VSFilter: the ASS font size is the height of the font's Windows cell
# (OS/2 usWinAscent + usWinDescent), not its em. DejaVu Sans's cell is 1.164 em; Noto Sans
# Arabic's is 2.112 em, so at the same \fs its letters came out at 55% of the Latin ones (and
# CJK at 80%). Each subset gets DejaVu's cell scaled so its em is this many times DejaVu's, split
# above and below the baseline as the font's own (Arabic and Devanagari reach deeper below it):
# every script then reads at one size and two lines of any script are spaced alike. CJK
# ideographs fill their em, hence a smaller one.
DEJAVU_CELL_EM = (1901 + 483) / 2048
EM_SCALE = {"Arabic": 1.1, "Hebrew": 1.0, "Devanagari": 1.05, "CJK": 0.9}

# output file -> (input, face index, code points)
def subsets() -> dict[str, tuple[Path, int, set[int]]]:
    cjk = cjk_sets()
    return {
        "NotoSansArabic-Bold.subset.ttf": (
            NOTO / "NotoSansArabic-Bold.ttf", 0,
            _span(0x600, 0x6FF) | _span(0x750, 0x77F) | _span(0x8A0, 0x8FF) | _span(0xFB50, 0xFDFF)
            | _span(0xFE70, 0xFEFF) | COMMON,
        ),
        "NotoSansHebrew-Bold.subset.ttf": (
            NOTO / "NotoSansHebrew-Bold.ttf", 0, _span(0x590, 0x5FF) | _span(0xFB1D, 0xFB4F) | {0x20AA} | COMMON,
        ),
        "NotoSansDevanagari-Bold.subset.ttf": (
            NOTO / "NotoSansDevanagari-Bold.ttf", 0,
            _span(0x900, 0x97F) | _span(0xA8E0, 0xA8FF) | _span(0x1CD0, 0x1CFF) | {0x20B9} | COMMON,
        ),
        **{
            f"NotoSansCJK{region}-Bold.subset.otf": (NOTO_CJK, CJK_SETS[region], cjk[region])
            for region in ("sc", "jp", "kr")
        },
    }


def subset_font(src: Path, face: int, codepoints: set[int], dst: Path) -> None:
    from fontTools import subset

    options = subset.Options()
    options.font_number = face
    options.hinting = False  # libass renders unhinted; instructions are a third of a TrueType font
    options.layout_features = ["*"]  # Arabic joining, Indic conjuncts, marks, locl: everything shaping needs
    options.name_IDs = ["*"]  # keep copyright, licence and names
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, "DSIG"]
    font = subset.load_font(str(src), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    scale = next(v for k, v in EM_SCALE.items() if k in dst.name)
    cell = round(font["head"].unitsPerEm * DEJAVU_CELL_EM / scale)
    ascent = round(cell * font["OS/2"].usWinAscent / (font["OS/2"].usWinAscent + font["OS/2"].usWinDescent))
    font["OS/2"].usWinAscent, font["OS/2"].usWinDescent = ascent, cell - ascent
    font["hhea"].ascent, font["hhea"].descent, font["hhea"].lineGap = ascent, ascent - cell, 0
    font.recalcTimestamp = False  # reproducible bytes
    subset.save_font(font, str(dst), options)


def ranges(codepoints: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(codepoints):
        if out and cp == out[-1][1] + 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def coverage_source(families: dict[str, tuple[str, set[int], str]]) -> str:
    """Python source of the coverage module: per family its file, SHA-256 and code points as
    hex ranges (``"20-7e a0 ..."``) wrapped to the line length."""
    lines = [
        '"""What each caption font draws: its code points, as hex ranges. Generated by',
        "``python -m tools.make_caption_fonts`` from the files in chalicelib/assets/fonts; do not edit.",
        "tests/unit/test_caption_fonts.py checks it against the fonts' own character maps.",
        '"""',
        "",
        "# family -> (file, SHA-256 of the file, code points as space-separated hex ranges)",
        "FONTS: dict[str, tuple[str, str, str]] = {",
    ]
    for family, (file, codepoints, digest) in families.items():
        text = " ".join(f"{a:x}" if a == b else f"{a:x}-{b:x}" for a, b in ranges(codepoints))
        chunks, line = [], ""
        for token in text.split(" "):
            if len(line) + len(token) + 1 > 100:
                chunks.append(line)
                line = ""
            line += token + " "
        chunks.append(line.rstrip())
        lines.append(f"    {family!r}: (")
        lines.append(f"        {file!r},")
        lines.append(f"        {digest!r},")
        lines.append("        (")
        lines += [f"            {chunk!r}" for chunk in chunks]
        lines.append("        ),")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def family_and_cmap(path: Path) -> tuple[str, set[int]]:
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    family = font["name"].getBestFamilyName()
    return str(family), set(font.getBestCmap())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--any-source", action="store_true", help="accept inputs whose SHA-256 differs")
    args = parser.parse_args(argv)
    for src, expected in SOURCES.items():
        if not src.is_file():
            print(f"missing {src}: apt-get install fonts-noto-core fonts-noto-cjk", file=sys.stderr)
            return 1
        if expected and sha256(src) != expected and not args.any_source:
            print(f"{src} is not the expected version (SHA-256 differs); --any-source to use it", file=sys.stderr)
            return 1
    families: dict[str, tuple[str, set[int], str]] = {}
    outputs = {"DejaVuSans-Bold.ttf": None, **subsets()}
    for name, spec in outputs.items():
        dst = FONTS / name
        if spec is not None:
            src, face, codepoints = spec
            subset_font(src, face, codepoints, dst)
        family, cmap = family_and_cmap(dst)
        families[family] = (name, cmap, sha256(dst))
        print(f"{name:40s} {family:22s} {len(cmap):6d} characters {dst.stat().st_size / 1e6:6.2f} MB")
    COVERAGE.write_text(coverage_source(families))
    total = sum((FONTS / name).stat().st_size for name in outputs)
    print(f"total {total / 1e6:.2f} MB; coverage written to {COVERAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
