"""Spoken languages: which codes submit accepts, and how each transcriber names them.

Klyph names a language by Whisper's code: ISO 639-1 (``es``, ``de``, ``zh``) and, where ISO
639-1 has none, Whisper's own (``haw`` Hawaiian, ``yue`` Cantonese; ``jw`` is Whisper's
spelling of Javanese). The table is faster-whisper's ``tokenizer._LANGUAGE_CODES`` copied here,
so the API function can validate a request without importing faster-whisper.

Amazon Transcribe wants locales and covers fewer languages. ``TRANSCRIBE_LOCALES`` maps each
code it can do to the one locale Klyph asks for; where Transcribe offers several, the choice
favours the largest audience: ``es`` -> ``es-US`` (Latin American Spanish, spoken by most
Spanish speakers; ``es-ES`` is Castilian), ``pt`` -> ``pt-BR``, ``en`` -> ``en-US``, ``fr`` ->
``fr-FR``, ``de`` -> ``de-DE``, ``ar`` -> ``ar-SA`` (Modern Standard), ``zh`` -> ``zh-CN``
(Mandarin, simplified), ``yue`` -> ``zh-HK`` (Cantonese), ``fa`` -> ``fa-IR``, ``sw`` ->
``sw-KE``. Pure: no I/O.
"""
from __future__ import annotations

AUTO = "auto"

# Whisper's languages (faster_whisper.tokenizer._LANGUAGE_CODES, in its order) with English names.
WHISPER_LANGUAGES: dict[str, str] = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "as": "Assamese", "az": "Azerbaijani",
    "ba": "Bashkir", "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "bo": "Tibetan",
    "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque",
    "fa": "Persian", "fi": "Finnish", "fo": "Faroese", "fr": "French", "gl": "Galician", "gu": "Gujarati",
    "ha": "Hausa", "haw": "Hawaiian", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "ht": "Haitian Creole",
    "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "jw": "Javanese", "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada",
    "ko": "Korean", "la": "Latin", "lb": "Luxembourgish", "ln": "Lingala", "lo": "Lao", "lt": "Lithuanian",
    "lv": "Latvian", "mg": "Malagasy", "mi": "Maori", "mk": "Macedonian", "ml": "Malayalam",
    "mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "mt": "Maltese", "my": "Burmese", "ne": "Nepali",
    "nl": "Dutch", "nn": "Norwegian Nynorsk", "no": "Norwegian", "oc": "Occitan", "pa": "Punjabi",
    "pl": "Polish", "ps": "Pashto", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sa": "Sanskrit", "sd": "Sindhi", "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian", "sn": "Shona",
    "so": "Somali", "sq": "Albanian", "sr": "Serbian", "su": "Sundanese", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai", "tk": "Turkmen", "tl": "Tagalog",
    "tr": "Turkish", "tt": "Tatar", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese",
    "yi": "Yiddish", "yo": "Yoruba", "zh": "Chinese", "yue": "Cantonese",
}
# Only Whisper large-v3 has a Cantonese token; the local model (base) has the other 99.
LOCAL_UNSUPPORTED = frozenset({"yue"})

# Whisper code -> the Amazon Transcribe locale Klyph asks for (StartTranscriptionJob LanguageCode).
TRANSCRIBE_LOCALES: dict[str, str] = {
    "af": "af-ZA", "am": "am-ET", "ar": "ar-SA", "az": "az-AZ", "ba": "ba-RU", "be": "be-BY",
    "bg": "bg-BG", "bn": "bn-IN", "bs": "bs-BA", "ca": "ca-ES", "cs": "cs-CZ", "cy": "cy-GB",
    "da": "da-DK", "de": "de-DE", "el": "el-GR", "en": "en-US", "es": "es-US", "et": "et-EE",
    "eu": "eu-ES", "fa": "fa-IR", "fi": "fi-FI", "fr": "fr-FR", "gl": "gl-ES", "gu": "gu-IN",
    "ha": "ha-NG", "he": "he-IL", "hi": "hi-IN", "hr": "hr-HR", "ht": "ht-HT", "hu": "hu-HU",
    "hy": "hy-AM", "id": "id-ID", "is": "is-IS", "it": "it-IT", "ja": "ja-JP", "jw": "jv-ID",
    "ka": "ka-GE", "kk": "kk-KZ", "km": "km-KH", "kn": "kn-IN", "ko": "ko-KR", "lt": "lt-LT",
    "lv": "lv-LV", "mi": "mi-NZ", "mk": "mk-MK", "ml": "ml-IN", "mn": "mn-MN", "mr": "mr-IN",
    "ms": "ms-MY", "mt": "mt-MT", "my": "my-MM", "ne": "ne-NP", "nl": "nl-NL", "no": "no-NO",
    "pa": "pa-IN", "pl": "pl-PL", "ps": "ps-AF", "pt": "pt-BR", "ro": "ro-RO", "ru": "ru-RU",
    "si": "si-LK", "sk": "sk-SK", "sl": "sl-SI", "so": "so-SO", "sq": "sq-AL", "sr": "sr-RS",
    "su": "su-ID", "sv": "sv-SE", "sw": "sw-KE", "ta": "ta-IN", "te": "te-IN", "th": "th-TH",
    "tl": "tl-PH", "tr": "tr-TR", "tt": "tt-RU", "uk": "uk-UA", "uz": "uz-UZ", "vi": "vi-VN",
    "yue": "zh-HK", "zh": "zh-CN",
}
# Locales whose language part is not Klyph's code for it.
_LOCALE_LANGUAGE = {"jv": "jw", "zh-HK": "yue"}

# IdentifyLanguage's LanguageOptions (KLYPH_TRANSCRIBE_LANGUAGE_OPTIONS, default in config.py):
# Transcribe wants two or more and advises against more than five; with no list at all it
# considers every language it has, which it documents as less accurate.
MAX_IDENTIFY_OPTIONS = 5

# Written without spaces between words: transcripts join their words with nothing.
_UNSPACED = frozenset({"zh", "yue", "ja", "th", "lo", "km", "my", "bo"})


class UnsupportedLanguage(ValueError):
    """A code that is not a language, or one the configured transcriber cannot transcribe."""


def name(code: str) -> str:
    return WHISPER_LANGUAGES.get(code, code)


def normalise(value: str) -> str:
    """The request's ``language`` as Klyph stores it: ``auto`` or a known code, lower-case.
    Raises UnsupportedLanguage (its message fit to follow ``language: ``)."""
    code = value.strip().lower()
    if code == AUTO or code in WHISPER_LANGUAGES:
        return code
    raise UnsupportedLanguage(
        f"{value!r} is not a language code Klyph knows; use 'auto' (detect it) or a code such as "
        "'en', 'es', 'de', 'zh' (ISO 639-1, or Whisper's code where ISO 639-1 has none)"
    )


def check_transcribable(code: str, transcriber: str) -> None:
    """UnsupportedLanguage unless the configured transcriber (``aws`` = Amazon Transcribe, else
    the local Whisper) can transcribe ``code``. ``auto`` always can."""
    if code == AUTO:
        return
    if transcriber == "aws":
        if code not in TRANSCRIBE_LOCALES:
            raise UnsupportedLanguage(f"{name(code)} ({code}) is not a language Amazon Transcribe transcribes")
    elif code in LOCAL_UNSUPPORTED:
        raise UnsupportedLanguage(f"{name(code)} ({code}) is not a language the local Whisper model transcribes")


def transcribe_locale(code: str) -> str:
    """The Amazon Transcribe locale Klyph asks for when a job's language is ``code``."""
    try:
        return TRANSCRIBE_LOCALES[code]
    except KeyError:
        raise UnsupportedLanguage(f"{name(code)} ({code}) is not a language Amazon Transcribe transcribes") from None


def from_locale(locale: str) -> str:
    """A Transcribe locale (``es-US``, ``zh-HK``) -> Klyph's code (``es``, ``yue``); a language
    Klyph has no code for keeps the locale's language part (``ckb-IQ`` -> ``ckb``)."""
    if not locale:
        return ""
    if locale in _LOCALE_LANGUAGE:
        return _LOCALE_LANGUAGE[locale]
    base = locale.split("-")[0].lower()
    return _LOCALE_LANGUAGE.get(base, base)


def identify_options(codes: tuple[str, ...] | list[str]) -> list[str]:
    """Transcribe locales for IdentifyLanguage's LanguageOptions: one per language (Transcribe
    refuses two dialects of one language), two to five of them, or none (consider all)."""
    locales = list(dict.fromkeys(transcribe_locale(c) for c in codes))
    if len(locales) == 1 or len(locales) > MAX_IDENTIFY_OPTIONS:
        raise UnsupportedLanguage(
            f"language identification takes 2 to {MAX_IDENTIFY_OPTIONS} language options (or none), "
            f"not {len(locales)}: {', '.join(codes)}"
        )
    return locales


def writes_without_spaces(code: str) -> bool:
    """Whether ``code``'s script puts no spaces between words (Chinese, Japanese, Thai, ...)."""
    return from_locale(code) in _UNSPACED


def word_separator(code: str) -> str:
    return "" if writes_without_spaces(code) else " "
