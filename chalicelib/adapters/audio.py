"""Loudness profile of an audio track (dBFS per second), used to pick highlights when a video
has no speech.

On the pipeline's path ffmpeg measures the profile in the same pass that extracts the audio
(``Ffmpeg.extract_audio``; the levels come back as ametadata lines read by ``parse_levels``), so
no numeric library ships to Lambda. ``loudness_profile`` computes the same figures from a WAV
in plain Python, for tools and tests.
"""
from __future__ import annotations

import math
import operator
import re
import sys
import wave
from array import array
from pathlib import Path

SILENCE_DBFS = -100.0  # floor for digital silence, which would otherwise be -inf (not JSON-safe)
_SILENCE_POWER = 10 ** (SILENCE_DBFS / 10)
_WINDOWS_PER_READ = 60  # bounded memory: a 2-hour file is read a minute at a time
_LEVEL_RE = re.compile(r"^lavfi\.astats\.Overall\.RMS_level=(\S+)\s*$", re.M)


def _floored(level: float) -> float:
    # NaN, -inf and anything below the floor become SILENCE_DBFS.
    return round(level, 2) if level >= SILENCE_DBFS else SILENCE_DBFS


def parse_levels(metadata_text: str) -> list[float]:
    """Per-window RMS levels from ``ametadata=mode=print`` output of astats (one value per
    frame, in order), floored at SILENCE_DBFS so the list is JSON-safe."""
    levels = []
    for raw in _LEVEL_RE.findall(metadata_text):
        try:
            value = float(raw)
        except ValueError:
            value = SILENCE_DBFS
        levels.append(_floored(value))
    return levels


def loudness_profile(wav_path: str | Path, window_seconds: float = 1.0) -> list[float]:
    """RMS level in dBFS of each ``window_seconds`` of a 16-bit PCM WAV (the last may be shorter)."""
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit: {wav_path}")
        channels = wav.getnchannels()
        window = max(1, round(wav.getframerate() * window_seconds))
        levels: list[float] = []
        while frames := wav.readframes(window * _WINDOWS_PER_READ):
            samples = array("h", frames)
            if sys.byteorder == "big":
                samples.byteswap()  # WAV is little-endian
            step = window * channels
            for offset in range(0, len(samples), step):
                chunk = samples[offset: offset + step]
                if channels > 1:
                    # The mean of the channels, as a downmix to mono would have it.
                    mixed = [sum(chunk[i: i + channels]) / channels for i in range(0, len(chunk), channels)]
                else:
                    mixed = chunk
                power = sum(map(operator.mul, mixed, mixed)) / (len(mixed) * 32768.0**2)
                levels.append(_floored(10 * math.log10(max(power, _SILENCE_POWER))))
    return levels
