"""Parallel renders import OpenCV, numpy, wordllama and faster-whisper lazily from worker
threads. Done naively, one thread can see OpenCV half-initialised and fail its clip
(``module 'cv2' has no attribute 'data'``). Each run is a fresh interpreter, where the
imports really happen, with threads entering the product's loaders at staggered moments."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import FIXTURES

pytestmark = [pytest.mark.media, pytest.mark.slow]

ROOT = FIXTURES.parents[1]

SCRIPT = r"""
import json, sys, threading, time
sys.path.insert(0, ".")
from chalicelib.adapters import embeddings, faces, whisper

errors = []
start = threading.Barrier(6)

def worker(i):
    start.wait()
    time.sleep(i * 0.003)  # staggered: the race is widest a few ms into OpenCV's bootstrap
    try:
        if i == 5:
            embeddings._model()
        elif i == 4:
            whisper.WhisperTranscriber()._model()
        else:
            faces.detect_faces(sys.argv[1], 0.0, 0.5, size=(160, 90))
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(errors))
"""


def test_heavy_modules_import_safely_from_parallel_threads(tmp_path):
    from media_fixtures import make_video

    video = tmp_path / "tiny.mp4"
    make_video(video, seconds=1, width=160, height=90)
    for _ in range(6):
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(video)], cwd=ROOT, capture_output=True, text=True,
                             timeout=120, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        assert json.loads(out.stdout.strip().splitlines()[-1]) == []
