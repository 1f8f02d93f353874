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


class WavLevels:
    """Levels (dBFS) of short frames of a 16-bit PCM WAV in S3, read by byte range: only the
    fraction of a second around each clip edge is fetched, never the whole speech track.
    ``read(first, last)`` returns bytes first..last inclusive (``S3Blobs.get_range``)."""

    def __init__(self, read, frame_seconds: float = 0.01):
        import struct

        head = read(0, 4095)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError("not a WAV file")
        pos, self.data_offset, fmt = 12, None, None
        while pos + 8 <= len(head):
            chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
            if chunk == b"fmt ":
                fmt = struct.unpack("<HHIIHH", head[pos + 8 : pos + 24])
            elif chunk == b"data":
                self.data_offset = pos + 8
                break
            pos += 8 + size + (size & 1)
        if fmt is None or self.data_offset is None or fmt[5] != 16:
            raise ValueError("not a 16-bit PCM WAV with its data in the first 4 KB")
        self.channels, self.rate = fmt[1], fmt[2]
        self.read, self.frame_seconds = read, frame_seconds

    def __call__(self, start: float, end: float) -> list[float]:
        import math
        import sys
        from array import array

        block = 2 * self.channels
        first = max(0, int(start * self.rate))
        last = max(first, int(end * self.rate))
        raw = self.read(self.data_offset + first * block, self.data_offset + last * block - 1)
        samples = array("h")
        samples.frombytes(raw[: len(raw) // 2 * 2])
        if sys.byteorder == "big":
            samples.byteswap()
        per = max(1, int(self.rate * self.frame_seconds)) * self.channels
        out = []
        for k in range(0, len(samples) - per + 1, per):
            frame = samples[k : k + per]
            power = sum(x * x for x in frame) / per
            out.append(_floored(10 * math.log10(power / 32768**2)) if power else SILENCE_DBFS)
        return out
