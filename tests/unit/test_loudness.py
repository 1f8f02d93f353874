"""Each clip's gain from one measurement of the whole audio (domain/loudness.py)."""
from __future__ import annotations

import pytest

from chalicelib.domain.loudness import Gain, estimate_lufs, gain_for_range, gated_mean, range_loudness


def test_integrated_loudness_is_gated_like_bs1770():
    assert gated_mean([-20.0] * 10) == pytest.approx(-20.0)
    # Blocks under -70 LUFS (silence) and those 10 LU below the mean of the rest do not count.
    assert gated_mean([-20.0] * 10 + [-80.0] * 50 + [-45.0] * 5) == pytest.approx(-20.0)
    assert gated_mean([-90.0, -120.0]) is None
    # Equal powers average as powers, not as decibels.
    assert gated_mean([-20.0, -23.0]) == pytest.approx(-21.25, abs=0.01)


def test_a_range_counts_the_400_ms_blocks_lying_inside_it():
    # Block i is the 400 ms ending at (i + 1) * 0.1 s: 0-1 s loud, 1-3 s quiet.
    blocks = [-10.0] * 10 + [-30.0] * 20
    assert range_loudness(blocks, 0.0, 1.0) == pytest.approx(-10.0)  # blocks 3..9
    assert range_loudness(blocks, 1.0, 3.0) == pytest.approx(-30.0)  # blocks 13..29
    assert range_loudness(blocks, 0.0, 0.3) is None, "no whole block inside"


def test_the_gain_reaching_the_target_is_interpolated_between_the_measured_gains():
    # Loudness rising 1 LU per dB, then the limiter taking half of each further dB.
    gains = [2.0, 6.0, 10.0, 14.0]
    out = [-20.0, -16.0, -14.0, -12.0]
    table = {"gains": gains, "blocks": [[lufs] * 100 for lufs in out]}
    assert gain_for_range(table, 0, 10, -16.0) == Gain(6.0)
    assert 6.0 < gain_for_range(table, 0, 10, -15.0).db < 10.0
    assert gain_for_range(table, 0, 10, -14.0).db == pytest.approx(10.0, abs=0.01)
    # Below the lowest gain loudness follows the gain dB for dB; too far above, the table cannot say.
    assert gain_for_range(table, 0, 10, -23.0) == Gain(-1.0)
    assert gain_for_range(table, 0, 10, -11.5) == Gain(15.0)
    assert gain_for_range(table, 0, 10, -9.0) is None
    silent = {"gains": gains, "blocks": [[-120.0] * 100 for _ in gains]}
    assert gain_for_range(silent, 0, 10, -14.0) == Gain(0.0, silent=True)


def test_the_whole_audio_is_estimated_from_its_per_second_levels():
    assert estimate_lufs([-20.0] * 30 + [-100.0] * 10) == pytest.approx(-20.691, abs=0.01)
    assert estimate_lufs([-100.0] * 5) is None
