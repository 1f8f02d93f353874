"""The per-language word lists and the language-neutral text handling around them: guessing a
text's language, tokens, accent folding, prefix stems, character bigrams, instruction topics."""
import pytest

from chalicelib.domain.lexicon import LANGUAGES, NEUTRAL, fold, guess_language, lexicon, normalise_code, style_of, words
from chalicelib.domain.selection import instruction_topic, needs_multilingual
from lang_fixtures import LANGUAGES as FIXTURES, OTHERS

FINNISH, DUTCH, CHINESE = OTHERS["finnish"], OTHERS["dutch"], OTHERS["chinese_short"]
TURKISH = " ".join(OTHERS["turkish"])


def test_the_six_languages_have_every_list():
    assert set(LANGUAGES) == {"en", "es", "fr", "de", "pt", "it"}
    for lex in LANGUAGES.values():
        for name in ("continuations", "dependent", "fillers", "question_words", "humour", "sentiment", "stopwords",
                     "leading_fillers", "dangling"):
            assert getattr(lex, name), (lex.code, name)
        assert lex.hook is not None and lex.numbers.search("42")


@pytest.mark.parametrize("language", sorted(FIXTURES))
def test_a_transcripts_language_is_guessed_from_its_words(language):
    text = " ".join(s for topic in FIXTURES[language] for s in topic["sentences"])
    assert guess_language(text) == language
    for topic in FIXTURES[language]:
        assert guess_language(topic["instruction"]) == language, topic["instruction"]


@pytest.mark.parametrize("text", [FINNISH, TURKISH, DUTCH, CHINESE, "marathon training", ""],
                         ids=["finnish", "turkish", "dutch", "chinese", "no-function-words", "empty"])
def test_other_languages_and_too_little_text_are_not_guessed(text):
    # Finnish "ja", "on", "he", "me" are German and English stop words: the share of such words
    # in real text of those languages is far higher.
    assert guess_language(text) is None


@pytest.mark.parametrize("code, expected", [("en-US", "en"), ("pt_BR", "pt"), ("ES", "es"), ("auto", None),
                                            ("", None), (None, None), ("zh-CN", "zh")])
def test_language_codes_are_normalised(code, expected):
    assert normalise_code(code) == expected


def test_a_language_without_lists_gets_the_neutral_lexicon():
    assert lexicon("tr") is NEUTRAL and lexicon(None) is NEUTRAL and lexicon("es-MX") is LANGUAGES["es"]
    assert not NEUTRAL.continuations and not NEUTRAL.dependent and NEUTRAL.hook is None
    assert NEUTRAL.numbers.search("1980") and not NEUTRAL.numbers.search("five")
    assert NEUTRAL.laughter.search("[risas]") and NEUTRAL.laughter.search("hahaha")


def test_words_folding_and_prefix_stems():
    assert words("¿Por qué, l’argent? It's 50%!") == ["por", "qué", "l'argent", "it's", "50"]
    assert fold("Jubilación Straße Ausbrüche") == "jubilacion strasse ausbruche"
    es, de = LANGUAGES["es"], LANGUAGES["de"]
    assert es.stem("jubilación") == es.stem("jubilarse") and es.stem("abejas") == es.stem("abeja")
    assert de.stem("Bienen".lower()) == de.stem("bienenstock") and de.stem("ausbrüche") == de.stem("ausbruch")
    assert LANGUAGES["en"].stem("composting") == "compost"  # English keeps its suffix stemmer


def test_elisions_and_unspaced_scripts():
    fr, it = LANGUAGES["fr"], LANGUAGES["it"]
    assert fr.keyword_tokens("L'argent placé, c'est l'Islande") == ["argent", "placé", "islande"]
    assert it.opener_in(words("Quell'allarme ha salvato"), it.dependent)  # the elided head counts
    bigrams = NEUTRAL.keyword_tokens(CHINESE)
    assert "火山" in bigrams and "岩浆" in bigrams and "冰岛" in bigrams


def test_openers_may_be_phrases_and_are_matched_exactly():
    es, de, fr = LANGUAGES["es"], LANGUAGES["de"], LANGUAGES["fr"]
    assert es.opener_in(words("Por eso funciona"), es.continuations)
    assert es.opener_in(words("Él lo sabía"), es.dependent) and not es.opener_in(words("El mayor error"), es.dependent)
    assert es.opener_in(words("Sí, exacto"), es.dependent) and not es.opener_in(words("Si quieres"), es.dependent)
    assert de.opener_in(words("Das ist der Grund"), de.dependent)
    assert not de.opener_in(words("Das Geld wächst"), de.dependent)  # "das" the article
    assert fr.opener_in(words("C'est pour ça que"), fr.continuations)


@pytest.mark.parametrize(
    "instructions, language, topic",
    [
        ("marathon training", "en", "marathon training"),
        ("only the part about the Apollo moon missions", "en", "Apollo moon missions"),
        ("la parte sobre las abejas y la miel", "es", "abejas miel"),
        ("Zeig mir die Stelle über Vulkane und Ausbrüche", "de", "Vulkane Ausbrüche"),
        ("les moments drôles sur les volcans", "fr", "volcans"),
        ("the part about volcanoes", "es", "volcanoes"),  # English instructions on a Spanish video
        ("la parte sobre las abejas", "en", "abejas"),  # and the other way round
        ("火山的部分", "zh", "火山的部分"),  # unspaced: kept whole, matched by bigrams
        ("Her sabah bal", "tr", "Her sabah bal"),  # no lists for Turkish: "Her" is not "her"
    ],
)
def test_instruction_topic_drops_the_function_words_of_the_videos_and_the_instructions_language(
        instructions, language, topic):
    assert instruction_topic(instructions, language) == topic


def test_styles_are_understood_in_any_of_the_languages():
    assert style_of("momentos graciosos") == {"humour"}
    assert style_of("die emotionalen Stellen") == {"emotion"}
    assert style_of("quelque chose de surprenant") == {"hook"}


@pytest.mark.parametrize(
    "language, instructions, multilingual",
    [("en", None, False), ("en", "marathon training", False), ("en", "the Apollo missions", False),
     ("en", "las abejas y la miel", True), ("es", None, True), ("es", "the volcano part", True), (None, None, True),
     ("tr", "bal", True)],
)
def test_only_english_on_english_stays_with_the_english_model(language, instructions, multilingual):
    assert needs_multilingual(language, instructions) is multilingual
