"""Captions for a clip: word-level burned-in captions (an ASS script for libass) and SRT/WebVTT
sidecars. Pure: words in, text out.

Burned captions follow what short-form platforms have made the norm: a few words at a time
(a "group", 3-7 words on at most two lines), white bold text with a thick dark outline, the
word being spoken in a bright accent colour. Groups end at sentence ends and pauses and prefer
to break after a comma and never after "the"/"a"/"to". They sit in the platforms' safe area:
above the bottom band where the caption, buttons and progress bar of the app cover the video,
and inside side margins (the right rail of buttons on 9:16).

Styles (``CaptionStyle``, the ``captionStyle`` option): four presets (``PRESETS``) and overrides of
their words per line, position, case, size and colours. A ``headline`` (the clip's title, the
``hook`` option) can open the clip above the captions for its first seconds.

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
from dataclasses import dataclass, replace
from typing import Any, Literal

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

# The headline (hook): the clip's title, up for its first seconds, where the eye lands first.
HEADLINE_SECONDS = 3.0
HEADLINE_MAX_LINES = 3
# One-line groups (``words_per_line``) may be drawn this much smaller to fit their line.
ONE_LINE_MIN_SCALE = 0.75

Position = Literal["bottom", "middle", "top"]


@dataclass(frozen=True)
class CaptionStyle:
    """How burned captions look. ``words_per_line`` None: today's groups of 3-7 words on up to
    two lines, else groups of at most that many words on one line; ``position`` None: above
    the bottom band (the seam, on the split layout); ``highlight_rgb`` None: no word
    highlighted; ``keep_lit``: spoken words stay in the highlight colour (karaoke);
    ``boxed``: each group on a dark box instead of an outline."""

    preset: str = "highlight"
    words_per_line: int | None = None
    position: Position | None = None
    uppercase: bool = False
    font_scale: float = 1.0
    primary_rgb: str = TEXT_RGB
    highlight_rgb: str | None = ACCENT_RGB
    keep_lit: bool = False
    boxed: bool = False
    outline_scale: float = 1.0


PRESETS: dict[str, CaptionStyle] = {
    # Today's captions: white, the spoken word in yellow, a thick outline.
    "highlight": CaptionStyle(),
    # Words light up as they are spoken and stay lit to the group's end; upper case, green.
    "karaoke": CaptionStyle(preset="karaoke", uppercase=True, highlight_rgb="2EE66B", keep_lit=True),
    # Three words at a time on a dark box: readable on busy footage without an outline.
    "boxed": CaptionStyle(preset="boxed", words_per_line=3, boxed=True),
    # Smaller, a thin outline, nothing highlighted: subtitles rather than a show.
    "minimal": CaptionStyle(preset="minimal", font_scale=0.8, highlight_rgb=None, outline_scale=0.4),
}


def caption_style(preset: str = "highlight", **overrides: Any) -> CaptionStyle:
    """The ``preset`` with the ``overrides`` that are set (None leaves the preset's value)."""
    return replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})


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


def layout(width: int, height: int, font_scale: float = 1.0) -> CaptionLayout:
    """Caption size and position for an output frame.

    The font scales with the frame so captions read the same at 1080x1920 as on a small
    render: 7.5% of the width on portrait video (81 px at 1080x1920, about 18 characters a
    line), 6% of the height on square and landscape video (65 px at 1080 high). The bottom
    margin keeps captions above the band that platform UI covers: 22% of a portrait frame
    (TikTok, Reels and Shorts put description, audio and buttons there), 14% of a square and
    10% of a landscape one. Portrait side margins are 12% to stay clear of the right button rail.
    ``font_scale`` (a style's) scales the font and its outline, not the margins.
    """
    portrait = height > width
    font = max(8, round(min(0.075 * width, 0.06 * height) * font_scale))
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


def top_margin(width: int, height: int) -> int:
    """Where the top of captions placed at the top may begin: below the band of tabs and the
    search button that platforms lay over the top of a portrait video (10%), less elsewhere."""
    return round((0.10 if height > width else 0.06) * height)


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


def _style_line(name: str, font_size: int, primary: str, secondary: str, outline_colour: str, back: str,
                border_style: int, outline: float, shadow: float, alignment: int, margin_x: int,
                margin_v: int) -> str:
    return (
        f"Style: {name},{FONT_NAME},{font_size},{primary},{secondary},{outline_colour},{back},"
        f"-1,0,0,0,100,100,0,0,{border_style},{outline:g},{shadow:g},{alignment},{margin_x},{margin_x},{margin_v},-1"
    )


def _caption_style_line(style: CaptionStyle, box: CaptionLayout, position: Position) -> str:
    """The ``Word`` style: colours, outline or box, and the position (ASS alignment 2, 5 or 8:
    bottom, middle or top centre, ``MarginV`` from that edge)."""
    alignment, margin_v = {
        "bottom": (2, box.margin_bottom),
        "middle": (5, 0),
        "top": (8, top_margin(box.width, box.height)),
    }[position]
    primary = _ass_colour(style.primary_rgb)
    if style.boxed:
        # BorderStyle 3: libass draws a box in the outline colour, ``Outline`` its padding. One box
        # per run of one colour: opaque, so where two runs' boxes overlap no seam shows.
        return _style_line("Word", box.font_size, primary, primary, "&H00000000", "&H00000000", 3,
                           round(max(1.0, 0.22 * box.font_size), 1), 0, alignment, box.margin_x, margin_v)
    return _style_line("Word", box.font_size, primary, primary, "&H00000000", "&H99000000", 1,
                       round(max(1.0, box.outline * style.outline_scale), 1), box.shadow, alignment, box.margin_x,
                       margin_v)


def to_ass(
    words: list[Word], width: int, height: int, language: str | None = None, *, middle: bool = False,
    style: CaptionStyle | None = None, headline: str | None = None,
) -> str:
    """An ASS script drawing ``words`` (clip time) on a ``width`` x ``height`` frame in ``style``
    (default: the ``highlight`` preset). Without a position in the style, captions sit above
    the bottom band, or with ``middle`` on the frame's middle (the seam of the split layout,
    where no face is). ``headline``: a title shown over the first ``HEADLINE_SECONDS``.

    One event per word: its group's text with that word in the highlight colour (and, for
    ``keep_lit``, the words before it), from the word's start to the next word's start, so the
    highlight follows speech and the group stays steady on screen (no re-layout between
    events). libass wraps each group within the margins, at most two lines by construction of
    the groups (one with ``words_per_line``); Chinese and Japanese groups, which have no spaces
    to wrap at, carry their own line breaks. Each run of another script names its font;
    characters no shipped font has are left out (see ``missing_characters``).
    Encoding -1 makes libass take each line's base direction from its first strong character:
    with the default (1, left to right) an Arabic caption's words come out in reverse order.
    """
    style = style or PRESETS["highlight"]
    position: Position = style.position or ("middle" if middle else "bottom")
    box = layout(width, height, style.font_scale)
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
        _caption_style_line(style, box, position),
    ]
    events: list[str] = []
    if headline and headline.strip():
        # Above top captions' place, or at the top when the captions are elsewhere.
        head_position: Position = "middle" if position == "top" else "top"
        head_line, head_event = _headline(headline, width, height, language, head_position)
        head.append(head_line)
        events.append(head_event)
    head += [
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    if style.uppercase:
        words = [Word(w.text.upper(), w.start, w.end, w.confidence) for w in words]
    all_text = " ".join(w.text for w in words)
    unspaced = scripts.joins_without_spaces(language, all_text)
    cjk = caption_fonts.cjk_family(language, all_text)
    if style.words_per_line:
        # One line each, its font made smaller (to about ONE_LINE_MIN_SCALE) for a line too
        # long at full size: four words rarely fit a portrait line of ~18 characters otherwise.
        # Chinese and Japanese "words" are a character or two: one line's width instead.
        groups = caption_groups(words, max_chars=int(box.line_chars / ONE_LINE_MIN_SCALE), unspaced=unspaced,
                                max_words=None if unspaced else style.words_per_line)
    else:
        groups = caption_groups(words, max_chars=2 * box.line_chars, unspaced=unspaced)
    text_tag = f"{{\\1c{_ass_colour(style.primary_rgb, '')}&}}"
    accent_tag = f"{{\\1c{_ass_colour(style.highlight_rgb, '')}&}}" if style.highlight_rgb else ""
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
            prefix, breaks = _unspaced_lines(caption.text, box, one_line=bool(style.words_per_line))
        elif style.words_per_line:
            prefix, breaks = _one_line(caption.text, box), []
        else:
            prefix, breaks = _fit_long_word(caption.text.split(" "), box), []
        for i in range(len(group)):
            if bounds[i + 1] <= bounds[i]:
                continue
            shown = caption.render(i if accent_tag else None, breaks, accent_tag, text_tag, style.keep_lit)
            events.append(f"Dialogue: 0,{_ass_time(bounds[i])},{_ass_time(bounds[i + 1])},Word,,0,0,0,,{prefix}{shown}")
    return "\n".join(head + events) + "\n"


def _headline(title: str, width: int, height: int, language: str | None, position: Position) -> tuple[str, str]:
    """(style line, event) for the clip's title as a headline: black bold text on a white box,
    a little smaller than the captions, at most three lines (the font shrinks for a long
    title), up for the clip's first ``HEADLINE_SECONDS``."""
    box = layout(width, height, 0.8)
    text = " ".join(title.split())
    size = box.font_size
    width_cells = scripts.text_width(text)
    if width_cells > HEADLINE_MAX_LINES * box.line_chars:
        size = max(8, size * HEADLINE_MAX_LINES * box.line_chars // width_cells)
    alignment, margin_v = (8, top_margin(width, height)) if position == "top" else (5, 0)
    line = _style_line("Headline", size, "&H00000000", "&H00000000", "&H00FFFFFF", "&H00000000", 3,
                       round(max(1.0, 0.25 * size), 1), 0, alignment, box.margin_x, margin_v)
    runs = "".join(
        (f"{{\\fn{family}}}" if family != FONT_NAME else "") + _ass_text(part)
        for family, part in caption_fonts.font_runs(text, language)
        if family is not None
    )
    return line, f"Dialogue: 1,{_ass_time(0)},{_ass_time(_centis(HEADLINE_SECONDS))},Headline,,0,0,0,,{runs}"


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

    def render(self, highlight: int | None, breaks: list[int], accent_tag: str, text_tag: str,
               keep_lit: bool = False) -> str:
        """ASS text with word ``highlight`` (and with ``keep_lit`` the words before it) in the
        accent colour, a font tag where the font changes from the style's, and a line break
        (``\\N``) at each index of ``breaks``. ``highlight`` None: nothing is lit."""
        out: list[str] = []
        lit, font = False, FONT_NAME
        for p, (char, owner, family) in enumerate(zip(self.text, self.owners, self.families)):
            if p in breaks:
                out.append("\\N")
            if family is None or (char == " " and p + 1 in breaks):
                continue  # a character no font has; the space a line break replaces
            if owner < 0:  # the space between words: lit only inside a run of lit words
                want = lit and keep_lit
            else:
                want = highlight is not None and (owner == highlight or (keep_lit and owner < highlight))
            if lit and not want:
                out.append(text_tag)
                lit = False
            if family != font:
                out.append(f"{{\\fn{family}}}")
                font = family
            if want and not lit:
                out.append(accent_tag)
                lit = True
            out.append(char)
        if lit:
            out.append(text_tag)
        return "".join(out)


def _fit_long_word(texts: list[str], box: CaptionLayout) -> str:
    """A font-size override when one word alone (or a one-line group, given as one text) is
    wider than a line (libass cannot wrap it, or must not)."""
    longest = max(scripts.text_width(t) for t in texts)
    if longest <= box.line_chars:
        return ""
    return f"{{\\fs{max(8, box.font_size * box.line_chars // longest)}}}"


def _one_line(text: str, box: CaptionLayout) -> str:
    """Overrides that keep a group on one line: no wrapping (``\\q2``) and, for a line too long
    at the style's size, a smaller font. Sized on a wide estimate of the bold font (0.62 em a
    character: capitals and wide lower case) so the line stays inside the margins."""
    cells = max(1, scripts.text_width(text))
    size = min(box.font_size, int((box.width - 2 * box.margin_x) / (0.62 * cells)))
    return "{\\q2}" + (f"{{\\fs{max(8, size)}}}" if size < box.font_size else "")


def _unspaced_lines(text: str, box: CaptionLayout, one_line: bool = False) -> tuple[str, list[int]]:
    """(font-size override, line breaks) for a Chinese or Japanese group: its own balanced line
    breaks, and a smaller font only if unbreakable pieces (a long Latin word) need a third line
    (a second one, with ``one_line``)."""
    size = box.font_size
    while True:
        cells = box.line_chars * box.font_size // size
        breaks = scripts.line_breaks(text, cells)
        if len(breaks) <= (0 if one_line else 1) or size <= 8:
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
    return srt_of(cues(words, language))


def srt_of(cue_list: list[Cue]) -> str:
    blocks = [
        f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n" + "\n".join(c.lines)
        for n, c in enumerate(cue_list, start=1)
    ]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _vtt_text(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(words: list[Word], language: str | None = None) -> str:
    """WebVTT text (UTF-8 by definition of the format)."""
    return vtt_of(cues(words, language))


def vtt_of(cue_list: list[Cue]) -> str:
    blocks = [
        f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n" + "\n".join(_vtt_text(line) for line in c.lines)
        for c in cue_list
    ]
    return "WEBVTT\n\n" + "".join(b + "\n\n" for b in blocks)


def encode_sidecar(text: str) -> bytes:
    """SRT and WebVTT files are UTF-8, without a byte order mark (WebVTT forbids other encodings)."""
    return text.encode("utf-8")
