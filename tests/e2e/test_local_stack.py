"""The real local stack as a user runs it (`make run`), driven over HTTP with the seed's flow."""
from __future__ import annotations

import pytest
import requests

from devstack.client import KlyphClient

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.media
def test_two_jobs_at_once_on_a_fresh_stack(short_speech_video, tmp_path):
    """What a user's first minutes look like: a stack just started, two 9:16 jobs submitted
    together, so renders of both run in parallel threads that each load OpenCV, numpy and
    the models for the first time. Every clip must come back ready."""
    from concurrent.futures import ThreadPoolExecutor

    from devstack.client import LocalStackProcess
    from tests.e2e.conftest import free_port_pair

    with LocalStackProcess(free_port_pair(), log_path=tmp_path / "fresh-stack.log") as fresh:
        client = fresh.client()
        project = client.create_project("Two at once", fresh.account_id)
        videos = [client.upload_video(short_speech_video, fresh.account_id, project["id"]) for _ in range(2)]
        calls = [client.submit(v["id"], maxClips=2, minDuration=5, maxDuration=12, aspectRatio="9:16") for v in videos]
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda call: client.wait(call, timeout=600, interval=0.5), calls))
        log = (tmp_path / "fresh-stack.log").read_text()
    for result in results:
        assert result["status"] == "succeeded", result
        assert result["clips"] and [c["status"] for c in result["clips"]] == ["ready"] * len(result["clips"]), (
            result, log[-3000:])
        assert all(c["aspect_ratio"] == "9:16" and c["preview_url"] for c in result["clips"])
    assert "has no attribute" not in log
    # The stack loaded its models beside the idle stack (or beside the first transcription,
    # which then found them loaded): once, and said so.
    assert log.count("Whisper models and sentence encoder loaded in") == 1, log[-3000:]


@pytest.mark.media
def test_seed_flow_over_http(stack, speech_video, tmp_path):
    client = stack.client()
    assert requests.get(f"{stack.base_url}/health", timeout=5).json() == {"status": "ok"}

    project = client.create_project("Fall Interviews", stack.account_id)
    assert project["id"].startswith("proj_") and project["slug"] == "fall-interviews"
    assert client.create_project("Fall Interviews", stack.account_id)["slug"] == "fall-interviews-2"

    by_form = client.upload_video(speech_video, stack.account_id, project["id"])
    assert by_form["status"] == "uploaded" and by_form["container"] == "mp4"
    by_put = client.upload_large(speech_video, stack.account_id, project["id"])
    assert by_put["status"] == "uploaded", by_put

    call_id = client.submit(by_put["id"], maxClips=2, minDuration=5, maxDuration=12, aspectRatio="1:1")
    stages = []
    result = client.wait(call_id, timeout=300, interval=0.2, on_progress=lambda body: stages.append(body["stage"]))
    assert result["status"] == "succeeded", result
    assert stages, "the poll answered 202 with a stage while the job ran"

    clips = client.list_clips(by_put["id"])
    assert [c["id"] for c in clips] == [c["id"] for c in result["clips"]]
    for clip in clips:
        assert set(clip) >= {"id", "title", "start_seconds", "end_seconds", "aspect_ratio", "status", "preview_url"}
        assert clip["aspect_ratio"] == "1:1" and clip["status"] == "ready"
        download = requests.get(clip["preview_url"], timeout=30)
        assert download.status_code == 200 and download.content[4:8] == b"ftyp", "a playable mp4 from the signed URL"
        assert "X-Amz-Expires=3600" in clip["preview_url"]

    summary = client.video_summary(by_put["id"])
    assert summary["video"]["status"] == "ready"
    assert summary["counts"] == {"total": len(clips), "ready": len(clips), "draft": 0, "failed": 0}


def test_errors_over_http_are_json_with_a_message(stack):
    base = stack.base_url
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    cases = [
        (requests.post(f"{base}/dev/create-project", json={"name": "x"}, timeout=10), 401, "unauthorized"),
        (requests.post(f"{base}/dev/create-project", data="{nope", headers=auth, timeout=10), 400, "bad_request"),
        (requests.post(f"{base}/dev/process-video-submit", json={"videoId": "vid_missing"}, headers=auth, timeout=10),
         404, "not_found"),
        (requests.get(f"{base}/dev/process-video-result", params={"callId": "call_missing"}, headers=auth, timeout=10),
         404, "not_found"),
        (requests.get(f"{base}/dev/no-such-route", headers=auth, timeout=10), 404, "not_found"),
        (requests.get(f"http://127.0.0.1:{stack.port}/elsewhere", timeout=10), 404, "not_found"),
        # With a body too, under /api and outside it: answered at once, not after a timeout.
        (requests.post(f"{base}/dev/no-such-route", json={"a": 1}, headers=auth, timeout=5), 404, "not_found"),
        (requests.post(f"http://127.0.0.1:{stack.port}/elsewhere", data=b"x" * 5000, timeout=5), 404, "not_found"),
    ]
    for resp, status, code in cases:
        body = resp.json()
        assert (resp.status_code, body["error"]) == (status, code), body
        assert body["message"] and stack.api_key not in resp.text


def test_other_workspace_sees_nothing(stack):
    """A second key, for another workspace, made the way an operator does (make api-key)."""
    import os
    import subprocess
    import sys

    from devstack.client import ROOT

    out = subprocess.run(
        [sys.executable, "-m", "tools.cli", "api-key", "--port", str(stack.port)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ}, check=False,
    )
    assert out.returncode == 0, out.stderr
    other_key = out.stdout.split("API key:")[1].split()[0]
    mine = stack.client()
    project = mine.create_project("Private", stack.account_id)
    theirs = KlyphClient(stack.base_url, other_key)
    resp = theirs.session.post(f"{stack.base_url}/dev/create-project",
                               json={"name": "x", "accountId": stack.account_id})
    assert resp.status_code == 404
    resp = theirs.session.post(
        f"{stack.base_url}/dev/create-upload",
        json={"accountId": stack.account_id, "projectId": project["id"], "filename": "a.mp4", "sizeBytes": 10},
    )
    assert resp.status_code == 404
