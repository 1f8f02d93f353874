"""Loudness of an extracted audio track, used to pick highlights when a video has no speech."""
from __future__ import annotations

import wave
from pathlib import Path

SILENCE_DBFS = -100.0  # floor for digital silence, which would otherwise be -inf (not JSON-safe)
_SILENCE_POWER = 10 ** (SILENCE_DBFS / 10)
_WINDOWS_PER_READ = 60  # bounded memory: a 2-hour file is read a minute at a time


def loudness_profile(wav_path: str | Path, window_seconds: float = 1.0) -> list[float]:
    """RMS level in dBFS of each ``window_seconds`` of a 16-bit PCM WAV (the last may be shorter)."""
    import numpy as np

    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit: {wav_path}")
        channels = wav.getnchannels()
        window = max(1, round(wav.getframerate() * window_seconds))
        levels: list[float] = []
        while frames := wav.readframes(window * _WINDOWS_PER_READ):
            samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0
            if channels > 1:
                samples = samples.reshape(-1, channels).mean(axis=1)
            starts = np.arange(0, len(samples), window)
            power = np.add.reduceat(np.square(samples), starts) / np.diff(np.append(starts, len(samples)))
            levels.extend((10 * np.log10(np.maximum(power, _SILENCE_POWER))).tolist())
    return levels
