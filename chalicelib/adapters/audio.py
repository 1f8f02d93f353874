"""Loudness profile of an audio track (dBFS per second), used to pick highlights when a video
has no speech.

On the pipeline's path ffmpeg measures the profile in the same pass that extracts the audio
(``Ffmpeg.extract_audio``; the levels come back as ametadata lines read by ``parse_levels``), so
no numeric library ships to Lambda. The tests keep an independent WAV-based reference
(``tests/support.py:loudness_profile``) to check those figures.
"""
from __future__ import annotations

import re

SILENCE_DBFS = -100.0  # floor for digital silence, which would otherwise be -inf (not JSON-safe)
_LEVEL_RE = re.compile(r"^lavfi\.astats\.Overall\.RMS_level=(\S+)\s*$", re.MULTILINE)


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
