"""Load-test fixtures: the shared real local stack, and a small speech video."""
from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import stack  # noqa: F401 - one real local stack, as the end-to-end tests use


@pytest.fixture(scope="session")
def small_speech_video(tmp_path_factory):
    from media_fixtures import make_video

    speech = Path(__file__).resolve().parents[1] / "fixtures" / "speech_short.ogg"
    path = tmp_path_factory.mktemp("load") / "speech-20s.mp4"
    return make_video(path, seconds=20, width=320, height=180, audio=speech)
