"""The local stack reads a source in place when its process holds no copy of it: a job after a
restart, whose preparation is reused, renders and reframes without downloading the source."""
from __future__ import annotations

import os
import tempfile

import pytest
import requests

from devstack.client import LocalStackProcess
from tests.e2e.conftest import free_port_pair

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.media]

JOB = {"maxClips": 2, "minDuration": 5, "maxDuration": 12}


def test_a_job_after_a_restart_reads_the_source_in_place(speech_video, tmp_path):
    data, log, port = tmp_path / "data", tmp_path / "stack.log", free_port_pair()
    env = {"KLYPH_RANGED_READS": "1"}
    first = LocalStackProcess(port, env=env, log_path=log, data_dir=data, pin_workspace=False).start()
    try:
        client = first.client()
        project = client.create_project("Read in place", first.account_id)
        video = client.upload_large(speech_video, first.account_id, project["id"])
        assert video["status"] == "uploaded", video
        # Prepare downloads the source (it reads all of its audio); the renders read that copy.
        done = client.wait(client.submit(video["id"], aspectRatio="9:16", **JOB), timeout=300, interval=0.3)
        assert done["status"] == "succeeded", done
    finally:
        assert first.stop() == 0

    second = LocalStackProcess(port, env=env, log_path=log, data_dir=data, pin_workspace=False).start()
    try:
        client = second.client()
        # The preparation is reused, so nothing in this process downloads the source: PlanReframe
        # (OpenCV) and RenderClip (ffmpeg) read its ranges from the stand-in.
        again = client.wait(client.submit(video["id"], aspectRatio="1:1", **JOB), timeout=300, interval=0.3)
        assert again["status"] == "succeeded", again
        assert again["clips"] and all(c["status"] == "ready" for c in again["clips"]), again
        for clip in again["clips"]:
            assert requests.get(clip["preview_url"], timeout=60).content[4:8] == b"ftyp"
            assert requests.get(clip["thumbnail_url"], timeout=60).content[:2] == b"\xff\xd8"
        assert second.proc is not None
        cache = os.path.join(tempfile.gettempdir(), f"klyph-sources-{second.proc.pid}")
        assert not os.path.exists(cache) or not os.listdir(cache), "the source was downloaded"
    finally:
        assert second.stop() == 0
    text = log.read_text()
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text
