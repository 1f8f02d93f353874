"""A spoken sentence per script, as a transcriber hands it over (words with the punctuation that
follows them; Chinese and Japanese as short runs without spaces), for the caption tests."""
from __future__ import annotations

from chalicelib.domain.transcript import Word

# script -> (language code, words)
SAMPLES: dict[str, tuple[str, list[str]]] = {
    "latin": ("es", "¿Qué tal, señor Müller? Ça va très bien: Straße, Ærø, naïve, Łódź.".split()),
    "cyrillic": ("ru", "Привет, как дела? Съешь же ещё этих мягких булок.".split()),
    "greek": ("el", "Καλημέρα, τι κάνετε σήμερα; Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.".split()),
    "arabic": ("ar", "مرحبا بكم في برنامجنا اليوم، كيف حالكم؟".split()),
    "hebrew": ("he", "שלום לכולם, ברוכים הבאים לתוכנית שלנו היום.".split()),
    "devanagari": ("hi", "नमस्ते दोस्तों, आज हम क्षत्रिय इतिहास के बारे में बात करेंगे।".split()),
    "chinese": ("zh", ["大家", "好，", "今天", "我们", "来", "聊一下", "人工", "智能", "的", "未来。"]),
    "japanese": (
        "ja", ["皆さん", "こんにちは。", "今日は", "人工", "知能", "の", "未来", "について", "話し", "ましょう。"]
    ),
    "korean": ("ko", "안녕하세요 여러분, 오늘은 인공지능의 미래에 대해 이야기해 봅시다.".split()),
}


def sample_words(script: str, step: float = 0.12) -> list[Word]:
    """The sample's words, one every ``step`` seconds from 0."""
    _, tokens = SAMPLES[script]
    return [Word(t, round(step * i, 3), round(step * i + 0.8 * step, 3), 0.9) for i, t in enumerate(tokens)]
