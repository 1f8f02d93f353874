"""Local transcription with faster-whisper (the transcriber when not on AWS).

Two models, neither downloaded at run time (``whisper_models.py`` says where they come from):
one for English (``KLYPH_WHISPER_MODEL``) and a multilingual one (``KLYPH_WHISPER_MULTILINGUAL_MODEL``,
Whisper base) for every other language and for telling which language is spoken. A job's
``language``:

- a code: English goes to the English model, any other language to the multilingual one;
- ``auto``: the multilingual model listens to the first 30 s of speech and names the language,
  then the matching model transcribes. When both models are the same, one pass does both.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, NamedTuple

from chalicelib import heavy
from chalicelib.adapters.whisper_models import is_multilingual, resolve
from chalicelib.domain.languages import AUTO, writes_without_spaces
from chalicelib.domain.transcript import Transcript, Word, build_transcript

# A Lambda container (or the local stack's worker thread) transcribes many times: load once.
_MODELS: dict[tuple[str, str, int], Any] = {}
_LOCK = threading.Lock()
# Greedy decoding at temperature 0 only, without the fallback to sampling at higher temperatures
# that faster-whisper does when a window decodes poorly: measured on the speech fixtures, the
# fallback made no transcript better and some four times slower (German 40 s: 6.5 s vs 28 s).
TEMPERATURE = 0.0


class Detected(NamedTuple):
    language: str
    probability: float


class WhisperTranscriber:
    def __init__(self, model: str = "", compute_type: str = "int8", threads: int = 2,
                 multilingual_model: str = "base", model_cache: str | None = None):
        self._english = model or "tiny.en"
        self._multilingual = multilingual_model
        self._compute_type, self._threads, self._cache = compute_type, threads, model_cache

    def _model(self, name: str | None = None) -> Any:
        key = (name or self._english, self._compute_type, self._threads)
        with _LOCK:
            if key not in _MODELS:
                WhisperModel = heavy.load("faster_whisper").WhisperModel  # keep it out of the API function

                _MODELS[key] = WhisperModel(resolve(key[0], self._cache), device="cpu",
                                            compute_type=self._compute_type, cpu_threads=self._threads)
            return _MODELS[key]

    def _model_for(self, language: str) -> str:
        return self._english if language == "en" else self._multilingual

    def detect(self, audio: Any) -> Detected:
        """The language spoken in the first 30 s of speech (silence and music skipped)."""
        language, probability, _all = self._model(self._multilingual).detect_language(audio, vad_filter=True)
        return Detected(language, float(probability))

    def transcribe(self, wav_path: str | Path, language: str = AUTO) -> Transcript:
        audio = heavy.load("faster_whisper").decode_audio(str(wav_path))
        if language != AUTO:
            return self._transcribe(self._model_for(language), audio, language)
        if self._english == self._multilingual and is_multilingual(self._multilingual):
            transcript = self._transcribe(self._english, audio, None)
        else:
            detected = self.detect(audio).language if len(audio) else "en"
            transcript = self._transcribe(self._model_for(detected), audio, detected)
        if not transcript.words:
            # Music or noise: whatever language the detector leaned to, nobody spoke it.
            transcript.language = ""
        return transcript

    def _transcribe(self, model: str, audio: Any, language: str | None) -> Transcript:
        segments, info = self._model(model).transcribe(
            audio,
            language=language,
            beam_size=1,
            temperature=TEMPERATURE,
            word_timestamps=True,
            # Silero VAD ships inside faster-whisper (onnx, offline). Measured: without it the last
            # word before music/noise stretched 8 s into the noise; with it the end was exact and
            # the run was faster, as non-speech is skipped.
            vad_filter=True,
            # Each 30 s window decodes on its own, so one misheard window cannot start a
            # repetition loop that runs through the rest of a long recording.
            condition_on_previous_text=False,
        )
        # Chinese, Japanese, Thai...: each piece is a word of its own, none has a leading space.
        unspaced = writes_without_spaces(info.language)
        words: list[Word] = []
        for seg in segments:
            for i, w in enumerate(seg.words or ()):
                text = w.word.strip()
                if not text:
                    continue
                if i and not unspaced and not w.word[:1].isspace() and words:
                    # A piece without a leading space continues the word before it: faster-whisper
                    # splits "three-part" into " three" and "-part".
                    prev = words.pop()
                    confidence = min(prev.confidence, float(w.probability))
                    words.append(Word(prev.text + text, prev.start, float(w.end), confidence))
                else:
                    words.append(Word(text, float(w.start), float(w.end), float(w.probability)))
        return build_transcript(info.language, float(info.duration), words)
