"""The embedded stack keeps its data: a ``kill -9`` in the middle of a render loses nothing the
API had answered, and the job it cut short is settled, not left polling 202 forever. After the
restart the stack reads the source in place (its new process holds no copy of it)."""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time
from pathlib import Path

import pytest
import requests

from devstack.client import LocalStackProcess
from tests.e2e.conftest import free_port_pair

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.media]

JOB = {"maxClips": 2, "minDuration": 5, "maxDuration": 12}


def _digest(url: str) -> str:
    resp = requests.get(url, timeout=60)
    assert resp.status_code == 200, resp.text[:200]
    return hashlib.sha256(resp.content).hexdigest()


def _downloads(clips: list[dict]) -> dict[str, dict[str, str]]:
    return {
        clip["id"]: {kind: _digest(clip[kind]) for kind in ("preview_url", "thumbnail_url", "captions_srt_url")}
        for clip in clips
    }


def _live_members(group: int, wait: float = 10) -> list[int]:
    """Processes of ``group`` that still run (zombies waiting for init to reap them do not count)."""
    if not os.path.isdir("/proc"):
        return []  # no procfs to look in (macOS): the stack's own death is checked by kill()
    deadline = time.time() + wait
    while True:
        live = []
        for entry in os.listdir("/proc"):
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if entry.isdigit() and int(fields[2]) == group and fields[0] != "Z":
                live.append(int(entry))
        if not live or time.time() > deadline:
            return live
        time.sleep(0.2)


def test_kill_9_during_a_render_then_restart_on_the_same_directory(speech_video, tmp_path):
    data = tmp_path / "data"
    log = tmp_path / "stack.log"
    port = free_port_pair()
    first = LocalStackProcess(port, log_path=log, data_dir=data, pin_workspace=False, new_session=True).start()
    try:
        # The seeded workspace's key is kept in clear in one file only its owner can read.
        assert stat.S_IMODE((data / "workspace.json").stat().st_mode) == 0o600
        client = first.client()
        project = client.create_project("Survives a crash", first.account_id)
        # A presigned PUT: its bytes go straight to a file of the data directory.
        video = client.upload_large(speech_video, first.account_id, project["id"])
        assert video["status"] == "uploaded", video
        done_call = client.submit(video["id"], aspectRatio="9:16", **JOB)
        done = client.wait(done_call, timeout=300, interval=0.3)
        assert done["status"] == "succeeded", done
        before = _downloads(done["clips"])
        assert before

        cut_call = client.submit(video["id"], aspectRatio="1:1", **JOB)
        deadline = time.time() + 180
        while True:
            status, body = client.result(cut_call)
            assert status == 202 and time.time() < deadline, f"the second job ended before its render: {body}"
            if body["stage"] == "rendering":
                break
            time.sleep(0.1)
        group = first.proc.pid
        first.kill()  # SIGKILL to the stack and its ffmpeg children, mid-render
    finally:
        first.kill()
    assert _live_members(group) == [], "nothing of the killed process group runs on"

    # (The tests' environment switches ranged reads off for the in-process stand-in; on here, as
    # by default.)
    second = LocalStackProcess(port, log_path=log, data_dir=data, pin_workspace=False,
                               env={"KLYPH_RANGED_READS": "1"}).start()
    try:
        # The same workspace and key, read back from the data directory, and the key still works.
        assert (second.account_id, second.api_key) == (first.account_id, first.api_key)
        client = second.client()
        _, projects = client._call("GET", "/dev/list-projects", params={"accountId": first.account_id})
        assert [p["id"] for p in projects["projects"]] == [project["id"]]
        _, videos = client._call("GET", "/dev/list-videos", params={"projectId": project["id"]})
        assert [v["id"] for v in videos["videos"]] == [video["id"]]

        # The finished job is intact: same clips, byte-identical files.
        status, again = client.result(done_call)
        assert status == 200 and again["status"] == "succeeded"
        assert [c["id"] for c in again["clips"]] == [c["id"] for c in done["clips"]]
        assert _downloads(again["clips"]) == before

        # The cut job answers 200 at once: failed as interrupted (its rendered clips stay ready).
        status, cut = client.result(cut_call)
        assert status == 200, cut
        if cut["status"] == "failed":
            assert cut["error"]["code"] == "interrupted" and "safe to resubmit" in cut["error"]["message"], cut
        else:
            assert cut["status"] == "succeeded", cut
        clips = client.list_clips(video["id"])
        assert clips and {c["call_id"] for c in clips} == {cut_call}
        assert all(c["status"] in ("ready", "failed") for c in clips), clips
        for clip in clips:
            if clip["status"] == "ready":
                assert requests.get(clip["preview_url"], timeout=60).content[4:8] == b"ftyp"
        assert client.video_summary(video["id"])["video"]["status"] in ("failed", "ready")

        # The video can be submitted again, and that job runs to the end. Its preparation is
        # reused, so nothing in this process downloads the source: PlanReframe and RenderClip
        # read its ranges from the stand-in over a presigned URL, as on AWS.
        again_call = client.submit(video["id"], maxClips=1, minDuration=5, maxDuration=12, aspectRatio="9:16")
        assert again_call not in (done_call, cut_call)
        resubmitted = client.wait(again_call, timeout=300, interval=0.3)
        assert resubmitted["status"] == "succeeded", resubmitted
        for clip in resubmitted["clips"]:
            assert requests.get(clip["thumbnail_url"], timeout=60).content[:2] == b"\xff\xd8"
        assert second.proc is not None
        cache = os.path.join(tempfile.gettempdir(), f"klyph-sources-{second.proc.pid}")
        assert not os.path.exists(cache) or not os.listdir(cache), "the source was downloaded"
    finally:
        code = second.stop()
    text = log.read_text()
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text, "a presigned URL in the log"
    assert code == 0, text[-3000:]
    assert "loaded 1 projects, 1 videos" in text, text[-3000:]
    assert "dropped" not in text, "no object was left half-stored"
