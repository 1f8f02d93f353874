"""Titles, descriptions and hashtags written for posting, from what the clip says (offline,
extractive and compressive; no language model).

- Keywords: the clip's words weighed by how much more the clip uses them than the rest of the
  video (term frequency times inverse sentence frequency over the whole transcript), so a clip
  about tomatoes in a gardening video is titled by what sets it apart.
- Title: a question or hook among the clip's first two sentences, as said (cleaned of fillers and
  leading connectives), when it names a keyword; a question that names none is headed by the
  clip's subject when that is a name or a noun ("Apollo: did everything go smoothly?"). Otherwise
  the best short, self-contained line of the clip that names a keyword: a whole sentence or its
  main clause (leading connectives and subordinate tails dropped), never the clip's first or
  second sentence copied, never a fragment (``fragment``). At most 70 characters.
- Description: the one or two complete sentences most central to the clip (cosine of their
  TF-IDF vectors with the clip's), in order, other than the title's, at most 160 characters; of
  a sentence that cannot be used whole, its longest sure clause as a sentence of its own
  (``clauses``); only when the clip has neither, its nouns as it says them ("All about the
  crust.").
- Hashtags: three to five distinctive keywords that are nouns by simple rules of the language
  (``Vocabulary.noun_like``): names first, then words the video uses after an article or a
  determiner, never words it uses after pronouns, "to" or modal verbs, never nouns every talk
  says (``generic_noun``: "hour", "couple", "answer") nor words said all through the video
  (``Vocabulary.everywhere``); none when fewer qualify.
- Words the transcriber was unsure of (confidence below ``UNSURE``, or ``UNSURE_FUNCTION_WORD``
  for a stop word) are never used, nor misheard stretches of words each above that floor
  (``misheard``: "ready into/0.50 our/0.46 three/0.63 months"), nor a line with a sequence no
  speaker says (``ungrammatical``: "the the", "a of"): such a line is left out, and lends at
  most its sure opening or a sure clause. Nor is a statement used without its doubtful opening
  word (``lost_opening``: "Thus/0.65 your compost smell mad." was "Does your compost smell bad?").
- When no sentence or clause is sure, the title names the clip's subjects ("Masa, anual y
  decisión").
- Chinese and Japanese (``compose_unspaced``): whole sentences of at most 30 characters,
  descriptions of 70, counted in characters, not in words between spaces.

Everything follows the video's language (``lexicon``): its fillers, connectives, subordinating
words, determiners and pronouns. Pure: no I/O.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain import messages
from chalicelib.domain.lexicon import NEUTRAL, QUESTION_MARKS, Lexicon, fold, is_unspaced, words as lexicon_words
from chalicelib.domain.scripts import join_words, joins_without_spaces
from chalicelib.domain.titles import (
    DESCRIPTION_MAX_CHARS,
    STAGE_DIRECTIONS,
    TITLE_MAX_CHARS,
    _drop_dangling,
    clean,
    sentence_case,
    shorten,
    tidy_title,
)
from chalicelib.domain.transcript import Word

# Word confidence under which a word is not put in a title, description or hashtag. Whisper's
# median is 0.95; its misheard words ("Price against that mail") sit at 0.3-0.55.
UNSURE = 0.5
# Whisper is least sure of a segment's first word ("Why" at 0.36 opening "Why does the bread taste
# sour?"); a function word misheard misleads no one, so it only needs this much.
UNSURE_FUNCTION_WORD = 0.35
# Whisper's misheard stretches come as runs of words each heard with some doubt, every one above
# the floor ("ready into/0.50 our/0.46 three/0.63 months", "hot/0.69 in/0.59 half/0.62 air"),
# while a sentence it heard right has at most a lone doubtful word ("Why/0.37 not run ...").
DOUBT = 0.7
_MISHEARD_MEAN = 0.6  # two doubtful words in a row are a misheard stretch under this mean; three always
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
_CONDITIONAL = {"en": ("when", "if", "once"), "es": ("si", "cuando"), "fr": ("si", "quand", "lorsque"),
                "de": ("wenn", "als", "falls"), "pt": ("se", "quando"), "it": ("se", "quando")}
# English verbs a sentence opens on only after an adverb it lost ("[Then] comes the hardest part").
_INVERTED = frozenset("""comes came goes went is was are were has have had does did lies lay stands stood
    sits sat follows remains remain""".split())
# German puts the verb second: after "dann", "also", "deshalb" the verb comes first, so dropping
# them leaves a fragment ("[Deshalb] setzen Imker ..."). Only these leave the word order alone.
_GERMAN_COORDINATING = frozenset("und aber oder denn sondern äh ähm".split())
# Words a noun follows (articles, determiners, possessives, numbers) and words a verb follows
# (subject pronouns, "to", modals, negation): the evidence ``Vocabulary.noun_like`` weighs.
_DETERMINERS = {
    "en": """the a an this these those my your our their his her its some many few several every each
        another two three four five no any such""",
    "es": """el la los las un una unos unas mi mis tu tus su sus nuestro nuestra nuestros nuestras este esta
        estos estas ese esa esos esas aquel aquella del al cada otro otra otros otras muchos muchas""",
    "fr": """le la les l' un une des du au aux mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs
        ce cet cette ces chaque""",
    "pt": """o a os as um uma uns umas do da dos das no na nos nas ao aos meu minha meus minhas seu sua seus
        suas este esta estes estas esse essa esses essas cada outro outra""",
    "it": """il lo la i gli le l' un uno una un' del dello della dei degli delle al allo alla ai agli alle nel
        nello nella nei negli nelle mio mia miei mie suo sua suoi sue questo questa questi queste ogni""",
}
_VERB_CUES = {
    "en": """i you he she we they to can can't cannot could will won't would should must may might don't
        doesn't didn't never not""",
    "es": "yo tú él ella nosotros vosotros ellos ellas se me te nos os no para puede pueden debe deben hay",
    "fr": "je j' tu il elle on nous vous ils elles se s' me m' te t' ne n' pour peut peuvent doit doivent",
    "pt": "eu tu ele ela nós você vocês eles elas se me te não para pode podem deve devem",
    "it": "io tu lui lei noi voi loro si mi ti ci vi non per può possono deve devono",
}
_DETERMINER_SETS = {code: frozenset(text.split()) for code, text in _DETERMINERS.items()}
# Articles and possessives, and the closed-class words that cannot come right after one (another
# article or possessive, a preposition, a conjunction): "a the", "our of", "la de" are no speech,
# they are the transcriber's guess at a word it did not hear.
_ARTICLES = {
    "en": "the a an my your our their his its",
    "es": "el la los las un una unos unas mis tus sus",
    "fr": "le la les un une des mon ma mes ton ta tes son sa ses notre nos votre vos",
    "de": "der die das den dem des ein eine einen einem einer eines mein meine dein deine",
    "pt": "o os as um uma uns umas meu minha meus minhas",
    "it": "il lo gli un uno una mio mia miei mie",
}
_NOT_AFTER_ARTICLE = {
    "en": "of to in on at by for with from into onto and or but if because than the a an my your our their",
    "es": "de en con por para y o pero el la los las un una",
    "fr": "de du à au aux en et ou mais dans sur pour par avec le la les un une",
    "de": "und oder aber von zu mit für auf bei aus nach",  # "der die": a relative pronoun may follow
    "pt": "de do da em com por para e ou mas o os um uma",  # "o que" is "what"
    "it": "di a da in con per e o ma il lo la gli un una",
}
_ARTICLE_SETS = {code: frozenset(text.split()) for code, text in _ARTICLES.items()}
_NOT_AFTER_ARTICLE_SETS = {code: frozenset(text.split()) for code, text in _NOT_AFTER_ARTICLE.items()}
_VERB_CUE_SETS = {code: frozenset(text.split()) for code, text in _VERB_CUES.items()}
# Endings of verb forms and adverbs, trusted only for a word the video never puts after a determiner.
_VERB_ENDINGS = {
    "en": re.compile(r"(?:ing|ed|ly|ous|ful|ive|able|ible|less|est)$"),
    "es": re.compile(r"(?:ar|er|ir|ando|iendo|mente)$"),
    "fr": re.compile(r"(?:er|ir|ez|ons|ment)$"),
    "pt": re.compile(r"(?:ar|er|ir|ando|endo|indo|mente)$"),
    "it": re.compile(r"(?:are|ere|ire|ando|endo|mente)$"),
}
_ENGLISH_ADJECTIVE = re.compile(r"(?:ous|ful|ive|able|ible|less|est|ish|ic|ical|[^e]ed)$")
_PRENOMINAL = frozenset("""
    old new big small tiny huge good bad great long short high low hot cold warm wet dry dark light red green
    blue black white yellow brown full empty easy hard early late young little large whole entire real main
    lunar solar final local simple single common special strong weak deep wide thin thick fresh ripe rich poor
    next last same other second third best worst first free middle
    viejo vieja viejos viejas vecchio vecchia vecchi vecchie velho velha velhos velhas plupart

    nuevo nueva nuevos nuevas enorme gran grande buen buena mejor peor mayor menor primer primera segundo
    segunda último última pequeño pequeña mismo misma
    nouveau nouvel nouvelle grand grande petit petite bon bonne meilleur meilleure premier première deuxième
    dernier dernière énorme vieux vieille jeune beau belle même
    novo nova grande pequeno pequena bom boa melhor pior maior menor primeiro primeira segundo segunda
    último última mesmo mesma
    nuovo nuova grande grand gran piccolo piccola buon buono buona migliore maggior maggiore primo prima
    secondo seconda ultimo ultima stesso stessa
""".split())
_FIRST_PERSON_PLURAL = {"es": re.compile(r"(?:amos|emos|imos)$"), "pt": re.compile(r"(?:amos|emos|imos)$"),
                        "it": re.compile(r"iamo$")}
_NEVER = re.compile(r"(?!x)x")
_CASED = re.compile(r"[^\W_]+(?:['’][^\W_]+)*['’]?")
_ELIDED_HEAD = re.compile(r"^([^\W\d_]{1,6}['’])(?=[^\W_])")
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
    without work works year years yet yes everything everyone nothing someone smoothly plupart partir maggior
    muy más menos siempre nunca ahora después antes también todo todos cada hace hacer tiene tienen
    toujours jamais maintenant après avant aussi tout tous chaque fait faire très plus moins
    immer nie jetzt nach vor auch alle jede macht machen sehr mehr weniger schon noch
    sempre nunca agora depois antes também todo todos cada faz fazer muito mais menos
    sempre mai adesso dopo prima anche tutto tutti ogni fa fare molto più meno
""".split())


# Nouns every talk uses, whatever it is about: time and quantity ("hour", "couple"), people and
# relations ("friend"), and the talk itself ("answer", "problem", "question"). A clip says them in
# passing; they are no hashtag and no subject ("#Hour", "#Couple" on a bread and a running clip).
_GENERIC_NOUNS = {
    "en": """hour hours minute minutes second seconds day days week weeks month months year years time times
        moment moments morning mornings night nights evening today couple pair half lot lots number numbers amount
        bit piece part parts kind sort type way ways thing things stuff answer answers question questions problem
        problems reason reasons point points fact facts case cases idea ideas example examples conversation people
        person man men woman women friend friends guy guys side sides end start beginning rest place places percent
        word words story""",
    "es": """hora horas minuto minutos segundo segundos día días semana semanas mes meses año años vez veces tiempo
        momento momentos mañana noche tarde par mitad cantidad número parte partes tipo manera forma cosa cosas
        respuesta respuestas pregunta preguntas problema problemas razón ejemplo gente persona personas amigo
        amigos lado final resto lugar palabra""",
    "fr": """heure heures minute minutes seconde secondes jour jours semaine semaines mois an ans année années fois
        temps moment moments matin soir nuit couple paire moitié nombre partie parties genre façon manière chose
        choses réponse réponses question questions problème problèmes raison exemple gens personne personnes ami
        amis côté fin reste endroit mot""",
    "de": """stunde stunden minute minuten sekunde sekunden tag tage tagen woche wochen monat monate monaten jahr
        jahre jahren mal zeit moment morgen abend nacht paar hälfte anzahl zahl teil teile art weise sache sachen
        ding dinge antwort antworten frage fragen problem probleme grund gründe beispiel leute mensch menschen
        freund freunde seite ende anfang rest ort wort""",
    "pt": """hora horas minuto minutos segundo segundos dia dias semana semanas mês meses ano anos vez vezes tempo
        momento momentos manhã noite tarde par metade número parte partes tipo maneira forma coisa coisas
        resposta respostas pergunta perguntas problema problemas razão exemplo gente pessoa pessoas amigo amigos
        lado fim resto lugar palavra""",
    "it": """ora ore minuto minuti secondo secondi giorno giorni settimana settimane mese mesi anno anni volta volte
        tempo momento momenti mattina sera notte coppia paio metà numero parte parti tipo modo cosa cose risposta
        risposte domanda domande problema problemi ragione esempio gente persona persone amico amici lato fine
        resto posto parola""",
}
_GENERIC_NOUN_SETS = {code: frozenset(fold(w) for w in text.split()) for code, text in _GENERIC_NOUNS.items()}


def generic_noun(word: str, lex: Lexicon) -> bool:
    """Whether ``word`` is a noun every talk uses (see ``_GENERIC_NOUNS``)."""
    return fold(word) in _GENERIC_NOUN_SETS.get(lex.code, frozenset())


@dataclass(frozen=True)
class Line:
    """One sentence of a clip: its timed words and how strongly it opens (1 question, 0.8 claim)."""

    words: Sequence[Word]
    hook: float = 0.0

    @property
    def text(self) -> str:
        # Chinese and Japanese words are written without spaces between them.
        texts = [w.text for w in self.words]
        return join_words(texts, unspaced=any(is_unspaced(t) for t in texts) and joins_without_spaces(
            None, "".join(texts)))

    def sure(self, lex: Lexicon) -> bool:
        """Whether every word of the line may be used: content words at ``UNSURE`` or more, function
        words at ``UNSURE_FUNCTION_WORD`` (see there), no misheard stretch (``misheard``) and
        nothing that reads as no speech (``ungrammatical``)."""
        return (not any(_unsure(w, lex) for w in self.words) and not misheard(self.words)
                and not ungrammatical(self.text, lex))

    def confidence(self) -> float:
        """Its least sure word's confidence: of two lines, the surer one is the better title."""
        return min((w.confidence for w in self.words), default=0.0)


def misheard(words: Sequence[Word]) -> bool:
    """Whether ``words`` hold a misheard stretch: two adjacent words under ``DOUBT`` averaging under
    ``_MISHEARD_MEAN``, or three in a row under ``DOUBT`` (see ``DOUBT``)."""
    return bool(misheard_stretches(words))


def misheard_stretches(words: Sequence[Word]) -> set[int]:
    """The positions in ``words`` of the words in misheard stretches (see ``misheard``)."""
    out: set[int] = set()
    run: list[int] = []
    for k, w in enumerate([*words, None]):
        if w is not None and w.confidence < DOUBT:
            run.append(k)
            continue
        if len(run) >= 3 or (len(run) == 2 and sum(words[i].confidence for i in run) / 2 < _MISHEARD_MEAN):
            out.update(run)
        run = []
    return out


def doubted_words(lines: Sequence[Sequence[Word]], lex: Lexicon) -> frozenset[str]:
    """The words (as ``lexicon.words`` reads them) of the clip's ``lines`` heard unsure (``_unsure``)
    or in a misheard stretch (``misheard``) and nowhere in the clip surely: what no title or
    description may use, the local ones or a language model's. Stop words are left out ("the"
    misheard misleads no one)."""
    doubted: set[str] = set()
    sure: set[str] = set()
    for words in lines:
        stretches = misheard_stretches(words)
        for k, w in enumerate(words):
            heard = doubted if _unsure(w, lex) or k in stretches else sure
            heard.update(t for t in lexicon_words(w.text) if not lex.is_stopword(t))
    return frozenset(doubted - sure)


def lost_opening(line: Line, text: str) -> bool:
    """Whether ``text``, made from a statement ``line``, dropped the line's opening word though the
    transcriber doubted it (under ``DOUBT``). The word that opens a sentence tells its kind, and
    Whisper, least sure of it, mishears it into a connective or a filler that cleaning then drops:
    "Does your compost smell bad?" heard as "Thus/0.65 your compost smell mad." left the title
    "Your compost smell mad". Kept whole, such a line opens on its connective and is no title."""
    if not line.words or line.words[0].confidence >= DOUBT or line.text.rstrip().endswith(QUESTION_MARKS):
        return False
    # Made from the line's start, the opener gone (a clause lifted from further on is not).
    said = _norm(text).split()[:1]
    return bool(said) and said != _norm(line.words[0].text).split()[:1] and any(
        _norm(w.text).split()[:1] == said for w in line.words[1:3])


def ungrammatical(text: str, lex: Lexicon) -> bool:
    """Whether ``text`` has a sequence no speaker says, the trace of a misheard word: a word said
    twice in a row ("the the"), a content word joined to itself ("boring and boring"), or an
    article or possessive followed by another one, a preposition or a conjunction ("into our
    the", "a of"). Idioms of repetition ("more and more", "again and again") are common words
    and pass. Languages without word lists: never."""
    if not lex.known:
        return False
    tokens = lexicon_words(text)
    articles = _ARTICLE_SETS.get(lex.code, frozenset())
    closed = _NOT_AFTER_ARTICLE_SETS.get(lex.code, frozenset())
    conjunction = messages.say("and", lex.code) if lex.code in messages.LANGUAGES else ""
    for k in range(len(tokens) - 1):
        word, following = tokens[k], tokens[k + 1]
        if word == following and not word.isdigit():
            return True
        if word in articles and following in closed:
            return True
        if (k + 2 < len(tokens) and following == conjunction and tokens[k + 2] == word
                and not lex.is_stopword(word) and word not in _GENERIC and not word.endswith("er")):
            return True
    return False


def _unsure(word: Word, lex: Lexicon) -> bool:
    bare = word.text.strip(",.;:!?¿¡\"'()").lower()
    floor = UNSURE_FUNCTION_WORD if bare and lex.is_stopword(bare) else UNSURE
    return word.confidence < floor


@dataclass(frozen=True)
class Keyword:
    stem: str
    surface: str  # as said in the clip ("tomatoes", "Apollo")
    weight: float
    name: bool = False  # capitalised inside sentences: a proper noun ("Apollo"), or any German noun


@dataclass(frozen=True)
class Posting:
    title: str
    description: str
    hashtags: list[str]
    keywords: list[Keyword]


class Vocabulary:
    """In how many of the video's sentences each stem appears (what makes a clip's word
    distinctive), and how the video uses each word: after articles and determiners (a noun),
    after pronouns, "to" or modals (a verb), capitalised inside a sentence (a name)."""

    def __init__(self, sentences: Sequence[str], lex: Lexicon):
        self.lex = lex
        self.count = max(1, len(sentences))
        self.df: Counter[str] = Counter()
        self.after_determiner: Counter[str] = Counter()
        self.after_verb_cue: Counter[str] = Counter()
        self.capitalised: Counter[str] = Counter()  # inside a sentence
        self.lowercase: Counter[str] = Counter()  # inside a sentence
        self.quarters: dict[str, set[int]] = {}  # the quarters of the video each stem is said in
        for k, text in enumerate(sentences):
            stems = {lex.stem(t) for t in lex.keyword_tokens(text)}
            self.df.update(stems)
            for stem in stems:
                self.quarters.setdefault(stem, set()).add(4 * k // self.count)
            self._read_usage(text)

    def _read_usage(self, text: str) -> None:
        lex = self.lex
        determiners = _DETERMINER_SETS.get(lex.code, frozenset())
        cues = _VERB_CUE_SETS.get(lex.code, frozenset())
        tokens: list[str] = []
        for token in _CASED.findall(STAGE_DIRECTIONS.sub(" ", text)):
            head = _ELIDED_HEAD.match(token) if lex.elision else None
            if head:  # "l'abeille": the article, then the word
                tokens.append(head.group(1).replace("’", "'"))
                token = token[head.end():]
            tokens.append(token)
        lowered = [t.lower().replace("’", "'") for t in tokens]
        for k, token in enumerate(tokens):
            if len(token) < 3 or token.endswith(("'", "’")):
                continue
            stem = lex.stem(lowered[k])
            p1 = lowered[k - 1] if k else ""
            if k:
                if token[:1].isupper():
                    self.capitalised[stem] += 1
                elif token[:1].islower():
                    self.lowercase[stem] += 1
            # Adjectives can sit between an article and its noun too ("the old queen", "una enorme
            # diferencia"): the common ones are listed, English ones ending like adjectives are not
            # counted ("the most ridiculous", "a useful").
            if p1 in determiners and lowered[k] not in _PRENOMINAL and not (
                    lex.code == "en" and _ENGLISH_ADJECTIVE.search(lowered[k])):
                self.after_determiner[stem] += 1
            if p1 in cues:
                self.after_verb_cue[stem] += 1

    def keywords(self, lines: Sequence[Line], limit: int = 8, context: Sequence[str] = ()) -> list[Keyword]:
        """The clip's most distinctive sure words, best first. ``context``: the sentences around the
        clip; a word they repeat too is the subject being discussed, not a passing one."""
        around: Counter[str] = Counter(self.lex.stem(t) for text in context for t in self.lex.keyword_tokens(text))
        tf: Counter[str] = Counter()
        forms: dict[str, Counter[str]] = {}
        for line in lines:
            stretches = misheard_stretches(line.words)
            for i, w in enumerate(line.words):
                if (w.confidence < UNSURE or i in stretches or w.text[:1] in "[(*"
                        or w.text.rstrip(".,!?")[-1:] in "])*"):
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
            name = self.named(stem)
            # A capitalised word inside a sentence is a name ("Apollo"): keep its case.
            surface = surface if name and surface[:1].isupper() else surface.lower()
            # Repetition inside the clip marks its subject: "tomato" said three times beats "buried" once.
            scored.append(Keyword(stem, surface, (n + 0.5 * around[stem]) ** 1.5 * idf, name))
        scored.sort(key=lambda k: (-k.weight, k.surface))
        return [k for k in scored if k.weight > 0][:limit]

    def everywhere(self, stem: str) -> bool:
        """Said in every quarter of the video and in half of its sentences or more: a habit of its
        speaker, no mark of one clip. (The subject of a two-topic talk, "tomatoes" in 11 of its 30
        sentences, still tags its clips.)"""
        return len(self.quarters.get(stem, ())) == 4 and 2 * self.df.get(stem, 0) >= self.count

    def distinctive(self, stem: str) -> bool:
        """Said in at most a quarter of the video's sentences (and said at all)."""
        return 0 < self.df.get(stem, 0) <= max(1, self.count // 4)

    def distinctive_stems(self, text: str) -> set[str]:
        """The stems of ``text``'s content words that are distinctive (``distinctive``), short nouns
        ("owl", "hat") included, common words and numbers not."""
        common = {t for t in self.lex.keyword_tokens(text) if t in _GENERIC or t.isdigit() or lex_numbers(self.lex, t)}
        return {s for s in (self.lex.stem(t) for t in self.lex.keyword_tokens(text) if t not in common)
                if self.distinctive(s)}

    def named(self, stem: str) -> bool:
        """Capitalised whenever it is said inside a sentence (German: more often than not)."""
        upper, lower = self.capitalised[stem], self.lowercase[stem]
        return upper > lower if self.lex.code == "de" else upper > 0 and lower == 0

    def noun_like(self, k: Keyword) -> bool:
        """Whether the keyword reads as a noun by the video's use of it (see the class doc)."""
        if k.name:
            return True
        if self.lex.code == "de":  # German nouns are capitalised: a lower-case word is not one
            return False
        det = self.after_determiner[k.stem]
        if self.after_verb_cue[k.stem] > det:
            return False
        # A verb form or an adverb by its ending, unless the video puts it right after an article.
        ending = _VERB_ENDINGS.get(self.lex.code)
        if _FIRST_PERSON_PLURAL.get(self.lex.code, _NEVER).search(k.surface.lower()):
            return False  # "fundamos", "abbiamo": a verb whatever comes before it
        return bool(det) or ending is None or not ending.search(k.surface.lower())

    def evidenced_noun(self, k: Keyword) -> bool:
        return k.name or (self.noun_like(k) and self.after_determiner[k.stem] > 0)


def compose(lines: Sequence[Line], vocabulary: Vocabulary, context: Sequence[str] = ()) -> Posting:
    """Title, description and hashtags for a clip of ``lines`` (see the module doc); ``context``:
    the sentences just before and after it."""
    lex = vocabulary.lex
    if joins_without_spaces(None, " ".join(line.text for line in lines)):
        return compose_unspaced(lines, vocabulary)
    keywords = vocabulary.keywords(lines, limit=16, context=context)
    title, title_line = _title(lines, keywords[:8], vocabulary)
    said = [clean(line.text, NEUTRAL) for line in lines if line.sure(lex)]
    return Posting(title, _description(lines, title, title_line, keywords[:8], vocabulary),
                   hashtags(keywords, lex, vocabulary, said), keywords[:8])


def _title(lines: Sequence[Line], keywords: Sequence[Keyword], vocabulary: Vocabulary) -> tuple[str, int]:
    lex = vocabulary.lex
    weight = {k.stem: k.weight for k in keywords}
    floor = 0.25 * max(weight.values(), default=1.0)

    def value(text: str) -> float:
        # The clip's keywords by their weight; any other word distinctive of it a little.
        return sum(weight.get(s, floor) for s in vocabulary.distinctive_stems(text))

    opening = [k for k in range(min(2, len(lines))) if lines[k].hook >= 0.8]
    # 1. A question or hook among the first two sentences, as said, when it names something distinctive.
    for k in opening:
        title = _said(lines[k], lex)
        if title and value(title) > 0:
            return title, k
    # 2. A question there that names nothing distinctive, headed by the clip's subject when that
    # is a name or a noun: "Apollo: did everything go smoothly?" (never "Lunar: ...").
    subject = _subject(lines, keywords, vocabulary)
    for k in opening:
        title = _said(lines[k], lex)
        if title and title.endswith(QUESTION_MARKS) and subject:
            headed = f"{sentence_case(subject, lex)}: {_lower_first(title, lex)}"
            if len(headed) <= TITLE_MAX_CHARS:
                return headed, k
    # 3. The best short, self-contained line naming a keyword (never the opening copied).
    copies = {_norm(clean(line.text, lex)) for line in lines[:2]} | {_norm(clean(line.text, NEUTRAL))
                                                                     for line in lines[:2]}
    best: tuple[float, str, int] | None = None
    for k, line in enumerate(lines):
        for variant, whole in _variants(line, lex):
            title = tidy_title(variant, lex)
            if (len(title) > TITLE_MAX_CHARS or fragment(title, lex, title=True)
                    or (k < 2 and _norm(title) in copies)):
                continue
            # A whole sentence reads best, unless it had to be cut to fit; then the shorter of equals.
            whole = whole and _norm(title) == _norm(variant)
            worth = (value(title) / (1 + 0.15 * k) * (1.0 if whole else 0.85) * (1.2 if line.hook >= 0.8 else 1.0)
                     * (1.0 if len(title) <= 50 else 0.95))
            if worth > 0 and (best is None or worth > best[0]):
                best = (worth, title, k)
    if best is not None:
        return best[1], best[2]
    # 4. The opening question or hook even without a keyword: it is what the clip is about.
    for k in opening:
        title = _said(lines[k], lex)
        if title:
            return title, k
    # 5. The clip's subjects as a phrase ("Masa, decisión y horno"), from the nouns it names: a
    # transcript this unsure has no sentence to lend.
    nouns = _subjects(keywords, vocabulary)[:3]
    if len(nouns) > 1:
        return sentence_case(_phrase(nouns, lex, " ".join(line.text for line in lines)), lex), -1
    return "", -1


def _nouns(keywords: Sequence[Keyword], vocabulary: Vocabulary) -> list[Keyword]:
    """The keywords the video uses as nouns: names first, then those seen after a determiner, by
    weight; never a noun every talk uses (``generic_noun``)."""
    nouns = [k for k in keywords if vocabulary.evidenced_noun(k) and not generic_noun(k.surface, vocabulary.lex)]
    return sorted(nouns, key=lambda k: (not k.name, -k.weight))


def _subjects(keywords: Sequence[Keyword], vocabulary: Vocabulary) -> list[Keyword]:
    """The keywords that may name the clip's subjects: the nouns (``_nouns``), then the other
    keywords not told to be anything else (a language without word lists has no rules to tell)."""
    nouns = _nouns(keywords, vocabulary)
    return nouns + [k for k in keywords if k not in nouns and vocabulary.noun_like(k)
                    and not generic_noun(k.surface, vocabulary.lex)]


def _subject(lines: Sequence[Line], keywords: Sequence[Keyword], vocabulary: Vocabulary) -> str:
    """What the clip is about, to head a title with: its main name or noun, with the word it is
    always said with when there is one ("lunar module"); "" when no keyword is a noun."""
    nouns = [k for k in _nouns(keywords, vocabulary) if vocabulary.distinctive(k.stem)]
    if not nouns:
        return ""
    said = " " + _norm(" ".join(line.text for line in lines)) + " "
    head = nouns[0]
    for other in keywords:
        for pair in (f"{head.surface} {other.surface}", f"{other.surface} {head.surface}"):
            if other is not head and f" {pair.lower()} " in said:
                return pair
    return head.surface


def _said(line: Line, lex: Lexicon) -> str:
    """A question or hook as a title: as said, cleaned of fillers and leading connectives, if it
    is sure, whole (or its hook clause fits) and no fragment; else ""."""
    if not line.sure(lex):
        return ""
    for text in (clean(line.text, lex), clean(line.text, NEUTRAL)):
        question = text.rstrip().endswith(QUESTION_MARKS)
        if question and len(text) > TITLE_MAX_CHARS + 1:
            continue  # a question cut short is no question
        title = tidy_title(text, lex)
        if question:
            title = title.rstrip("?") + "?"
        if title and not fragment(title, lex, title=True) and (question or len(title.split()) >= _MIN_FRAGMENT_WORDS):
            return title
    return ""


def _variants(line: Line, lex: Lexicon) -> list[tuple[str, bool]]:
    """The line's candidate titles: whole (connectives dropped, else as said) and compressed, or
    its sure opening clause when the transcriber was unsure of a later word. (text, whole)."""
    if line.sure(lex):
        texts = [clean(line.text, lex), clean(line.text, NEUTRAL)]
        out = [(t, True) for t in texts]
        out += [(compress(t, lex), False) for t in texts]
        out += [(_main_clause(t, lex), False) for t in texts]
    else:
        head = _sure_head(line, lex)
        out = [(head, False), (compress(head, lex), False)] if head else []
        out += [(clause, False) for clause in clauses(line, lex)]
    seen, unique = set(), []
    for text, whole in out:
        if text and _norm(text) not in seen and not lost_opening(line, text):
            seen.add(_norm(text))
            unique.append((text, whole))
    return unique


def compress(text: str, lex: Lexicon) -> str:
    """``text`` without fillers, leading connectives or its subordinate tail."""
    text = clean(text, lex)
    tokens = text.split()
    for n in (3, 2, 1):  # a leading connective ("and", "por eso", "per questo")
        if len(tokens) > n + 3 and " ".join(t.lower().strip(",") for t in tokens[:n]) in lex.continuations:
            if lex.code != "de" or " ".join(tokens[:n]).lower() in _GERMAN_COORDINATING:
                tokens = tokens[n:]
            break
    text = " ".join(tokens).lstrip(", ")
    # "When the colony is too full, the old queen leaves": the main clause is after the comma
    # (not in German, whose main clause then opens on its verb).
    lowered = text.lower()
    if lex.code != "de" and any(lowered.startswith(s + " ")
                                for s in (*_SUBORDINATE.get(lex.code, ()), *_CONDITIONAL.get(lex.code, ()))):
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


def fragment(text: str, lex: Lexicon, *, title: bool = False) -> bool:
    """Whether ``text`` is no self-contained sentence or phrase, by simple rules: fewer than three
    words; opening on a connective ("and", "pero"), a relative or causal word ("which",
    "weil"), a condition with no main clause after it, or (English) a verb that needed the adverb
    it lost ("Comes the hardest part"); ending on a word that promises more ("of the"). A title
    must not lean on what came before either ("That is why ...", "It ...")."""
    words = text.split()
    if not words:
        return True
    if is_unspaced(text):
        return False
    question = text.rstrip().endswith(QUESTION_MARKS) or text.lstrip().startswith("¿")
    tokens = lexicon_words(text)
    if len(tokens) < 3:
        return True
    if lex.opener_in(tokens, lex.continuations) and not (question and lex.opener_in(tokens, lex.question_words)):
        return True
    lowered = " ".join(tokens)
    causal = [s for s in _SUBORDINATE.get(lex.code, ()) if s not in _CONDITIONAL.get(lex.code, ())]
    if any(lowered.startswith(s + " ") for s in causal) and not question:
        return True
    if any(lowered.startswith(s + " ") for s in _CONDITIONAL.get(lex.code, ())) and ", " not in text:
        return True
    if lex.code == "en" and tokens[0] in _INVERTED and not question:
        return True
    if lex.code == "de" and not question and tokens[0] not in lex.stopwords and words[0][:1].isupper() \
            and tokens[0].endswith(("en", "t")) and len(tokens) > 1 and tokens[1] in _GERMAN_SUBJECTS:
        return True  # "Setzen Imker ...", "Zieht die alte Königin ...": the verb first, its opener lost
    if title and lex.opener_in(tokens, lex.dependent) and not question:
        return True
    last = tokens[-1]
    return last in lex.dangling and not question


# A German sentence opening "verb + subject" lost the word before it ("[Dann] zieht die Königin").
_GERMAN_SUBJECTS = frozenset("der die das den dem ein eine einen ich du er sie es wir ihr man imker".split())


def hashtags(keywords: Sequence[Keyword], lex: Lexicon, vocabulary: Vocabulary | None = None,
             said: Sequence[str] = ()) -> list[str]:
    """3-5 hashtags from the distinctive keywords the video uses as nouns (names first, a name of
    several words as one: #MountSaintHelens), or none when fewer than three qualify. ``said``:
    the clip's sure sentences, where names of several words are found."""
    if vocabulary is None:
        nouns = list(keywords)
    else:  # without word lists for the language, names first and then what is left
        nouns = _nouns(keywords, vocabulary) if vocabulary.lex.known else _subjects(keywords, vocabulary)
        # A word the whole video keeps saying tells nothing of this clip.
        nouns = [k for k in nouns if not vocabulary.everywhere(k.stem)]
    names = _multiword_names(said) if lex.code != "de" else []
    tags: list[str] = []
    for k in nouns:
        word = _ELIDED_HEAD.sub("", k.surface) if lex.elision else k.surface
        if k.name:
            word = next(("".join(n) for n in names if word in n), word)
        word = re.sub(r"[^\w]", "", word)
        if len(word) < 4 or word.isdigit():
            continue
        tag = "#" + (word if word[:1].isupper() else word[:1].upper() + word[1:])
        if tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tags[: _HASHTAGS[1]] if len(tags) >= _HASHTAGS[0] else []


def _multiword_names(said: Sequence[str]) -> list[list[str]]:
    """Runs of two to four capitalised words inside sentences ("Mount Saint Helens")."""
    runs: list[list[str]] = []
    for text in said:
        run: list[str] = []
        for k, raw in enumerate([*text.split(), ""]):
            word = raw.strip(",.;:!?\"'()")
            if k and word[:1].isupper() and not word.isdigit():
                run.append(word)
                if not raw.endswith((",", ".", ";", ":", "!", "?")):
                    continue
            if 2 <= len(run) <= 4:
                runs.append(run)
            run = []
    return runs


def _description(lines: Sequence[Line], title: str, title_line: int, keywords: Sequence[Keyword],
                 vocabulary: Vocabulary) -> str:
    """The one or two complete, sure sentences most central to the clip besides the title's, in order."""
    lex = vocabulary.lex
    texts: dict[int, str] = {}
    for k, line in enumerate(lines):
        if k == title_line:
            continue
        if not line.sure(lex):
            # Its longest sure clause, compressed to a sentence of its own.
            lifted = [sentence_case(t, lex) + "." for t in sorted(clauses(line, lex), key=len, reverse=True)
                      if _norm(t) != _norm(title)]
            if lifted and len(lifted[0]) <= DESCRIPTION_MAX_CHARS:
                texts[k] = lifted[0]
            continue
        sentence = clean(line.text, lex)
        compressed = compress(sentence, lex)
        unleaned = _unlean(sentence, lex)
        for text in (*([unleaned] if unleaned else []), sentence, clean(line.text, NEUTRAL),
                     *([compressed] if compressed != sentence else [])):
            if lost_opening(line, text):
                continue
            text = sentence_case(text.rstrip(" ,;:-"), lex)
            if not text.endswith((".", "?", "!", "。", "？", "！")):
                text += "."
            if (len(text.split()) >= _MIN_FRAGMENT_WORDS and not fragment(text, lex)
                    and _norm(text) != _norm(title) and len(text) <= DESCRIPTION_MAX_CHARS):
                texts[k] = text
                break
    if not texts:
        # No sentence to lend, the last resort: what the clip is about, its nouns as it says them
        # ("All about the crust and the crumb."), in its language (the words alone in a language
        # without templates).
        if lex.code in messages.LANGUAGES:
            nouns = _nouns(keywords, vocabulary)[:2]
            if not nouns:
                return ""
            said = " ".join(clean(line.text, NEUTRAL) for line in lines)
            phrases = [Keyword(k.stem, _as_said(k, said, lex), k.weight, k.name) for k in nouns]
            return messages.say("about_clip", lex.code, topic=_phrase(phrases, lex))
        nouns = _subjects(keywords, vocabulary)[:2]
        return sentence_case(_phrase(nouns, lex), lex) + "." if nouns else ""
    clip_vector = _vector(" ".join(line.text for line in lines), vocabulary)

    def centrality(k: int) -> float:
        # Sentences that lean on the previous one read worse alone.
        # and a question asks rather than summarises.
        leans = lex.opener_in(lexicon_words(texts[k]), lex.dependent)
        asks = texts[k].endswith(QUESTION_MARKS)
        return _cosine(_vector(texts[k], vocabulary), clip_vector) * (0.4 if leans else 1.0) * (0.5 if asks else 1.0)

    ranked = sorted(texts, key=lambda k: (-centrality(k), k))
    # The lines right after the title, as said: a summary is not simply those.
    following = {tuple(range(title_line + 1, title_line + 1 + n)) for n in (1, 2)}
    options = [sorted(ranked[:2]), ranked[:1], sorted([ranked[0], *ranked[2:3]]), ranked[1:2]]
    for chosen in options:
        text = " ".join(texts[k] for k in chosen)
        if chosen and len(text) <= DESCRIPTION_MAX_CHARS and (tuple(chosen) not in following or len(texts) == 1):
            return text
    return texts[ranked[0]]


# "That is why ...": a pointer to the sentence before, then a whole clause with its own subject and
# verb, which reads alone ("That is why beekeepers add a second box" -> "Beekeepers add a second
# box"). Not German, whose verb then comes first ("Deshalb setzen Imker ...").
_POINTING_BACK = {
    "en": ("that is why", "that's why", "this is why", "which is why", "that is how", "that's how"),
    "es": ("es por eso que", "por eso es que", "por eso"),
    "fr": ("c'est pour ça que", "c'est pour cela que", "c'est pourquoi"),
    "pt": ("é por isso que", "por isso"),
    "it": ("è per questo che", "per questo"),
}


def _unlean(text: str, lex: Lexicon) -> str:
    """``text`` without a leading "that is why" (``_POINTING_BACK``) when what follows stands alone
    as a sentence of four words or more; "" otherwise."""
    lowered = text.lower().replace("’", "'")
    for phrase in _POINTING_BACK.get(lex.code, ()):
        if lowered.startswith((phrase + " ", phrase + ", ")):
            rest = sentence_case(text[len(phrase):].lstrip(" ,"), lex)
            if len(rest.split()) >= _MIN_FRAGMENT_WORDS and not fragment(rest, lex, title=True):
                return rest
    return ""


# The definite articles a noun phrase keeps after "about" / "sobre" / "sur" (German and Italian
# would need a case or a contraction: their nouns stand bare).
_DEFINITE = {"en": ("the",), "es": ("el", "la", "los", "las"), "fr": ("le", "la", "les", "l'"),
             "pt": ("o", "a", "os", "as")}


def _as_said(keyword: Keyword, said: str, lex: Lexicon) -> str:
    """The keyword with the definite article the clip says it with most ("the crust"); bare
    when it has none, or is a name."""
    if keyword.name:
        return keyword.surface
    tokens = lexicon_words(said)
    surface = keyword.surface.lower()
    before = Counter(tokens[k - 1] for k in range(1, len(tokens)) if tokens[k] == surface)
    article = next((a for a, _ in before.most_common() if a in _DEFINITE.get(lex.code, ())), "")
    if not article:
        return keyword.surface
    return f"{article}{keyword.surface}" if article.endswith("'") else f"{article} {keyword.surface}"


def _vector(text: str, vocabulary: Vocabulary) -> dict[str, float]:
    lex = vocabulary.lex
    counts = Counter(lex.stem(t) for t in lex.keyword_tokens(text))
    return {s: n * math.log((1 + vocabulary.count) / (1 + vocabulary.df.get(s, 0))) for s, n in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(s, 0.0) for s, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _sure_head(line: Line, lex: Lexicon) -> str:
    """The line's sure opening up to a clause break (at least four words), when the transcriber
    was unsure of a later word; "" when there is none."""
    sure = next((k for k in range(1, len(line.words) + 1) if not Line(line.words[:k]).sure(lex)),
                len(line.words) + 1) - 1
    prefix = " ".join(w.text for w in line.words[:sure])
    head = re.split(r"[,;:]\s", prefix)
    if len(head) < 2 or len(head[0].split()) < _MIN_FRAGMENT_WORDS:
        return ""
    return clean(head[0], lex).rstrip(" ,;:")


# Words that open a clause without being part of it: dropped when the clause stands alone. Not
# relative words ("which", "who", "que"): the clause after them has no subject of its own.
_RELATIVE = frozenset("which who whom whose that que qui dont cui welche welcher welches der die das".split())


def clauses(line: Line, lex: Lexicon) -> list[str]:
    """The line's clauses that can stand alone as sentences, when the line as a whole cannot be used
    (an unsure word, a misheard stretch): split at commas, semicolons and before subordinating
    words, a leading connective or subordinating word dropped ("while yeast produces gas" ->
    "yeast produces gas"), each sure (``Line.sure``), no fragment, at least four words. A
    compressed sentence keeps to what the transcriber heard and still reads as one."""
    if not lex.known:
        return []
    openers = {*lex.continuations, *_SUBORDINATE.get(lex.code, ())} - _RELATIVE
    cut_before = {s for s in _SUBORDINATE.get(lex.code, ()) if " " not in s}
    spans: list[list[Word]] = [[]]
    for w in line.words:
        bare = w.text.strip(",.;:!?¿¡\"'").lower()
        if spans[-1] and bare in cut_before:
            spans.append([])
        spans[-1].append(w)
        if w.text.endswith((",", ";", ":")):
            spans.append([])
    # A short phrase opening the line, set off by a comma, belongs to the clause after it: "Once a
    # week, do a long run" says more than "Do a long run" (and the phrase alone is too short to be
    # one). Not one further on: that is a list's item more often ("like dead leaves, cardboard").
    first, second = [*spans, []][:2]
    if 0 < len(first) < _MIN_FRAGMENT_WORDS and first[-1].text.endswith(",") and second:
        spans.append([*first, *second])
    out = []
    for span in spans:
        while span and span[0].text.strip(",.;:!?¿¡\"'").lower() in openers:
            span = span[1:]
        # Lifted from a line the transcriber struggled with: every word must be heard without doubt.
        if len(span) < _MIN_FRAGMENT_WORDS or not Line(span).sure(lex) or min(w.confidence for w in span) < DOUBT:
            continue
        text = clean(" ".join(w.text for w in span), lex).rstrip(" ,;:-.!?")
        if text and not fragment(text, lex, title=True) and not _leans(text, lex):
            out.append(sentence_case(text, lex))
    return out


def _leans(text: str, lex: Lexicon) -> bool:
    """Whether a clause lifted out of its sentence needs the rest of it: it opens on a third-person
    pronoun, a modal or "to" (its subject was in the clause before), or on a preposition (a
    phrase, not a clause: "on the far side of the Moon")."""
    tokens = lexicon_words(text)
    if not tokens:
        return True
    cues = _VERB_CUE_SETS.get(lex.code, frozenset()) - {"i", "you", "we", "they", "yo", "je", "eu", "io"}
    prepositions = _NOT_AFTER_ARTICLE_SETS.get(lex.code, frozenset()) - _ARTICLE_SETS.get(lex.code, frozenset())
    # English: an -ing opening is a participle phrase once cut from its sentence ("waiting an hour").
    participle = lex.code == "en" and tokens[0].endswith("ing")
    return tokens[0] in cues or tokens[0] in prepositions or participle


def _main_clause(text: str, lex: Lexicon) -> str:
    """``text`` up to its first coordinated clause ("The owl now wears a tiny hat and the pigeons love
    it" -> "The owl now wears a tiny hat"); ``text`` when it has none."""
    words = text.split()
    conjunction = messages.say("and", lex.code)
    for k in range(_MIN_FRAGMENT_WORDS, len(words) - 1):
        if words[k].lower() == conjunction and not words[k - 1].endswith(","):
            return _drop_dangling(" ".join(words[:k]), lex)
    return text


def _lower_first(text: str, lex: Lexicon) -> str:
    first = text.split()[0].strip(",.:;!?¿¡")
    keep = first in {"I", "I'm", "I've", "I'll", "I'd"} or (lex.code == "de" and first[:1].isupper()
                                                          and first.lower() not in lex.stopwords)
    return text if keep else text[:1].lower() + text[1:]


# Numbers written as one word that the lexicons' number words (for scoring) leave out: Italian tens
# and their compounds ("sessantacinque", "ventotto"), Spanish 21-29 ("veintiocho").
_ROMANCE_TENS = {
    "it": re.compile(r"(?:vent|trent|quarant|cinquant|sessant|settant|ottant|novant)[ai]?"
                     r"(?:uno|due|tré|tre|quattro|cinque|sei|sette|otto|nove)?"),
    "es": re.compile(r"veinti(?:uno|dós|dos|trés|tres|cuatro|cinco|séis|seis|siete|ocho|nueve)"),
}
_ENGLISH_TENS = re.compile(r"(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty")


def lex_numbers(lex: Lexicon, token: str) -> bool:
    """Whether ``token`` is a number word ("twelve", "nineteen"): never a subject or a hashtag."""
    return bool(lex.numbers.fullmatch(token) or (lex.code == "en" and _ENGLISH_TENS.fullmatch(token))
                or bool(_ROMANCE_TENS.get(lex.code, _NEVER).fullmatch(token)))


def _phrase(keywords: Sequence[Keyword], lex: Lexicon, said: str = "") -> str:
    """The keywords as a phrase: as said when they are said together ("lunar module"), else listed
    ("masa, decisión y horno")."""
    together = " ".join(k.surface for k in keywords)
    for pair in (together, " ".join(k.surface for k in reversed(keywords))):
        if len(keywords) > 1 and f" {pair.lower()} " in f" {_norm(said)} ":
            return pair
    surfaces = [k.surface for k in keywords]
    head = ", ".join(surfaces[:-1])
    conjunction = messages.say("and", lex.code) if lex.code in messages.LANGUAGES else "&"
    return f"{head} {conjunction} {surfaces[-1]}" if head else surfaces[0] if surfaces else ""


def _stems(text: str, lex: Lexicon) -> set[str]:
    return {lex.stem(t) for t in lex.keyword_tokens(text)}


def _norm(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


# Chinese and Japanese: a title of about 70 Latin characters is about 30 of theirs (each is a
# syllable or a word, and twice as wide on screen); a description of 160 about 70.
UNSPACED_TITLE_MAX_CHARS = 30
UNSPACED_DESCRIPTION_MAX_CHARS = 70
_UNSPACED_ENDS = ("。", "？", "！", "?", "!", "\uff0e")
# Japanese sentences end on a polite predicate, often without a 。 in Whisper's text ("...必要です
# 家に..."): a sentence ends there unless a particle carries it on ("ですが", "ますから").
_JAPANESE_END = re.compile(r"(?:です|ます|ました|でした|ません|ましょう|ください|だ)(?:か|ね|よ)?$")
_JAPANESE_GOES_ON = re.compile(r"^(?:か|ね|よ|が|けど|から|し|と|の|な|ので|のに|って|て)")
_JAPANESE_QUESTION = re.compile(r"(?:です|ます|でした|ました|ません)か$")


def unspaced_sentences(lines: Sequence[Line]) -> list[tuple[int, list[Word]]]:
    """The sentences of the clip's lines, each with its line's index: a line of Chinese or
    Japanese is cut after a final mark, and (Japanese) after a polite predicate no particle
    carries on."""
    out: list[tuple[int, list[Word]]] = []
    for k, line in enumerate(lines):
        current: list[Word] = []
        for i, w in enumerate(line.words):
            current.append(w)
            following = line.words[i + 1].text if i + 1 < len(line.words) else ""
            said = "".join(x.text for x in current)
            if (w.text.endswith(_UNSPACED_ENDS)
                    or (_JAPANESE_END.search(said) and not _JAPANESE_GOES_ON.match(following))):
                out.append((k, current))
                current = []
        if current:
            out.append((k, current))
    return [(k, ws) for k, ws in out if ws]


def _unspaced_text(words: Sequence[Word]) -> str:
    return clean(Line(words).text, NEUTRAL)


def _unspaced_sentence(words: Sequence[Word]) -> str:
    """The words as a sentence with its final mark: a Japanese question gets its "？"."""
    text = _unspaced_text(words).rstrip("、，,;\uff1b:：")
    if text.endswith(_UNSPACED_ENDS):
        return text
    return text + ("？" if _JAPANESE_QUESTION.search(text) else "。")


def _sureness(words: Sequence[Word], lex: Lexicon) -> tuple[int, float]:
    """How sure the transcriber was of ``words``, for ranking: (0 when every word is sure (``Line.sure``),
    else minus the count of unsure words, the mean confidence)."""
    unsure = sum(w.confidence < UNSURE for w in words) + len(misheard_stretches(words)) // 2
    return (-unsure, sum(w.confidence for w in words) / max(1, len(words)))


def compose_unspaced(lines: Sequence[Line], vocabulary: Vocabulary) -> Posting:
    """Title, description and hashtags for a clip in Chinese or Japanese, on whole characters:

    - title: a question or hook among the clip's first two sentences; else the clip's most
      distinctive whole sentence (character bigrams weighed like keywords), the surest first, a
      sentence after the first two preferred to a copy of the opening. At most 30 characters,
      never a fragment: a sentence, or none (the caller then uses the old rule);
    - description: the one or two sentences most central to the clip besides the title's, in
      order, at most 70 characters, each with its final mark;
    - hashtags: 3-5 of the clip's sure, distinctive words as the transcriber wrote them (Chinese
      words of two Han characters or more; Japanese katakana words, loan nouns), or none.
    """
    lex = vocabulary.lex
    sentences = unspaced_sentences(lines)
    clip_vector = _vector(" ".join(line.text for line in lines), vocabulary)

    def value(words: Sequence[Word]) -> float:
        return _cosine(_vector(_unspaced_text(words), vocabulary), clip_vector)

    fitting = [(n, k, ws) for n, (k, ws) in enumerate(sentences)
               if 4 <= len(_unspaced_sentence(ws).rstrip("。\uff0e")) <= UNSPACED_TITLE_MAX_CHARS]
    title, title_at = "", -1
    opening = [(n, k, ws) for n, k, ws in fitting if n < 2 and (
        lines[k].hook >= 0.8 or _unspaced_sentence(ws).endswith(("？", "?")))]
    ranked = sorted(opening or fitting, key=lambda item: (
        _sureness(item[2], lex)[0], (0.8 if item[0] < 2 and not opening else 1.0) * value(item[2])
        + 0.1 * _sureness(item[2], lex)[1]), reverse=True)
    if ranked:
        n, _k, ws = ranked[0]
        title, title_at = _unspaced_sentence(ws).rstrip("。\uff0e"), n
    elif japanese(lines):
        # No sentence fits: a Japanese sentence's last clause holds its predicate and reads whole
        # ("[走る距離を少しずつ増やして、]ほとんどの日はゆっくり走りましょう"): the longest that fits.
        tails = [(len(tail), n) for n, (_k, ws) in enumerate(sentences) for tail in _japanese_tails(ws)]
        if tails:
            size, n = max(tails)
            title = next(t for t in _japanese_tails(sentences[n][1]) if len(t) == size)
            # The whole sentence may then describe the clip.
    if not title and sentences:
        # Chinese, or no Japanese clause fits: the surest, most distinctive sentence up to a clause mark.
        _n, words = max(sentences, key=lambda item: (_sureness(item[1], lex)[0], value(item[1])))
        title = shorten(_unspaced_sentence(words).rstrip("。\uff0e"), UNSPACED_TITLE_MAX_CHARS, lex)
    # Description: the most central other sentences, surest first, in the clip's order.
    # Never a word under the floor: with none sure, no description rather than a misheard one.
    others = [(n, ws) for n, (_k, ws) in enumerate(sentences) if n != title_at and _sureness(ws, lex)[0] == 0]
    others.sort(key=lambda item: (_sureness(item[1], lex)[0], value(item[1])), reverse=True)
    description = ""
    for count in (2, 1):
        chosen = sorted(others[:count], key=lambda item: item[0])
        text = "".join(_unspaced_sentence(ws) for _n, ws in chosen)
        if chosen and len(text) <= UNSPACED_DESCRIPTION_MAX_CHARS and _norm(text) != _norm(title):
            description = text
            break
    return Posting(title, description, _unspaced_hashtags(lines, vocabulary), [])


def japanese(lines: Sequence[Line]) -> bool:
    """Whether the clip is in Japanese: it has hiragana (Chinese has none)."""
    return any("\u3041" <= c <= "\u309f" for line in lines for c in line.text)


def _japanese_tails(words: Sequence[Word]) -> list[str]:
    """The sentence's final clauses, from a clause mark (、) on, that fit a title."""
    text = _unspaced_sentence(words).rstrip("。\uff0e")
    cuts = [m.end() for m in re.finditer(r"[、，]", text)]
    return [text[c:] for c in cuts if 6 <= len(text[c:]) <= UNSPACED_TITLE_MAX_CHARS]


_KATAKANA = re.compile(r"[\u30a0-\u30ff]+")
_KATAKANA_WORD = re.compile(r"[\u30a0-\u30ff]{3,}")
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
_PUNCTUATION = "、。，？！,.?!：\uff1b:;"
# Chinese words every talk says (pronouns, time, quantity, greetings): never a hashtag.
_CHINESE_COMMON = frozenset("""我们 你们 他们 她们 它们 大家 自己 今天 明天 昨天 现在 时候 以后 以前 很多 一些 一点 这个
    那个 这些 那些 什么 怎么 为什么 因为 所以 但是 如果 已经 可以 没有 就是 还是 一样 非常 真的 欢迎 回到 谢谢 问题 东西
    事情 时间 小时 分钟 一年 今年 每天 比如 其实 然后 可能 应该 需要 知道 觉得""".split())

_CHINESE_FUNCTION = frozenset("的了把是在不一么着过和与就都也还要会能被让给从对这那")


def _unspaced_hashtags(lines: Sequence[Line], vocabulary: Vocabulary) -> list[str]:
    """The clip's sure words as the transcriber wrote them (Chinese: two Han characters or more,
    none of the words every talk says; Japanese: katakana words of three or more, loan nouns,
    which Whisper writes a character or two at a time), distinctive of the clip, most said first."""
    lex = vocabulary.lex
    in_japanese = japanese(lines)
    counts: Counter[str] = Counter()
    for line in lines:
        stretches = misheard_stretches(line.words)
        run = ""
        for i, w in enumerate([*line.words, None]):
            word = w.text.strip(_PUNCTUATION) if w is not None else ""
            sure = w is not None and w.confidence >= UNSURE and i not in stretches
            if w is not None and in_japanese and sure and _KATAKANA.fullmatch(word) \
                    and not w.text.endswith(tuple(_PUNCTUATION)):
                run += word
                continue
            if in_japanese and sure and _KATAKANA.fullmatch(word):
                run += word  # the run's last piece, before a mark
                word = ""
            if _KATAKANA_WORD.fullmatch(run):
                counts[run] += 1
            run = ""
            if sure and not in_japanese and _HAN_WORD.fullmatch(word) and word not in _CHINESE_COMMON:
                counts[word] += 1
    if not in_japanese:
        # Whisper writes Chinese in pieces of a few characters, not words ("聊一", "者把"): a piece
        # is taken for a word when the clip says it twice and it holds no function character.
        counts = Counter({w: n for w, n in counts.items() if n >= 2 and not set(w) & _CHINESE_FUNCTION})
    tags = []
    for word, _n in counts.most_common():
        bigrams = [lex.stem(b) for b in lex.keyword_tokens(word)]
        if bigrams and all(vocabulary.distinctive(b) for b in bigrams):
            tags.append("#" + word)
    return tags[: _HASHTAGS[1]] if len(tags) >= _HASHTAGS[0] else []
