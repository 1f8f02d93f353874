"""Titles, descriptions and hashtags written for posting, from what the clip says (offline,
extractive and compressive; no language model).

- Keywords: the clip's words weighed by how much more the clip uses them than the rest of the
  video (term frequency times inverse sentence frequency over the whole transcript), so a clip
  about tomatoes in a gardening video is titled by what sets it apart.
- Title: a question or hook of the clip's opening that names a keyword stays as said; otherwise
  the line richest in keywords, compressed (fillers, leading connectives and the subordinate tail
  cut), and when that would still copy the clip's first or second sentence, headed by its
  keyword ("Tomatoes: plant them deep ..."). At most 70 characters, with a keyword.
- Description: the one or two most central lines other than the title's, compressed, in order
  (a summary, not the sentences after the title), at most 160 characters.
- Hashtags: the three to five most distinctive keywords (none when fewer stand out).
- Words the transcriber was unsure of (confidence below ``UNSURE``) are never used: a line
  holding one is cut to its longest sure stretch, or left out.

Everything follows the video's language (``lexicon``): its fillers, connectives, subordinating
words and the word for "and". Pure: no I/O.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.lexicon import Lexicon, is_unspaced
from chalicelib.domain.titles import (
    TITLE_MAX_CHARS,
    _drop_dangling,
    clean,
    sentence_case,
    shorten,
    tidy_description,
    tidy_title,
)
from chalicelib.domain.transcript import Word

UNSURE = 0.4  # word confidence under which a word is not put in a title, description or hashtag
_MIN_FRAGMENT_WORDS = 4
_HASHTAGS = (3, 5)

# Words opening a subordinate clause: a compressed line stops before them.
_SUBORDINATE = {
    "en": ("because", "which", "so that", "while", "although", "since", "whereas", "so the", "so you"),
    "es": ("porque", "ya que", "aunque", "mientras", "para que", "lo cual", "cuando"),
    "fr": ("parce que", "car", "bien que", "alors que", "pendant que", "puisque", "lorsque", "quand"),
    "de": ("weil", "denn", "obwohl", "während", "damit", "sodass", "bevor"),
    "pt": ("porque", "pois", "embora", "enquanto", "para que", "quando"),
    "it": ("perché", "poiché", "anche se", "mentre", "affinché", "quando"),
}
# Common words that are never what a clip is about (adverbs, light verbs, time words), beyond the
# lexicon's stop words: rare in one video, they would otherwise pass for distinctive.
_GENERIC = frozenset("""
    after again against because usually meisten viele vielen einfach wirklich mucho muchos mayoría beaucoup
    molti molto muitos maioria ago almost alone already always another anyway away back before behind below
    better between big came come comes coming could day days doing down during early easy enough even
    ever every feel felt few first found full give gives going gone good hard help here high honestly
    into keep keeps kind last later least less let little long look lot lots makes making many maybe
    means might much must never new next nice now off often old once only other others over own people
    put really right same say says see seems should since small soon start starts still such sure take
    takes taking tell than thank thanks then thing think though through today together told took toward
    try trying turn under until upon used using want wants way ways week weeks well went whole within
    without work works year years yet yes
    muy más menos siempre nunca ahora después antes también todo todos cada hace hacer tiene tienen
    toujours jamais maintenant après avant aussi tout tous chaque fait faire très plus moins
    immer nie jetzt nach vor auch alle jede macht machen sehr mehr weniger schon noch
    sempre nunca agora depois antes também todo todos cada faz fazer muito mais menos
    sempre mai adesso dopo prima anche tutto tutti ogni fa fare molto più meno
""".split())
_CONDITIONAL = {"en": ("when", "if", "once"), "es": ("si", "cuando"), "fr": ("si", "quand", "lorsque"),
                "de": ("wenn", "als", "falls"), "pt": ("se", "quando"), "it": ("se", "quando")}
_AND = {"en": "and", "es": "y", "fr": "et", "de": "und", "pt": "e", "it": "e"}
_ABOUT = {"en": "A clip about {}.", "es": "Un clip sobre {}.", "fr": "Un extrait sur {}.",
          "de": "Ein Clip über {}.", "pt": "Um clipe sobre {}.", "it": "Una clip su {}."}


@dataclass(frozen=True)
class Line:
    """One sentence of a clip: its timed words and how strongly it opens (1 question, 0.8 claim)."""

    words: Sequence[Word]
    hook: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Keyword:
    stem: str
    surface: str  # as said in the clip ("tomatoes", "Apollo")
    weight: float


@dataclass(frozen=True)
class Posting:
    title: str
    description: str
    hashtags: list[str]
    keywords: list[Keyword]


class Vocabulary:
    """In how many of the video's sentences each stem appears: what makes a clip's word distinctive."""

    def __init__(self, sentences: Sequence[str], lex: Lexicon):
        self.lex = lex
        self.count = max(1, len(sentences))
        self.df: Counter[str] = Counter()
        for text in sentences:
            self.df.update({lex.stem(t) for t in lex.keyword_tokens(text)})

    def keywords(self, lines: Sequence[Line], limit: int = 8, context: Sequence[str] = ()) -> list[Keyword]:
        """The clip's most distinctive sure words, best first. ``context``: the sentences around the
        clip; a word they repeat too is the subject being discussed, not a passing one."""
        around: Counter[str] = Counter(self.lex.stem(t) for text in context for t in self.lex.keyword_tokens(text))
        tf: Counter[str] = Counter()
        forms: dict[str, Counter[str]] = {}
        for line in lines:
            for w in line.words:
                if w.confidence < UNSURE or w.text[:1] in "[(*" or w.text.rstrip(".,!?")[-1:] in "])*":
                    continue  # unsure, or a stage direction ("[laughter]")
                for token in self.lex.keyword_tokens(w.text):
                    if (token.isdigit() or is_unspaced(token) or token in _GENERIC or len(token) < 4
                            or lex_numbers(self.lex, token)):
                        continue
                    stem = self.lex.stem(token)
                    tf[stem] += 1
                    bare = re.sub(r"^[^\w]+|[^\w]+$", "", w.text)
                    forms.setdefault(stem, Counter())[bare if bare[1:].islower() or bare.isupper() else token] += 1
        scored = []
        for stem, n in tf.items():
            idf = math.log((1 + self.count) / (1 + self.df.get(stem, 0)))
            surface = forms[stem].most_common(1)[0][0]
            # A capitalised word inside a sentence is a name ("Apollo"): keep its case.
            surface = surface if surface[:1].isupper() and surface[1:].islower() and self._named(stem, lines) \
                else surface.lower()
            # Repetition inside the clip marks its subject: "tomato" said three times beats "buried" once.
            scored.append(Keyword(stem, surface, (n + 0.5 * around[stem]) ** 1.5 * idf))
        scored.sort(key=lambda k: (-k.weight, k.surface))
        return [k for k in scored if k.weight > 0][:limit]

    def distinctive(self, stem: str) -> bool:
        """Said in at most a quarter of the video's sentences (and said at all)."""
        return 0 < self.df.get(stem, 0) <= max(1, self.count // 4)

    def _named(self, stem: str, lines: Sequence[Line]) -> bool:
        inner = [w.text for line in lines for k, w in enumerate(line.words) if k
                 and any(self.lex.stem(t) == stem for t in self.lex.terms(w.text))]
        return bool(inner) and all(t[:1].isupper() for t in inner)


def compose(lines: Sequence[Line], vocabulary: Vocabulary, context: Sequence[str] = ()) -> Posting:
    """Title, description and hashtags for a clip of ``lines`` (see the module doc); ``context``:
    the sentences just before and after it."""
    lex = vocabulary.lex
    keywords = vocabulary.keywords(lines, context=context)
    weight = {k.stem: k.weight / keywords[0].weight for k in keywords} if keywords else {}
    sure = [_sure_text(line, lex) for line in lines]
    firsts = {_norm(tidy_title(line.text, lex)) for line in lines[:2]}

    def value(k: int) -> float:
        stems = _stems(sure[k], lex)
        return sum(w for s, w in weight.items() if s in stems)

    title, title_line = "", -1
    # A question or hook of the opening that names a keyword is the best title there is.
    for k in range(min(4, len(lines))):
        if lines[k].hook >= 0.8 and sure[k] == clean(lines[k].text, lex) and value(k) > 0:
            candidate = tidy_title(sure[k], lex)
            if candidate and len(clean(lines[k].text, lex)) <= TITLE_MAX_CHARS:
                title, title_line = candidate, k
                break
    if not title:
        # Whole sure lines first; a sure opening of a line the transcriber stumbled in after them.
        ranked = sorted((k for k in range(len(lines)) if sure[k]),
                        key=lambda k: (sure[k] != clean(lines[k].text, lex), -value(k) / (1 + 0.1 * k), k))
        options = [(k, tidy_title(compress(sure[k], lex), lex)) for k in ranked[:4] if value(k) > 0]
        options = [(k, t) for k, t in options if t]
        best = max((value(k) for k, _ in options), default=0.0)
        # A line other than the first two that says nearly as much reads as a title, not a copy.
        fresh = [(k, t) for k, t in options if _norm(t) not in firsts and value(k) >= 0.3 * best]
        if fresh:
            title_line, title = fresh[0]
        elif options:
            # Only the opening says it: its main clause, else headed by the keyword it lacks.
            title_line, title = options[0]
            shorter = _main_clause(title, lex)
            if _norm(shorter) != _norm(title):
                title = shorter
            elif keywords and keywords[0].stem not in _stems(title, lex):
                title = _headed(title, keywords, lex)
    if title and keywords and not any(vocabulary.distinctive(s) for s in _stems(title, lex)):
        title = _headed(title, keywords, lex)
    if not title and keywords:
        title = sentence_case(_phrase(keywords[:2], lex, " ".join(line.text for line in lines)), lex)
    return Posting(title, _description(lines, sure, title_line, weight, keywords, lex),
                   hashtags(keywords, lex), keywords)


def compress(text: str, lex: Lexicon) -> str:
    """``text`` without fillers, leading connectives or its subordinate tail."""
    text = clean(text, lex)
    tokens = text.split()
    for n in (3, 2, 1):  # a leading connective ("and", "por eso", "per questo")
        if len(tokens) > n + 3 and " ".join(t.lower().strip(",") for t in tokens[:n]) in lex.continuations:
            tokens = tokens[n:]
            break
    text = " ".join(tokens).lstrip(", ")
    # "When the colony is too full, the old queen leaves": the main clause is after the comma.
    lowered = text.lower()
    if any(lowered.startswith(s + " ") for s in (*_SUBORDINATE.get(lex.code, ()), *_CONDITIONAL.get(lex.code, ()))):
        main = re.split(r",\s", text, maxsplit=1)
        if len(main) == 2 and len(main[1].split()) >= _MIN_FRAGMENT_WORDS:
            text = main[1]
    words = text.split()
    if len(words) > 7:
        lowered = " " + text.lower() + " "
        cuts = [lowered.find(f" {s} ") for s in _SUBORDINATE.get(lex.code, ())]
        cuts += [m.start() + 1 for m in re.finditer(r"[,;:]\s", lowered)]
        cuts = [c for c in cuts if c > 0 and len(lowered[:c].split()) >= _MIN_FRAGMENT_WORDS]
        if cuts:
            text = _drop_dangling(text[: min(cuts) - 1], lex)
    return text.rstrip(" ,;:-")


def hashtags(keywords: Sequence[Keyword], lex: Lexicon) -> list[str]:
    """3-5 hashtags from the most distinctive keywords, or none when fewer than three stand out."""
    tags: list[str] = []
    for k in keywords:
        word = re.sub(r"[^\w]", "", k.surface)
        if len(word) < 4 or word.isdigit():
            continue
        tag = "#" + (word if word[:1].isupper() else word[:1].upper() + word[1:])
        if tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tags[: _HASHTAGS[1]] if len(tags) >= _HASHTAGS[0] else []


def _description(lines: Sequence[Line], sure: list[str], title_line: int, weight: dict[str, float],
                 keywords: Sequence[Keyword], lex: Lexicon) -> str:
    """The one or two most central sure lines besides the title's, compressed, in order."""
    def centrality(k: int) -> float:
        stems = _stems(sure[k], lex)
        return sum(w for s, w in weight.items() if s in stems) / math.sqrt(max(1, len(sure[k].split())))

    # Whole sure lines; sure openings of the others only when there is no whole one.
    pool = [k for k in range(len(lines)) if k != title_line and len(sure[k].split()) >= _MIN_FRAGMENT_WORDS]
    whole = [k for k in pool if sure[k] == clean(lines[k].text, lex)]
    pool = whole or pool
    best = sorted(pool, key=lambda k: (-centrality(k), k))
    chosen = sorted(best[:2])
    # The lines right after the title, as said: what a summary must not simply be.
    following = {_norm(" ".join(clean(lines[j].text, lex) for j in range(title_line + 1, title_line + 1 + n)))
                 for n in (1, 2) if title_line + n < len(lines)}

    def summary(ks: list[int]) -> str:
        parts = []
        for k in ks:
            part = compress(sure[k], lex).rstrip(" ,;:")
            parts.append(sentence_case(part if part.endswith((".", "?", "!")) else part + ".", lex))
        return tidy_description(" ".join(parts), lex) if parts else ""

    description = summary(chosen)
    if _norm(description) in following:
        # A copy of what follows the title: the most central line alone, its main clause, another
        # line, or the line headed by the clip's subject.
        description = summary(best[:1])
        if _norm(description) in following:
            shorter = _main_clause(description.rstrip("."), lex)
            others = [summary([k]) for k in best[1:] if _norm(summary([k])) not in following]
            if _norm(shorter) != _norm(description.rstrip(".")):
                description = shorter + "."
            elif others:
                description = others[0]
            elif keywords:
                description = _headed(description, keywords, lex)
    if not description and keywords:
        description = _ABOUT.get(lex.code, "{}.").format(_phrase(keywords[:2], lex))
    return description


def _sure_text(line: Line, lex: Lexicon) -> str:
    """The line's text, or its longest stretch of sure words (at least four) when the transcriber
    was unsure of some of them; "" when no such stretch exists."""
    unsure = [k for k, w in enumerate(line.words) if w.confidence < UNSURE]
    if not unsure:
        return clean(line.text, lex)
    # The sure opening of the line, ended on a clause break when it has one, never on a word
    # that promises more.
    prefix = " ".join(w.text for w in line.words[: unsure[0]])
    if len(prefix.split()) < _MIN_FRAGMENT_WORDS:
        return ""
    # Only a whole clause reads as said: the opening up to a clause break.
    head = re.split(r"[,;:]\s", prefix)
    if len(head) < 2 or len(head[0].split()) < _MIN_FRAGMENT_WORDS:
        return ""
    return clean(head[0], lex).rstrip(" ,;:")


def _main_clause(title: str, lex: Lexicon) -> str:
    """``title`` up to its first coordinated clause ("... warm soil and a lot of sun" -> "... warm soil")."""
    words = title.split()
    conjunction = _AND.get(lex.code)
    for k in range(4, len(words) - 1):
        if words[k].lower() == conjunction:
            return shorten(" ".join(words[:k]), TITLE_MAX_CHARS, lex)
    return title


def _headed(title: str, keywords: Sequence[Keyword], lex: Lexicon) -> str:
    """The title headed by the clip's main keyword: "Tomatoes: why the fruit splits"."""
    if not keywords:
        return title
    head = keywords[0]
    first = title.split()[0].strip(",.:;!?")
    named = first in {"I", "I'm", "I've", "I'll", "I'd"} or any(k.surface == first and k.surface[:1].isupper()
                                                                  for k in keywords)
    body = title if named else title[:1].lower() + title[1:]
    return shorten(f"{sentence_case(head.surface, lex)}: {body}", TITLE_MAX_CHARS, lex)


_ENGLISH_TENS = re.compile(r"(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty")


def lex_numbers(lex: Lexicon, token: str) -> bool:
    """Whether ``token`` is a number word ("twelve", "nineteen"): never a subject or a hashtag."""
    return bool(lex.numbers.fullmatch(token) or (lex.code == "en" and _ENGLISH_TENS.fullmatch(token)))


def _phrase(keywords: Sequence[Keyword], lex: Lexicon, said: str = "") -> str:
    """The keywords as a phrase: as said when they are said together ("lunar module"), else joined by "and"."""
    together = " ".join(k.surface for k in keywords)
    for pair in (together, " ".join(k.surface for k in reversed(keywords))):
        if len(keywords) > 1 and f" {pair.lower()} " in f" {_norm(said)} ":
            return pair
    return f" {_AND.get(lex.code, '&')} ".join(k.surface for k in keywords)


def _stems(text: str, lex: Lexicon) -> set[str]:
    return {lex.stem(t) for t in lex.keyword_tokens(text)}


def _norm(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()
