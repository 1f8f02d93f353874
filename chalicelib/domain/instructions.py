"""What ``customInstructions`` ask for, beyond a topic: which parts they exclude, whether they are
exclusive ("only ..."), whether the intro is to be skipped, and the style of moment wanted.

"only the part about growing tomatoes, nothing about space" reads as the topic "growing tomatoes"
(exclusive: clips off it are dropped, not padded in) and the excluded topic "space". The cue
words are listed for the six languages with word lists (English, Spanish, French, German,
Portuguese, Italian); an instruction may be written in another of them than the video's. Words
of no language are left to the topic, so an instruction in any other language still names one.
Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib.domain.lexicon import style_of

# "nothing but" is exclusive, not negative: matched (and removed) first.
_EXCLUSIVE = re.compile(
    r"\b(?:only|just|exclusively|solely|nothing but|nothing else than|"
    r"s[oó]lo|solamente|[uú]nicamente|exclusivamente|"
    r"seulement|uniquement|exclusivement|rien que|"
    r"nur|ausschlie(?:ß|ss)lich|lediglich|"
    r"só|somente|apenas|"
    r"soltanto|unicamente|esclusivamente)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:nothing (?:about|on|from|of)|not (?:about|on)|no|not|without|avoid(?:ing)?|skip(?:ping)?|exclude|"
    r"excluding|except|leave out|don'?t (?:include|show|want|use)|never|"
    r"nada (?:sobre|de|acerca de)|sin|evita(?:r)?|excepto|salvo|salta(?:r)?|omite|omitir|"
    r"rien (?:sur|de|à propos)|pas de|sans|[ée]vite[rz]?|sauf|saute[rz]?|"
    r"nichts (?:über|zu|von)|keine?n?|ohne|au(?:ß|ss)er|vermeide|überspring(?:e|en)?|"
    r"nada (?:sobre|de)|sem|evite|exceto|pule|pular|"
    r"niente (?:su|di|sul|sulla|sui)|nulla (?:su|di)|non|senza|evita|tranne|salta(?:re)?)\b",
    re.IGNORECASE,
)
# The part of a video before its first topic: what "skip the intro" leaves out.
_INTRO = re.compile(
    r"\b(?:intro|introduction|opening|beginning|introducci[oó]n|comienzo|inicio|introduction|d[ée]but|"
    r"einleitung|einf[üu]hrung|anfang|introdu[çc][ãa]o|in[ií]cio|introduzione|inizio)\b",
    re.IGNORECASE,
)
# Clauses: sentences, commas, semicolons, and "but" in each language ("mas" without an accent is
# Portuguese "but"; Spanish "más" is "more").
_CLAUSES = re.compile(r"[.;!?\n]+|,\s*|\s+(?:but|pero|mais|aber|ma|mas|and not|y no|et pas|und nicht)\s+",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    topic_text: str = ""  # the wanted part of the instructions, cue words removed
    avoid_text: str = ""  # what they exclude ("space training"), cue words removed
    exclusive: bool = False  # "only ...": fewer clips rather than clips off the topic
    skip_intro: bool = False
    styles: frozenset[str] = field(default_factory=frozenset)  # "humour", "emotion", "hook"
    source: str = ""  # the instructions as written (their language tells which stop words apply)


def parse(instructions: str | None) -> Request:
    """Split ``instructions`` into what is wanted and what is excluded (see the module doc)."""
    text = (instructions or "").strip()
    if not text:
        return Request()
    wanted, avoided, exclusive, skip_intro = [], [], False, False
    for clause in _CLAUSES.split(text):
        clause = clause.strip()
        if not clause:
            continue
        if _EXCLUSIVE.search(clause):
            exclusive = True
            clause = _EXCLUSIVE.sub(" ", clause)
        negative = _NEGATIVE.search(clause)
        if negative is None:
            wanted.append(clause)
            continue
        rest = clause[negative.end():]
        if _INTRO.search(rest):
            skip_intro = True
            rest = _INTRO.sub(" ", rest)
        avoided.append(rest)
        if clause[: negative.start()].strip():
            wanted.append(clause[: negative.start()])
    positive = " ".join(wanted)
    return Request(
        topic_text=" ".join(positive.split()),
        avoid_text=" ".join(" ".join(avoided).split()),
        exclusive=exclusive,
        skip_intro=skip_intro,
        styles=frozenset(style_of(positive)),
        source=text,
    )
