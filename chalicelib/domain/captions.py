"""Captions for a clip: word-level burned-in captions (an ASS script for libass) and SRT/WebVTT
sidecars. Pure: words in, text out.

Burned captions follow what short-form platforms have made the norm: a few words at a time
(a "group", 3-7 words on at most two lines), white bold text with a thick dark outline, the
word being spoken in a bright accent colour. Groups end at sentence ends and pauses and prefer
to break after a comma and never after "the"/"a"/"to". They sit in the platforms' safe area:
above the bottom band where the caption, buttons and progress bar of the app cover the video,
and inside side margins (the right rail of buttons on 9:16).

Sidecar cues are sentence-ish (one sentence, or a piece of a long one, on up to two lines of
42 characters, at most 7 s), the usual subtitle conventions.

Every script: widths are counted in narrow cells (a Chinese, Japanese or Korean character is
two, see ``scripts``); Chinese and Japanese words are joined without spaces and their lines
are broken by the captions themselves (libass only breaks at spaces); each run of text names
the shipped font that draws it (``caption_fonts``), and the style's base direction is taken
from the text, so Arabic and Hebrew read right to left. Every function takes the transcript's
``language`` when known and otherwise judges the characters.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.domain import caption_fonts, scripts
from chalicelib.domain.transcript import Word, ends_sentence

FONT_NAME = caption_fonts.LATIN  # the style's font; runs of other scripts name theirs
ACCENT_RGB = "FFE000"  # the current word: a bright yellow, readable on any footage with the outline
TEXT_RGB = "FFFFFF"

# Burned-in groups.
GROUP_MAX_WORDS = 7
GROUP_IDEAL_WORDS = 5
GROUP_PAUSE_SECONDS = 0.5  # a silence this long starts a new group
HOLD_SECONDS = 0.5  # a group stays up this long after its last word unless the next one starts
# Chinese and Japanese words are often one or two characters: their groups are sized by width.
GROUP_MAX_WORDS_UNSPACED = 16
GROUP_IDEAL_WIDTH_UNSPACED = 16  # cells: 8 characters, about as long as five English words on screen
# Sidecar cues.
CUE_LINE_CHARS = 42  # cells: 42 Latin or 21 Chinese characters
CUE_MAX_SECONDS = 7.0
CUE_PAUSE_SECONDS = 1.0

# DejaVu Sans Bold averages about 0.46 em per character over English text (spaces included);
# the estimate used to size groups is kept above that so two lines never turn into three.
_EM_PER_CHAR = 0.55
# Words a line should not end on: a group ending in them reads as cut mid-phrase.
_WEAK_ENDINGS = frozenset(
    "a an the to of and or but nor so in on at by for from with into onto as than that "
    "my your our their his her its this these those i you we they he she it is are was were be "
    "if when because very just not".split()
)


@dataclass(frozen=True)
class CaptionLayout:
    """Where burned captions go on a ``width`` x ``height`` frame, in output pixels."""

    width: int
    height: int
    font_size: int
    outline: float
    shadow: float
    margin_x: int  # left and right
    margin_bottom: int  # from the bottom edge to the baseline area of the last line

    @property
    def line_chars(self) -> int:
        """About how many narrow cells (Latin characters) fit on one line."""
        return max(8, int((self.width - 2 * self.margin_x) / (_EM_PER_CHAR * self.font_size)))

    @property
    def safe_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1): where caption pixels may appear, outline and shadow included.
        At most two lines above the bottom margin; the top allows a third line of slack."""
        pad = math.ceil(self.outline + self.shadow) + 2
        line = round(1.25 * self.font_size)
        y1 = self.height - self.margin_bottom + pad
        return self.margin_x - pad, max(0, y1 - 3 * line - 2 * pad), self.width - self.margin_x + pad, y1


def layout(width: int, height: int) -> CaptionLayout:
    """Caption size and position for an output frame.

    The font scales with the frame so captions read the same at 1080x1920 as on a small
    render: 7.5% of the width on portrait video (81 px at 1080x1920, about 18 characters a
    line), 6% of the height on square and landscape video (65 px at 1080 high). The bottom
    margin keeps captions above the band that platform UI covers: 22% of a portrait frame
    (TikTok, Reels and Shorts put description, audio and buttons there), 14% of a square and
    10% of a landscape one. Portrait side margins are 12% to stay clear of the right button rail.
    """
    portrait = height > width
    font = max(8, round(min(0.075 * width, 0.06 * height)))
    if portrait:
        bottom, side = 0.22, 0.12
    elif height == width:
        bottom, side = 0.14, 0.08
    else:
        bottom, side = 0.10, 0.08
    return CaptionLayout(
        width=width,
        height=height,
        font_size=font,
        outline=round(max(1.0, 0.09 * font), 1),
        shadow=round(max(0.5, 0.04 * font), 1),
        margin_x=round(side * width),
        margin_bottom=round(bottom * height),
    )


# --- words of a clip ------------------------------------------------------------------------


def clip_words(words: list[Word], start: float, end: float) -> list[Word]:
    """The words spoken inside [start, end), with times shifted to clip time (0 = ``start``)
    and clamped to the clip. A word cut by an edge counts when most of it is inside."""
    out = []
    length = end - start
    for w in words:
        s, e = max(w.start, start), min(w.end, end)
        if e <= s or (e - s) < 0.5 * (w.end - w.start):
            continue
        text = " ".join(w.text.split())
        if text:
            out.append(Word(text, round(s - start, 3), round(min(e - start, length), 3), w.confidence))
    return out


# --- grouping -------------------------------------------------------------------------------


def _chars(group: list[Word], unspaced: bool = False) -> int:
    """On-screen width of a group's text in narrow cells."""
    return scripts.text_width(scripts.join_words((w.text for w in group), unspaced))


def _ends_sentence(text: str) -> bool:
    return ends_sentence(text) or text.rstrip("\"')]}”’»」』）").endswith(
        (*scripts.UNSPACED_SENTENCE_ENDS, "؟", "।", "॥")
    )


def _phrases(words: list[Word], max_pause: float) -> list[list[Word]]:
    """Runs of words split at sentence ends and at pauses longer than ``max_pause``."""
    out: list[list[Word]] = []
    current: list[Word] = []
    for i, w in enumerate(words):
        current.append(w)
        last = i + 1 == len(words)
        if last or _ends_sentence(w.text) or words[i + 1].start - w.end > max_pause:
            out.append(current)
            current = []
    return out


def _break_cost(word: Word, following: Word | None = None) -> float:
    """How bad it is to end a group (not the phrase) after ``word``, before ``following``."""
    if word.text[-1:] in scripts.NO_BREAK_AFTER or (following and following.text[:1] in scripts.NO_BREAK_BEFORE):
        return 10.0  # 「 at a line end, 」 or a small kana at a line start
    bare = word.text.lower().strip("\"'()[]“”‘’")
    if bare.endswith((",", ";", ":", "—", "–", "،", "؛", *scripts.UNSPACED_CLAUSE_BREAKS)):
        return -1.5
    if bare.rstrip(".,;:!?") in _WEAK_ENDINGS:
        return 2.0
    return 0.0


def _partition(
    phrase: list[Word], fits: Callable[[list[Word]], bool], cost: Callable[[list[Word]], float]
) -> list[list[Word]]:
    """Cheapest split of ``phrase`` into consecutive groups that each ``fits`` (dynamic
    programming; a single word always fits, so a split always exists)."""
    n = len(phrase)
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            group = phrase[i:j]
            if j - i > 1 and not fits(group):
                break  # longer groups ending at j only get worse
            c = best[i] + cost(group) + (_break_cost(phrase[j - 1], phrase[j]) if j < n else 0.0)
            if c < best[j]:
                best[j], back[j] = c, i
    groups, j = [], n
    while j:
        groups.append(phrase[back[j]:j])
        j = back[j]
    return groups[::-1]


def caption_groups(
    words: list[Word], max_chars: int, max_words: int | None = None, unspaced: bool = False
) -> list[list[Word]]:
    """Words shown together on screen: 3-7 words (fewer only for a shorter sentence), at most
    ``max_chars`` cells wide (two lines), never across a sentence end or a pause. ``unspaced``
    (Chinese, Japanese): words joined without spaces, groups of about 8 characters."""
    limit = max_words or (GROUP_MAX_WORDS_UNSPACED if unspaced else GROUP_MAX_WORDS)

    def cost(g: list[Word]) -> float:
        if unspaced:
            return 0.3 * ((_chars(g, True) - GROUP_IDEAL_WIDTH_UNSPACED) / 3) ** 2
        return 0.3 * (len(g) - GROUP_IDEAL_WORDS) ** 2

    groups: list[list[Word]] = []
    for phrase in _phrases(words, GROUP_PAUSE_SECONDS):
        groups += _partition(
            phrase, fits=lambda g: len(g) <= limit and _chars(g, unspaced) <= max_chars, cost=cost
        )
    return groups


def cue_groups(words: list[Word], unspaced: bool = False) -> list[list[Word]]:
    """Sidecar cues: whole sentences where they fit on two lines and in 7 s, else as few
    pieces as possible, cut at commas rather than after weak words."""
    groups: list[list[Word]] = []
    for phrase in _phrases(words, CUE_PAUSE_SECONDS):
        groups += _partition(
            phrase,
            fits=lambda g: _chars(g, unspaced) <= 2 * CUE_LINE_CHARS and g[-1].end - g[0].start <= CUE_MAX_SECONDS,
            # Fewest cues, but a fragment of a few words alone on screen reads badly.
            cost=lambda g: 3.0 + (1.0 if _chars(g, unspaced) < 20 else 0.0),
        )
    return groups


def _two_lines(text_words: list[str], line_chars: int, unspaced: bool = False) -> list[str]:
    """One line if it fits, else the most balanced split into two, nudged to break after a
    comma and not after a weak word (a few characters of imbalance are worth it). Chinese and
    Japanese break between characters, balanced (``scripts.split_lines``)."""
    text = scripts.join_words(text_words, unspaced)
    if scripts.text_width(text) <= line_chars or (len(text_words) < 2 and not unspaced):
        return [text]
    if unspaced:
        lines = scripts.split_lines(text, line_chars)
        while len(lines) > 2:  # unbreakable pieces (long Latin words) made a third line: widen
            line_chars += 2
            lines = scripts.split_lines(text, line_chars)
        return lines

    def width(ws: list[str]) -> int:
        return scripts.text_width(" ".join(ws))

    best = min(
        range(1, len(text_words)),
        key=lambda k: max(width(text_words[:k]), width(text_words[k:]))
        + 4 * _break_cost(Word(text_words[k - 1], 0.0, 0.0, 1.0), Word(text_words[k], 0.0, 0.0, 1.0)),
    )
    return [" ".join(text_words[:best]), " ".join(text_words[best:])]


# --- ASS ------------------------------------------------------------------------------------


def _ass_colour(rgb: str, alpha: str = "00") -> str:
    # ASS colours are blue-green-red: &HAABBGGRR in styles (alpha 00 = opaque), &HBBGGRR& in tags.
    return f"&H{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".upper()


def _ass_time(centis: int) -> str:
    h, rest = divmod(centis, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _ass_text(text: str) -> str:
    # Braces open override blocks and a backslash starts a tag (\N is a line break): words
    # from a transcript must never be read as either.
    return text.replace("\\", "/").replace("{", "(").replace("}", ")")


def _centis(seconds: float) -> int:
    return max(0, round(seconds * 100))


def to_ass(words: list[Word], width: int, height: int, language: str | None = None, *, middle: bool = False) -> str:
    """An ASS script drawing ``words`` (clip time) on a ``width`` x ``height`` frame; with
    ``middle``, centred on the frame's middle (the seam of the split layout, where no face is)
    instead of above the bottom band.

    One event per word: its group's text with that word in the accent colour, from the word's
    start to the next word's start, so the highlight follows speech and the group stays
    steady on screen (no re-layout between events). libass wraps each group within the
    margins, at most two lines by construction of the groups; Chinese and Japanese groups,
    which have no spaces to wrap at, carry their own line breaks. Each run of another script
    names its font; characters no shipped font has are left out (see ``missing_characters``).
    Encoding -1 makes libass take each line's base direction from its first strong character:
    with the default (1, left to right) an Arabic caption's words come out in reverse order.
    """
    box = layout(width, height)
    white = _ass_colour(TEXT_RGB)
    head = [
        "[Script Info]",
        "; Generated by Klyph: word-level captions",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        (
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
            "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
            "Alignment, MarginL, MarginR, MarginV, Encoding"
        ),
        (
            f"Style: Word,{FONT_NAME},{box.font_size},{white},{white},&H00000000,&H99000000,"
            f"-1,0,0,0,100,100,0,0,1,{box.outline:g},{box.shadow:g},{5 if middle else 2},{box.margin_x},"
            f"{box.margin_x},{0 if middle else box.margin_bottom},-1"
        ),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events: list[str] = []
    all_text = " ".join(w.text for w in words)
    unspaced = scripts.joins_without_spaces(language, all_text)
    cjk = caption_fonts.cjk_family(language, all_text)
    groups = caption_groups(words, max_chars=2 * box.line_chars, unspaced=unspaced)
    for g_index, group in enumerate(groups):
        next_start = groups[g_index + 1][0].start if g_index + 1 < len(groups) else math.inf
        group_end = min(group[-1].end + HOLD_SECONDS, next_start)
        # Boundaries in centiseconds (ASS precision), non-decreasing so events never overlap.
        bounds = [_centis(group[0].start)]
        for w in group[1:]:
            bounds.append(max(bounds[-1], _centis(w.start)))
        bounds.append(max(bounds[-1], _centis(group_end)))
        caption = _Caption.of([_ass_text(w.text) for w in group], unspaced, language, cjk)
        if unspaced:
            prefix, breaks = _unspaced_lines(caption.text, box)
        else:
            prefix, breaks = _fit_long_word(caption.text.split(" "), box), []
        for i in range(len(group)):
            if bounds[i + 1] <= bounds[i]:
                continue
            shown = caption.render(i, breaks)
            events.append(f"Dialogue: 0,{_ass_time(bounds[i])},{_ass_time(bounds[i + 1])},Word,,0,0,0,,{prefix}{shown}")
    return "\n".join(head + events) + "\n"


_ACCENT_TAG = f"{{\\1c{_ass_colour(ACCENT_RGB, '')}&}}"
_WHITE_TAG = f"{{\\1c{_ass_colour(TEXT_RGB, '')}&}}"


@dataclass(frozen=True)
class _Caption:
    """A group's text with, for each character, the word it belongs to (-1: the space between
    two words) and the font family that draws it (None: no shipped font has it)."""

    text: str
    owners: list[int]
    families: list[str | None]

    @classmethod
    def of(cls, texts: list[str], unspaced: bool, language: str | None, cjk: str) -> _Caption:
        text, owners = "", []
        for k, t in enumerate(texts):
            joined = scripts.join_words([text, t], unspaced) if text else t
            owners += [-1] * (len(joined) - len(text) - len(t)) + [k] * len(t)
            text = joined
        families = [family for family, run in caption_fonts.font_runs(text, language, cjk) for _ in run]
        return cls(text, owners, families)

    def render(self, highlight: int, breaks: list[int]) -> str:
        """ASS text with word ``highlight`` in the accent colour, a font tag where the font
        changes from the style's, and a line break (``\\N``) at each index of ``breaks``."""
        out: list[str] = []
        lit, font = False, FONT_NAME
        for p, (char, owner, family) in enumerate(zip(self.text, self.owners, self.families)):
            if p in breaks:
                out.append("\\N")
            if family is None or (char == " " and p + 1 in breaks):
                continue  # a character no font has; the space a line break replaces
            if lit and owner != highlight:
                out.append(_WHITE_TAG)
                lit = False
            if family != font:
                out.append(f"{{\\fn{family}}}")
                font = family
            if owner == highlight and not lit:
                out.append(_ACCENT_TAG)
                lit = True
            out.append(char)
        if lit:
            out.append(_WHITE_TAG)
        return "".join(out)


def _fit_long_word(texts: list[str], box: CaptionLayout) -> str:
    """A font-size override when one word alone is wider than a line (libass cannot wrap it)."""
    longest = max(scripts.text_width(t) for t in texts)
    if longest <= box.line_chars:
        return ""
    return f"{{\\fs{max(8, box.font_size * box.line_chars // longest)}}}"


def _unspaced_lines(text: str, box: CaptionLayout) -> tuple[str, list[int]]:
    """(font-size override, line breaks) for a Chinese or Japanese group: its own balanced line
    breaks, and a smaller font only if unbreakable pieces (a long Latin word) need a third line."""
    size = box.font_size
    while True:
        cells = box.line_chars * box.font_size // size
        breaks = scripts.line_breaks(text, cells)
        if len(breaks) <= 1 or size <= 8:
            return ("" if size == box.font_size else f"{{\\fs{size}}}"), breaks
        size -= 1


def missing_characters(words: list[Word]) -> list[str]:
    """Characters of ``words`` that no shipped font draws: burned captions leave them out."""
    return caption_fonts.missing(" ".join(w.text for w in words))


# --- sidecars -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: list[str]


def cues(words: list[Word], language: str | None = None) -> list[Cue]:
    unspaced = scripts.joins_without_spaces(language, " ".join(w.text for w in words))
    groups = cue_groups(words, unspaced)
    out = []
    for i, group in enumerate(groups):
        next_start = groups[i + 1][0].start if i + 1 < len(groups) else math.inf
        end = min(group[-1].end + 0.3, next_start)  # a short hold, as for burned captions
        texts = [t for w in group for t in w.text.split()]
        out.append(Cue(group[0].start, max(end, group[0].start + 0.01), _two_lines(texts, CUE_LINE_CHARS, unspaced)))
    return out


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def to_srt(words: list[Word], language: str | None = None) -> str:
    """SubRip text (a str: store it UTF-8 encoded, as ``encode_sidecar`` does)."""
    blocks = [
        f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n" + "\n".join(c.lines)
        for n, c in enumerate(cues(words, language), start=1)
    ]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _vtt_text(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(words: list[Word], language: str | None = None) -> str:
    """WebVTT text (UTF-8 by definition of the format)."""
    blocks = [
        f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n" + "\n".join(_vtt_text(line) for line in c.lines)
        for c in cues(words, language)
    ]
    return "WEBVTT\n\n" + "".join(b + "\n\n" for b in blocks)


def encode_sidecar(text: str) -> bytes:
    """SRT and WebVTT files are UTF-8, without a byte order mark (WebVTT forbids other encodings)."""
    return text.encode("utf-8")
