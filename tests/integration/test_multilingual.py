"""Local transcription beyond English: the assembled Whisper base model, language detection and
the share of spoken words recovered, per language, offline.

Each multilingual fixture (tests/fixtures/speech_<code>.ogg, espeak-ng) speaks three topics in
35-44 s. The language is detected as ``language: auto`` detects it: on the first 30 s of speech
(one encoder pass, about a second). To stay within the suite's time, only the first topic (11-14 s)
is transcribed. ``make bench`` transcribes the whole fixtures, and English with both models
(BENCHMARKS.md).
"""
import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported: a guard against downloads

import json
import socket
import subprocess
import time

import imageio_ffmpeg
import pytest

from bench.wer import score
from chalicelib.adapters import whisper_models
from chalicelib.adapters.whisper import WhisperTranscriber
from chalicelib.domain import languages
from support import FIXTURES

pytestmark = [pytest.mark.media, pytest.mark.slow]

# The share of the first topic's spoken words (Japanese: characters) each language must keep
# recovering: a few points under what Whisper base recovered when these tests were written
# (int8, 2 threads; the figures each run prints). espeak-ng's voices are far from natural
# speech outside English and Spanish, Persian's most of all, so these are floors against
# regressions, not a measure of the model on real speech.
FLOORS = {"es": 0.80, "de": 0.40, "fr": 0.35, "ru": 0.22, "fa": 0.08, "ja": 0.45}


@pytest.fixture(scope="module")
def transcriber():
    return WhisperTranscriber("tiny.en", threads=2, multilingual_model="base")


@pytest.fixture(scope="module", autouse=True)
def offline():
    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        yield


def first_topic(code, tmp_path, seconds=None):
    """The fixture's first paragraph: its audio (up to the pause before the second, or its first
    ``seconds``) and its text."""
    topics = json.loads((FIXTURES / f"speech_{code}.topics.json").read_text(encoding="utf-8"))["topics"]
    end = seconds or (topics[0]["end"] + topics[1]["start"]) / 2
    wav = tmp_path / f"{code}.wav"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(FIXTURES / f"speech_{code}.ogg"),
         "-t", f"{end:.2f}", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(wav)],
        check=True,
    )
    text = (FIXTURES / f"speech_{code}.txt").read_text(encoding="utf-8").split("\n\n")[0]
    return wav, text


@pytest.mark.parametrize("code", sorted(FLOORS))
def test_the_spoken_language_is_detected(transcriber, code):
    from faster_whisper import decode_audio

    audio = decode_audio(str(FIXTURES / f"speech_{code}.ogg"))
    began = time.perf_counter()
    detected = transcriber.detect(audio)
    print(f"\n{code}: detected {detected.language} (p={detected.probability:.2f}) in "
          f"{time.perf_counter() - began:.2f} s")
    # Russian wins narrowly (p=0.20 against Croatian's 0.13): espeak-ng's Russian is not natural.
    assert detected.language == code


@pytest.mark.parametrize("code", sorted(FLOORS))
def test_most_spoken_words_are_recovered(transcriber, code, tmp_path):
    wav, text = first_topic(code, tmp_path)
    began = time.perf_counter()
    transcript = transcriber.transcribe(wav, code)
    took = time.perf_counter() - began
    assert transcript.language == code
    s = score(text, transcript.separator.join(w.text for w in transcript.words), code)
    unit = "characters" if languages.writes_without_spaces(code) else "words"
    print(f"\n{code}: recovered {s.recovered:.0%} of {s.reference} spoken {unit} (WER {s.wer:.0%}) "
          f"in {took:.1f} s for {transcript.duration:.1f} s")
    assert s.recovered >= FLOORS[code], transcript.separator.join(w.text for w in transcript.words)
    assert all(0 <= w.start <= w.end <= transcript.duration + 0.01 for w in transcript.words)
    assert all(a.start <= b.start for a, b in zip(transcript.words, transcript.words[1:]))


def test_detection_then_transcription_in_the_detected_language(transcriber, tmp_path, monkeypatch):
    """``auto`` end to end on a language other than English: the multilingual model detects,
    then transcribes; Japanese pieces stay timed words of their own, joined without spaces."""
    from faster_whisper import decode_audio

    full = decode_audio(str(FIXTURES / "speech_ja.ogg"))
    wav, _text = first_topic("ja", tmp_path)
    # The detector is handed the whole fixture's first 30 s, as a long video would give it.
    real_detect = WhisperTranscriber.detect
    monkeypatch.setattr(WhisperTranscriber, "detect", lambda self, audio: real_detect(self, full))
    transcript = transcriber.transcribe(wav)
    assert transcript.language == "ja" and len(transcript.words) > 10
    assert " " not in transcript.segments[0].text and transcript.separator == ""


def test_a_given_language_skips_detection_and_english_goes_to_the_english_model(transcriber, tmp_path, monkeypatch):
    def no_detection(self, audio):
        raise AssertionError("detection ran for a given language")

    monkeypatch.setattr(WhisperTranscriber, "detect", no_detection)
    used = []
    real = WhisperTranscriber._transcribe

    def spy(self, model, audio, language):
        used.append((model, language))
        return real(self, model, audio, language)

    monkeypatch.setattr(WhisperTranscriber, "_transcribe", spy)
    wav, _text = first_topic("es", tmp_path, seconds=5)
    assert transcriber.transcribe(wav, "es").language == "es"
    assert transcriber.transcribe(wav, "en").language == "en"  # told English: the English model, whatever is said
    assert used == [("base", "es"), ("tiny.en", "en")]


def test_the_language_table_is_whisper_s_and_the_base_model_has_all_but_cantonese():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert tuple(languages.WHISPER_LANGUAGES) == tuple(_LANGUAGE_CODES)
    path = whisper_models.assemble_base()
    config = json.loads((path / "config.json").read_text())
    assert len(config["lang_ids"]) == len(_LANGUAGE_CODES) - len(languages.LOCAL_UNSUPPORTED)
    assert whisper_models.is_multilingual(str(path))


def test_the_assembled_model_is_verified_and_reused(tmp_path):
    began = time.perf_counter()
    first = whisper_models.assemble_base(tmp_path)
    took = time.perf_counter() - began
    assert (first / "model.bin").stat().st_size == whisper_models.BASE_FILES["model.bin"][1]
    began = time.perf_counter()
    assert whisper_models.assemble_base(tmp_path) == first
    print(f"\nassembled and verified in {took:.2f} s; found again in {time.perf_counter() - began:.4f} s")
    assert time.perf_counter() - began < 0.1, "a verified model is not hashed again"
