"""What Klyph tells users in words, in the video's language: each clip's ``reason``, the call's
``notes`` and the words titles and descriptions are built with.

Templates exist for the six languages with word lists (English, Spanish, French, German,
Portuguese, Italian); any other language, or an unknown one, gets English. Every template of a
key takes the same fields. Pure: no I/O.
"""
from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "es", "fr", "de", "pt", "it")

_TEMPLATES: dict[str, dict[str, str]] = {
    # Reasons: short parts, joined by "; " and capitalised.
    "no_topic_match": {
        "en": "no clear match for the requested topic in this video",
        "es": "nada en este vídeo coincide claramente con el tema pedido",
        "fr": "rien dans cette vidéo ne correspond clairement au sujet demandé",
        "de": "nichts in diesem Video passt klar zum gewünschten Thema",
        "pt": "nada neste vídeo corresponde claramente ao tema pedido",
        "it": "nulla in questo video corrisponde chiaramente all'argomento richiesto",
    },
    "on_topic": {
        "en": "on the requested topic{named}", "es": "sobre el tema pedido{named}",
        "fr": "sur le sujet demandé{named}", "de": "zum gewünschten Thema{named}",
        "pt": "sobre o tema pedido{named}", "it": "sull'argomento richiesto{named}",
    },
    "touches_topic": {
        "en": "touches the requested topic{named}", "es": "toca el tema pedido{named}",
        "fr": "effleure le sujet demandé{named}", "de": "streift das gewünschte Thema{named}",
        "pt": "toca no tema pedido{named}", "it": "tocca l'argomento richiesto{named}",
    },
    "little_on_topic": {
        "en": "little on the requested topic", "es": "poco sobre el tema pedido",
        "fr": "peu sur le sujet demandé", "de": "wenig zum gewünschten Thema",
        "pt": "pouco sobre o tema pedido", "it": "poco sull'argomento richiesto",
    },
    "opens_question": {
        "en": "opens with a question", "es": "empieza con una pregunta", "fr": "commence par une question",
        "de": "beginnt mit einer Frage", "pt": "começa com uma pergunta", "it": "inizia con una domanda",
    },
    "opens_claim": {
        "en": "opens with a strong claim", "es": "empieza con una afirmación fuerte",
        "fr": "commence par une affirmation forte", "de": "beginnt mit einer starken Aussage",
        "pt": "começa com uma afirmação forte", "it": "inizia con un'affermazione forte",
    },
    "opens_number": {
        "en": "opens with a concrete number", "es": "empieza con una cifra concreta",
        "fr": "commence par un chiffre concret", "de": "beginnt mit einer konkreten Zahl",
        "pt": "começa com um número concreto", "it": "inizia con un numero concreto",
    },
    "laughter": {
        "en": "laughter or jokes", "es": "risas o chistes", "fr": "rires ou blagues", "de": "Lachen oder Witze",
        "pt": "risadas ou piadas", "it": "risate o battute",
    },
    "laughter_as_asked": {
        "en": "laughter or jokes, as asked", "es": "risas o chistes, como se pidió",
        "fr": "rires ou blagues, comme demandé", "de": "Lachen oder Witze, wie gewünscht",
        "pt": "risadas ou piadas, como pedido", "it": "risate o battute, come richiesto",
    },
    "emotional": {
        "en": "emotional delivery", "es": "tono emotivo", "fr": "ton chargé d'émotion", "de": "emotionaler Vortrag",
        "pt": "tom emotivo", "it": "tono emotivo",
    },
    "no_laughter_here": {
        "en": "no laughter or jokes found here", "es": "aquí no hay risas ni chistes",
        "fr": "ni rires ni blagues ici", "de": "hier weder Lachen noch Witze",
        "pt": "sem risadas nem piadas aqui", "it": "qui nessuna risata né battuta",
    },
    "nothing_about": {
        "en": "nothing about {topic}, as asked", "es": "nada sobre {topic}, como se pidió",
        "fr": "rien sur {topic}, comme demandé", "de": "nichts über {topic}, wie gewünscht",
        "pt": "nada sobre {topic}, como pedido", "it": "niente su {topic}, come richiesto",
    },
    "after_intro": {
        "en": "after the intro", "es": "después de la introducción", "fr": "après l'intro",
        "de": "nach dem Intro", "pt": "depois da introdução", "it": "dopo l'introduzione",
    },
    "complete": {
        "en": "a complete thought", "es": "una idea completa", "fr": "une idée complète",
        "de": "ein abgeschlossener Gedanke", "pt": "uma ideia completa", "it": "un pensiero completo",
    },
    "starts_mid": {
        "en": "starts mid-thought", "es": "empieza a mitad de una idea", "fr": "commence au milieu d'une idée",
        "de": "beginnt mitten im Gedanken", "pt": "começa no meio de uma ideia", "it": "inizia a metà di un pensiero",
    },
    "ends_on_question": {
        "en": "ends on an open question", "es": "termina con una pregunta abierta",
        "fr": "finit sur une question ouverte", "de": "endet mit einer offenen Frage",
        "pt": "termina com uma pergunta em aberto", "it": "finisce con una domanda aperta",
    },
    "ends_mid": {
        "en": "ends mid-thought", "es": "termina a mitad de una idea", "fr": "finit au milieu d'une idée",
        "de": "endet mitten im Gedanken", "pt": "termina no meio de uma ideia", "it": "finisce a metà di un pensiero",
    },
    "spans_topic_change": {
        "en": "spans a topic change", "es": "cruza un cambio de tema", "fr": "traverse un changement de sujet",
        "de": "überspannt einen Themenwechsel", "pt": "atravessa uma mudança de tema",
        "it": "attraversa un cambio di argomento",
    },
    "speech_share": {
        "en": "{percent}% speech", "es": "{percent} % de habla", "fr": "{percent} % de parole",
        "de": "{percent} % Sprache", "pt": "{percent}% de fala", "it": "{percent}% di parlato",
    },
    # Notes: whole sentences.
    "topic_absent_none": {
        "en": "Nothing in this video is clearly about {topic}, so no clip was made.",
        "es": "Nada en este vídeo trata claramente de {topic}, así que no se hizo ningún clip.",
        "fr": "Rien dans cette vidéo ne parle clairement de {topic}, donc aucun extrait n'a été créé.",
        "de": "Nichts in diesem Video handelt klar von {topic}, daher wurde kein Clip erstellt.",
        "pt": "Nada neste vídeo trata claramente de {topic}, então nenhum clipe foi criado.",
        "it": "Nulla in questo video parla chiaramente di {topic}, quindi nessuna clip è stata creata.",
    },
    "topic_absent_strongest": {
        "en": "Nothing in this video is clearly about {topic}; these are its strongest moments.",
        "es": "Nada en este vídeo trata claramente de {topic}; estos son sus mejores momentos.",
        "fr": "Rien dans cette vidéo ne parle clairement de {topic} ; voici ses meilleurs moments.",
        "de": "Nichts in diesem Video handelt klar von {topic}; das sind seine stärksten Momente.",
        "pt": "Nada neste vídeo trata claramente de {topic}; estes são os seus melhores momentos.",
        "it": "Nulla in questo video parla chiaramente di {topic}; questi sono i suoi momenti migliori.",
    },
    # What fewer clips were found of ("passages about tomatoes"); English agrees in number.
    "passages_about": {
        "en": "{passages} about {topic}", "es": "pasajes sobre {topic}", "fr": "passages sur {topic}",
        "de": "Passagen über {topic}", "pt": "trechos sobre {topic}", "it": "passaggi su {topic}",
    },
    "passages_funny": {
        "en": "funny {passages} (with laughter or jokes)", "es": "pasajes divertidos (con risas o chistes)",
        "fr": "passages drôles (avec rires ou blagues)", "de": "lustige Passagen (mit Lachen oder Witzen)",
        "pt": "trechos engraçados (com risadas ou piadas)", "it": "passaggi divertenti (con risate o battute)",
    },
    "passages_whole": {
        "en": "non-overlapping {passages} that open and close on whole sentences",
        "es": "pasajes sin solapamiento que empiezan y terminan en frases completas",
        "fr": "passages sans chevauchement qui commencent et finissent sur des phrases complètes",
        "de": "überlappungsfreie Passagen, die mit ganzen Sätzen beginnen und enden",
        "pt": "trechos sem sobreposição que começam e terminam em frases completas",
        "it": "passaggi senza sovrapposizioni che iniziano e finiscono con frasi complete",
    },
    "without": {
        "en": "without {topic}", "es": "sin {topic}", "fr": "sans {topic}", "de": "ohne {topic}",
        "pt": "sem {topic}", "it": "senza {topic}",
    },
    "only_some": {
        "en": "Only {n} {what} {verb} long enough for a {lengths} clip.",
        "es": "{What} con la duración de un clip de {lengths}: solo {n}.",
        "fr": "{What} assez longs pour un extrait de {lengths} : seulement {n}.",
        "de": "{What}, lang genug für einen Clip von {lengths}: nur {n}.",
        "pt": "{What} com duração para um clipe de {lengths}: apenas {n}.",
        "it": "{What} abbastanza lunghi per una clip di {lengths}: solo {n}.",
    },
    "only_none": {
        "en": "No {what} fits a {lengths} clip, so no clip was made.",
        "es": "{What} con la duración de un clip de {lengths}: ninguno, así que no se hizo ningún clip.",
        "fr": "{What} assez longs pour un extrait de {lengths} : aucun, donc aucun extrait n'a été créé.",
        "de": "{What}, lang genug für einen Clip von {lengths}: keine, daher wurde kein Clip erstellt.",
        "pt": "{What} com duração para um clipe de {lengths}: nenhum, então nenhum clipe foi criado.",
        "it": "{What} abbastanza lunghi per una clip di {lengths}: nessuno, quindi nessuna clip è stata creata.",
    },
    "no_laughter_found": {
        "en": "No laughter or jokes were found; these are the strongest moments otherwise.",
        "es": "No se encontraron risas ni chistes; estos son los mejores momentos aparte de eso.",
        "fr": "Aucun rire ni blague trouvé ; voici les meilleurs moments par ailleurs.",
        "de": "Kein Lachen und keine Witze gefunden; das sind sonst die stärksten Momente.",
        "pt": "Não foram encontradas risadas nem piadas; estes são os melhores momentos de resto.",
        "it": "Nessuna risata né battuta trovata; questi sono comunque i momenti migliori.",
    },
    "nothing_to_clip": {
        "en": "No clip of {lengths} could be found in this video; try a shorter minDuration.",
        "es": "No se encontró ningún clip de {lengths} en este vídeo; prueba un minDuration más corto.",
        "fr": "Aucun extrait de {lengths} n'a été trouvé dans cette vidéo ; essayez un minDuration plus court.",
        "de": "In diesem Video wurde kein Clip von {lengths} gefunden; versuche eine kürzere minDuration.",
        "pt": "Nenhum clipe de {lengths} foi encontrado neste vídeo; tente um minDuration menor.",
        "it": "Nessuna clip di {lengths} trovata in questo video; prova un minDuration più breve.",
    },
    "low_resolution": {
        "en": ("The source is {width}x{height}, so the clips are {crop}, {short} px on the short side, below the "
               "{minimum} px platforms expect; submit with allowUpscale: true to render them at 1080 px."),
        "es": ("La fuente es de {width}x{height}, así que los clips son de {crop}, {short} px en el lado corto, "
               "menos de los {minimum} px que esperan las plataformas; envía con allowUpscale: true para "
               "renderizarlos a 1080 px."),
        "fr": ("La source fait {width}x{height}, donc les extraits font {crop}, {short} px sur le petit côté, sous "
               "les {minimum} px attendus par les plateformes ; soumettez avec allowUpscale: true pour les rendre "
               "en 1080 px."),
        "de": ("Die Quelle hat {width}x{height}, also sind die Clips {crop}, {short} px an der kurzen Seite, unter "
               "den {minimum} px, die Plattformen erwarten; mit allowUpscale: true werden sie in 1080 px gerendert."),
        "pt": ("A fonte tem {width}x{height}, então os clipes ficam com {crop}, {short} px no lado menor, abaixo dos "
               "{minimum} px que as plataformas esperam; envie com allowUpscale: true para renderizá-los em 1080 px."),
        "it": ("La sorgente è {width}x{height}, quindi le clip sono {crop}, {short} px sul lato corto, sotto i "
               "{minimum} px che le piattaforme si aspettano; invia con allowUpscale: true per renderle a 1080 px."),
    },
    "upscaled": {
        "en": ("The {width}x{height} source was upscaled to {target} (lanczos) from a {crop} crop: the clips are "
               "softer than a 1080 px source would give."),
        "es": ("La fuente de {width}x{height} se amplió a {target} (lanczos) desde un recorte de {crop}: los clips "
               "son menos nítidos que con una fuente de 1080 px."),
        "fr": ("La source {width}x{height} a été agrandie en {target} (lanczos) depuis un recadrage {crop} : les "
               "extraits sont moins nets qu'avec une source 1080 px."),
        "de": ("Die Quelle mit {width}x{height} wurde aus einem {crop}-Ausschnitt auf {target} hochskaliert "
               "(Lanczos): die Clips sind weicher als bei einer 1080-px-Quelle."),
        "pt": ("A fonte de {width}x{height} foi ampliada para {target} (lanczos) a partir de um recorte de {crop}: "
               "os clipes ficam menos nítidos do que com uma fonte de 1080 px."),
        "it": ("La sorgente {width}x{height} è stata ingrandita a {target} (lanczos) da un ritaglio {crop}: le clip "
               "sono meno nitide che con una sorgente a 1080 px."),
    },
    # Words of titles and descriptions.
    "about_clip": {
        "en": "All about {topic}.", "es": "Todo sobre {topic}.", "fr": "Tout sur {topic}.",
        "de": "Alles über {topic}.", "pt": "Tudo sobre {topic}.", "it": "Tutto su {topic}.",
    },
    "and": {"en": "and", "es": "y", "fr": "et", "de": "und", "pt": "e", "it": "e"},
}


def language_of(code: str | None) -> str:
    """The language messages are written in for a video in ``code``: itself, or English."""
    return code if code in LANGUAGES else "en"


def say(key: str, code: str | None, **fields: Any) -> str:
    """The message ``key`` in the language ``code`` (English when it has no templates)."""
    return _TEMPLATES[key][language_of(code)].format(**fields)


def reason(parts: list[str]) -> str:
    """Reason parts as one line: "Opens with a question; a complete thought; 84% speech"."""
    text = "; ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]
