"""Each clip's loudness gain from one measurement of the whole audio (EBU R128 / ITU-R BS.1770).

The clip's audio chain (``media.speech_audio_filter``: compressor, gain, peak limiter) is not
linear, so its gain used to be found by measuring the chain's output on each clip, a few passes
per clip. Instead Prepare runs the whole audio once through that chain at a few gains
(``GAIN_OFFSETS_DB`` around the gain the whole needs) and keeps, for each gain, the momentary
loudness of every 400 ms block, one block every 100 ms (ebur128's metadata frames). BS.1770's
integrated loudness of any range is computed from the blocks inside it (absolute gate -70 LUFS,
relative gate 10 LU below the ungated mean), so each clip's output loudness is known at each
measured gain, and the gain reaching TARGET_LUFS is interpolated between them: no pass per clip.

The compressor's threshold follows the whole audio's loudness (estimated from the per-second
levels Prepare already has), and the render uses the same threshold, so the chain measured is
the chain rendered.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

# 2: measured through the chain with its limiter at -2.5 dBFS (1: -2 dBFS); a table of another
# version measured another chain, and its gains would miss the target.
TABLE_VERSION = 2
BLOCK_SECONDS = 0.1  # ebur128 emits one momentary (400 ms) loudness per 100 ms of audio
WINDOW_SECONDS = 0.4
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = 10.0
# Gains measured, around the gain the whole audio needs: a clip quieter than the whole needs more
# (and the limiter takes some back), a louder one less. Measured on speech: with steps of 4 dB
# the interpolated gain lands within 0.1 LU of the target.
GAIN_OFFSETS_DB = (-4.0, 0.0, 4.0, 8.0)
# How far past the measured gains an answer may be extrapolated. Below the lowest gain the limiter
# works less and less, so loudness follows the gain dB for dB; above the highest it works more,
# and the slope is less sure.
_BELOW_DB, _ABOVE_LU = 8.0, 1.0


def estimate_lufs(levels: Sequence[float]) -> float | None:
    """The whole audio's loudness, roughly, from its per-second RMS levels (dBFS, 16 kHz mono):
    gated like BS.1770 but without K-weighting. Only the compressor's threshold and the centre of
    the measured gains follow it, so a few dB off costs nothing in accuracy."""
    return gated_mean([level - 0.691 for level in levels])


def gated_mean(block_lufs: Sequence[float]) -> float | None:
    """BS.1770 integrated loudness of these blocks; None when every block is below -70 LUFS."""
    powers = [10 ** ((b + 0.691) / 10) for b in block_lufs if b > ABSOLUTE_GATE_LUFS]
    if not powers:
        return None
    relative = _lufs(sum(powers) / len(powers)) - RELATIVE_GATE_LU
    gated = [p for p in powers if _lufs(p) > relative]
    return _lufs(sum(gated) / len(gated))


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power)


def range_loudness(blocks: Sequence[float], start: float, end: float) -> float | None:
    """Integrated loudness of [start, end) from momentary blocks (block ``i`` is the 400 ms
    ending at ``(i + 1) * BLOCK_SECONDS``): the blocks lying inside the range."""
    first = max(0, math.ceil((start + WINDOW_SECONDS) / BLOCK_SECONDS - 1 - 1e-6))
    last = min(len(blocks), math.floor(end / BLOCK_SECONDS - 1 + 1e-6) + 1)
    return gated_mean(blocks[first:last])


class Gain(NamedTuple):
    db: float
    silent: bool = False  # nothing above the absolute gate: leave it alone rather than amplify noise


def gain_for_range(table: dict[str, Any], start: float, end: float, target: float) -> Gain | None:
    """The gain (dB) bringing [start, end) to ``target`` LUFS through the chain the table
    measured; None when the table cannot say (a range it does not cover, or past the gains it
    measured): the caller measures instead."""
    points: list[tuple[float, float]] = []
    for gain, blocks in zip(table["gains"], table["blocks"], strict=True):
        loudness = range_loudness(blocks, start, end)
        if loudness is None:
            return Gain(0.0, silent=True) if not points else None
        points.append((float(gain), loudness))
    if len(points) < 2:
        return None
    (g_low, l_low), l_high = points[0], points[-1][1]
    if target <= l_low:
        return Gain(round(g_low - (l_low - target), 2)) if l_low - target <= _BELOW_DB else None
    if target >= l_high:
        (g_a, l_a), (g_b, l_b) = points[-2], points[-1]
        if target - l_high > _ABOVE_LU or l_b <= l_a:
            return None
        return Gain(round(g_b + (target - l_b) * (g_b - g_a) / (l_b - l_a), 2))
    return Gain(_interpolate(points, target))


def _interpolate(points: list[tuple[float, float]], target: float) -> float:
    """The gain where the loudness curve through ``points`` (gain ascending, loudness rising)
    meets ``target``: the parabola through the three points around it (the curve bends as the
    limiter starts to work), solved by bisection inside the bracketing interval."""
    k = next(i for i in range(len(points) - 1) if points[i][1] <= target <= points[i + 1][1])
    trio = points[max(0, min(k - 1, len(points) - 3)):][:3]
    lo, hi = points[k][0], points[k + 1][0]

    def loudness_at(gain: float) -> float:
        if len(trio) < 3:
            (g0, l0), (g1, l1) = trio
            return l0 + (gain - g0) * (l1 - l0) / (g1 - g0)
        total = 0.0
        for i, (gi, li) in enumerate(trio):
            term = li
            for j, (gj, _) in enumerate(trio):
                if j != i:
                    term *= (gain - gj) / (gi - gj)
            total += term
        return total

    for _ in range(40):
        mid = (lo + hi) / 2
        if loudness_at(mid) < target:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2, 2)
