"""Openings and endings placed on quiet audio: a lead-in of up to 0.3 s before the first word's
onset (never past the middle of the pause after the previous word), the same after the last
word's decay; a word the transcriber timed late or early is found on the audio."""
import io
import math
import wave
from array import array

from chalicelib.adapters.audio import WavLevels
from chalicelib.domain.cuts import FRAME_SECONDS, LEAD_SECONDS, QUIET_DB, refine
from chalicelib.domain.transcript import Word

SPEECH_DB, ROOM_DB = -20.0, -65.0


def levels_of(spans):
    """Levels where sound is on during ``spans`` (seconds), room tone elsewhere."""
    def levels(a, b):
        n = max(0, round((b - a) / FRAME_SECONDS))
        return [SPEECH_DB if any(s <= a + k * FRAME_SECONDS < e for s, e in spans) else ROOM_DB for k in range(n)]
    return levels


def at(levels, t):
    return levels(t, t + FRAME_SECONDS)[0]


WORDS = [Word("before.", 1.0, 1.5, 0.9), Word("Here", 2.5, 2.8, 0.9), Word("we", 2.85, 3.0, 0.9),
         Word("go.", 3.05, 3.4, 0.9), Word("After", 4.4, 4.9, 0.9)]


def test_the_lead_in_is_up_to_0_3_s_and_never_past_the_middle_of_the_pause():
    levels = levels_of([(1.0, 1.5), (2.5, 3.4), (4.4, 4.9)])
    start, end = refine(WORDS, 2.45, 3.45, levels, duration=10, max_duration=30)
    assert abs(start - (2.5 - LEAD_SECONDS)) < 0.011 and abs(end - (3.4 + LEAD_SECONDS)) < 0.011
    # A short pause: half of it, not into the previous word's tail.
    tight = [Word("before.", 1.0, 2.3, 0.9), *WORDS[1:4], Word("After", 3.6, 4.0, 0.9)]
    start, end = refine(tight, 2.45, 3.45, levels_of([(1.0, 2.3), (2.5, 3.4), (3.6, 4.0)]), duration=10,
                        max_duration=30)
    assert abs(start - 2.4) < 0.011 and abs(end - 3.5) < 0.011


def test_an_onset_before_the_transcribers_start_and_a_decay_after_its_end_are_found_on_the_audio():
    # The word sounds from 2.35 s though the transcriber says 2.5 s; the last one decays until 3.6 s.
    levels = levels_of([(1.0, 1.5), (2.35, 3.6), (4.4, 4.9)])
    start, end = refine(WORDS, 2.45, 3.45, levels, duration=10, max_duration=30)
    assert start <= 2.35 - 0.2 and start >= (1.5 + 2.5) / 2 - 1e-3
    assert end >= 3.6 + 0.2 and end <= (3.4 + 4.4) / 2 + 1e-3
    assert at(levels, start) <= SPEECH_DB - QUIET_DB and at(levels, end - FRAME_SECONDS) <= SPEECH_DB - QUIET_DB


def test_cuts_keep_a_clip_widened_to_min_duration_and_never_exceed_max_duration():
    levels = levels_of([(1.0, 1.5), (2.5, 3.4), (4.4, 4.9)])
    start, end = refine(WORDS, 2.0, 4.0, levels, duration=10, max_duration=30, min_duration=2.0)  # widened
    assert (start, end) == (2.0, 4.0)
    start, end = refine(WORDS, 2.45, 3.45, levels, duration=10, max_duration=1.1)
    assert end - start <= 1.1 + 1e-6 and start <= 2.45 and end >= 3.45


def test_wav_levels_read_only_the_bytes_they_need():
    rate, buf = 16000, io.BytesIO()
    samples = array("h", [0] * rate + [int(8000 * math.sin(k / 5)) for k in range(rate)])
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    data, reads = buf.getvalue(), []

    def read(first, last):
        reads.append(last - first + 1)
        return data[first : last + 1]

    levels = WavLevels(read)
    quiet, loud = levels(0.5, 0.6), levels(1.5, 1.6)
    assert len(quiet) == len(loud) == 10
    assert all(x == -100.0 for x in quiet) and all(-16 < x < -14.5 for x in loud)  # 8000/32768 sine: -15.3 dB rms
    assert max(reads[1:]) <= 2 * 0.1 * rate + 2
