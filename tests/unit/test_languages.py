"""The language table: what submit accepts, what each transcriber can do, Transcribe's locales."""
import pytest

from chalicelib.domain import languages
from chalicelib.domain.languages import UnsupportedLanguage


@pytest.mark.parametrize("given, stored", [("auto", "auto"), ("es", "es"), ("DE", "de"), (" zh ", "zh"),
                                           ("haw", "haw"), ("jw", "jw"), ("yue", "yue")])
def test_known_codes_are_accepted_in_lower_case(given, stored):
    assert languages.normalise(given) == stored


@pytest.mark.parametrize("given", ["xx", "english", "es-MX", "zz", "auto-detect", "iw"])
def test_unknown_codes_are_refused_with_a_hint(given):
    with pytest.raises(UnsupportedLanguage, match=r"is not a language code Klyph knows; use 'auto'"):
        languages.normalise(given)


def test_the_transcribers_differ_in_what_they_can_do():
    languages.check_transcribable("auto", "aws")
    languages.check_transcribable("es", "aws")
    languages.check_transcribable("la", "whisper")  # Whisper has Latin ...
    with pytest.raises(UnsupportedLanguage, match=r"Latin \(la\) is not a language Amazon Transcribe transcribes"):
        languages.check_transcribable("la", "aws")  # ... Transcribe has not
    languages.check_transcribable("yue", "aws")  # zh-HK
    with pytest.raises(UnsupportedLanguage, match="local Whisper model"):
        languages.check_transcribable("yue", "whisper")  # only large-v3 has Cantonese


def test_every_transcribe_locale_belongs_to_a_whisper_language():
    assert set(languages.TRANSCRIBE_LOCALES) <= set(languages.WHISPER_LANGUAGES)
    assert len(languages.WHISPER_LANGUAGES) == 100 and len(languages.TRANSCRIBE_LOCALES) >= 80


@pytest.mark.parametrize("code, locale", [("en", "en-US"), ("es", "es-US"), ("pt", "pt-BR"), ("zh", "zh-CN"),
                                          ("yue", "zh-HK"), ("ja", "ja-JP"), ("jw", "jv-ID"), ("fa", "fa-IR")])
def test_codes_map_to_the_documented_locales_and_back(code, locale):
    assert languages.transcribe_locale(code) == locale
    assert languages.from_locale(locale) == code


@pytest.mark.parametrize("locale, code", [("en-GB", "en"), ("es-ES", "es"), ("fa-AF", "fa"), ("ckb-IQ", "ckb"),
                                          ("", ""), ("zh-TW", "zh")])
def test_any_identified_locale_reads_back_as_a_code(locale, code):
    assert languages.from_locale(locale) == code


def test_identify_options_are_two_to_five_locales_one_per_language():
    assert languages.identify_options(("en", "es", "fr", "de", "pt")) == ["en-US", "es-US", "fr-FR", "de-DE", "pt-BR"]
    assert languages.identify_options(["en", "en", "ja"]) == ["en-US", "ja-JP"]
    with pytest.raises(UnsupportedLanguage, match="2 to 5"):
        languages.identify_options(["en"])
    with pytest.raises(UnsupportedLanguage, match="2 to 5"):
        languages.identify_options(["en", "es", "fr", "de", "pt", "it"])
    with pytest.raises(UnsupportedLanguage, match="Latin"):
        languages.identify_options(["en", "la"])


@pytest.mark.parametrize("code, sep", [("zh", ""), ("ja", ""), ("zh-CN", ""), ("ja-JP", ""), ("th", ""),
                                       ("en", " "), ("ko", " "), ("fa", " "), ("", " ")])
def test_scripts_without_spaces_join_words_with_nothing(code, sep):
    assert languages.word_separator(code) == sep
