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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from chalicelib import heavy
from chalicelib.adapters.whisper_models import is_multilingual, resolve
from chalicelib.domain.languages import AUTO, writes_without_spaces
from chalicelib.domain.transcript import Transcript, Word, build_transcript

# A Lambda container (or the local stack's worker thread) transcribes many times: load once.
_MODELS: dict[tuple[str, str, int, int], Any] = {}
_LOCK = threading.Lock()
# Greedy decoding at temperature 0 only, without the fallback to sampling at higher temperatures
# that faster-whisper does when a window decodes poorly: measured on the speech fixtures, the
# fallback made no transcript better and some four times slower (German 40 s: 6.5 s vs 28 s).
TEMPERATURE = 0.0
SAMPLE_RATE = 16000  # faster-whisper's decode_audio
# Long audio is cut into one part per CPU, each transcribed by a one-thread worker, at the
# quietest moment near each boundary. Measured on 2 cores (180 s of the bench's speech): two
# parts side by side took 6.3 s where one pass with two threads took 10.0 s (the decoder's loop
# and the word alignment leave the second thread idle half the time). Each part's 30 s windows
# decode on their own anyway (condition_on_previous_text off); shorter audio is one pass with
# every thread, where a cut would only move the windows.
MIN_PART_SECONDS = 60.0
# Where to look for the cut: this far either side of the even split, in windows of this length.
CUT_SEARCH_SECONDS = 10.0
CUT_WINDOW_SECONDS = 0.4
# Language detection hears the first 30 s of speech, which faster-whisper finds by running its
# voice activity detector over all of the audio: 2.3 s for a 10-minute recording, and half a
# minute for two hours, to use the first half minute. The detector runs over the first 45 s
# first (0.16 s; enough for anyone who talks from the start), then over the first two minutes
# (0.43 s: an intro of music or silence), and over everything only when those hold too little
# speech.
DETECT_WINDOWS_SECONDS = (45.0, 120.0)
DETECT_SPEECH_SECONDS = 30.0  # faster-whisper's one detection segment
# Speech the detector marks this close to the window's end may still merge or pad differently
# once it hears what follows (its silence rule looks 2 s ahead): it is not counted.
DETECT_EDGE_SECONDS = 3.0


class Detected(NamedTuple):
    language: str
    probability: float


class WhisperTranscriber:
    def __init__(self, model: str = "", compute_type: str = "int8", threads: int = 2,
                 multilingual_model: str = "base", model_cache: str | None = None):
        self._english = model or "tiny.en"
        self._multilingual = multilingual_model
        self._compute_type, self._threads, self._cache = compute_type, threads, model_cache

    def _model(self, name: str | None = None, workers: int = 1) -> Any:
        """The model with every thread in one worker, or with ``workers`` single-thread workers
        (one per part of long audio: ``_transcribe``)."""
        threads = self._threads if workers == 1 else 1
        key = (name or self._english, self._compute_type, threads, workers)
        with _LOCK:
            if key not in _MODELS:
                WhisperModel = heavy.load("faster_whisper").WhisperModel  # keep it out of the API function

                _MODELS[key] = WhisperModel(resolve(key[0], self._cache), device="cpu",
                                            compute_type=self._compute_type, cpu_threads=threads,
                                            num_workers=workers)
            return _MODELS[key]

    def warm(self) -> None:
        """Load what the first long transcription in an unknown language would: faster-whisper,
        the multilingual model that names the language, and the English model with one worker
        per part. A long-lived worker (the local stack) calls this when it starts, as a warm
        Lambda holds them: 1.1 s on 2 cores, off the first transcription of a session."""
        self._model(self._multilingual)
        self._model(self._english, self._threads)

    def _model_for(self, language: str) -> str:
        return self._english if language == "en" else self._multilingual

    def detect(self, audio: Any) -> Detected:
        """The language spoken in the first 30 s of speech (silence and music skipped)."""
        whisper = self._model(self._multilingual)
        speech = first_speech(audio)
        if speech is not None:
            language, probability, _all = whisper.detect_language(speech)
        else:
            language, probability, _all = whisper.detect_language(audio, vad_filter=True)
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
        parts = split_at_quiet(audio, self._threads)
        whisper = self._model(model, len(parts))
        if language is None:
            # One multilingual model does both: name the language once, for every part.
            language = whisper.detect_language(audio, vad_filter=True)[0]
        with ThreadPoolExecutor(len(parts), thread_name_prefix="whisper") as pool:
            heard = list(pool.map(lambda part: self._words(whisper, audio[part[0]:part[1]], language), parts))
        words = [replace(w, start=w.start + start / SAMPLE_RATE, end=w.end + start / SAMPLE_RATE)
                 for (start, _end), part_words in zip(parts, heard, strict=True) for w in part_words]
        return build_transcript(language, len(audio) / SAMPLE_RATE, words)

    @staticmethod
    def _words(whisper: Any, audio: Any, language: str) -> list[Word]:
        segments, info = whisper.transcribe(
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
        return words


def first_speech(audio: Any) -> Any | None:
    """The first DETECT_SPEECH_SECONDS of speech, joined, as faster-whisper's ``detect_language``
    with ``vad_filter`` hears them, found in the first of DETECT_WINDOWS_SECONDS that holds them;
    None when the audio is no longer than the window to try next, or no window holds enough
    speech settled away from its edge (then the detector must hear everything)."""
    for seconds in DETECT_WINDOWS_SECONDS:
        window = int(seconds * SAMPLE_RATE)
        if len(audio) <= window:
            return None
        speech = _speech_in(audio, window)
        if speech is not None:
            return speech
    return None


def _speech_in(audio: Any, window: int) -> Any | None:
    """The first DETECT_SPEECH_SECONDS of speech in ``audio[:window]``, none of it within
    DETECT_EDGE_SECONDS of the window's end; None when there is less."""
    np, vad = heavy.numpy(), heavy.load("faster_whisper.vad")
    settled = window - int(DETECT_EDGE_SECONDS * SAMPLE_RATE)
    chunks = [c for c in vad.get_speech_timestamps(audio[:window]) if c["start"] < settled]
    pieces = [audio[c["start"]:min(c["end"], settled)] for c in chunks]
    needed = int(DETECT_SPEECH_SECONDS * SAMPLE_RATE)
    if sum(len(p) for p in pieces) < needed:
        return None
    return np.concatenate(pieces)[:needed]


def split_at_quiet(audio: Any, parts: int) -> list[tuple[int, int]]:
    """[start, end) sample ranges covering ``audio``: at most ``parts`` of at least
    MIN_PART_SECONDS, each cut placed in the quietest CUT_WINDOW_SECONDS within
    CUT_SEARCH_SECONDS of an even split (a pause between words, where nothing is cut in two)."""
    np = heavy.numpy()
    n = len(audio)
    parts = max(1, min(parts, int(n / SAMPLE_RATE // MIN_PART_SECONDS)))
    window = int(CUT_WINDOW_SECONDS * SAMPLE_RATE)
    reach = int(CUT_SEARCH_SECONDS * SAMPLE_RATE)
    cuts = [0]
    for k in range(1, parts):
        lo, hi = max(cuts[-1] + window, k * n // parts - reach), min(n - window, k * n // parts + reach)
        if hi - lo <= window:
            cuts.append(k * n // parts)
            continue
        # Each window's energy from a running sum, in one pass: np.convolve with a 6,400-sample
        # box took 0.5 s per cut (every window summed anew), on the path of every transcription.
        running = np.concatenate(([0.0], np.cumsum(np.square(audio[lo:hi], dtype=np.float64))))
        energy = running[window:] - running[:-window]
        cuts.append(lo + int(np.argmin(energy)) + window // 2)
    return list(zip(cuts, [*cuts[1:], n], strict=True))
