"""Idempotency-Key: a retried create or submit returns the first answer instead of doing it twice."""
from __future__ import annotations

import pytest


def test_a_retried_create_project_returns_the_same_project(api):
    body = {"name": "Retry Me", "accountId": api.account_id}
    first = api.post("/dev/create-project", body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/dev/create-project", body, headers={"Idempotency-Key": "k-1"})
    assert first[0] == again[0] == 200
    assert again[1] == first[1] and first[1]["slug"] == "retry-me"
    # Without the key, or with another one, it is a new project.
    assert api.post("/dev/create-project", body, headers={"Idempotency-Key": "k-2"})[1]["slug"] == "retry-me-2"
    assert api.post("/dev/create-project", body)[1]["slug"] == "retry-me-3"


def test_the_same_key_with_a_different_body_is_a_bad_request(api):
    api.post("/dev/create-project", {"name": "A", "accountId": api.account_id}, headers={"Idempotency-Key": "k"})
    status, body = api.post("/dev/create-project", {"name": "B", "accountId": api.account_id},
                            headers={"Idempotency-Key": "k"})
    assert status == 400 and body["error"] == "bad_request" and "Idempotency-Key" in body["message"]


def test_keys_are_per_account(api, aws):
    from chalicelib.services import auth
    from support import Api

    other_account, other_key = auth.create_workspace(name="other")
    other = Api(api.client, other_key)
    mine = api.post("/dev/create-project", {"name": "Same", "accountId": api.account_id},
                    headers={"Idempotency-Key": "shared"})
    theirs = other.post("/dev/create-project", {"name": "Same", "accountId": other_account},
                        headers={"Idempotency-Key": "shared"})
    assert mine[0] == theirs[0] == 200 and mine[1]["id"] != theirs[1]["id"]


@pytest.mark.media
def test_a_retried_submit_starts_one_job(api, project, tmp_path):
    from media_fixtures import make_video

    path = make_video(tmp_path / "v.mp4", seconds=8, width=320, height=180, audio=None)
    status, video = api.upload(api.account_id, project["id"], "v.mp4", path.read_bytes())
    assert status == 200
    body = {"videoId": video["id"], "maxClips": 1, "minDuration": 5, "maxDuration": 6}
    first = api.post("/dev/process-video-submit", body, headers={"Idempotency-Key": "submit-1"})
    again = api.post("/dev/process-video-submit", body, headers={"Idempotency-Key": "submit-1"})
    assert first == again and first[0] == 200
    status, result = api.wait_for_result(first[1]["callId"])
    assert result["status"] == "succeeded"


@pytest.mark.media
def test_a_rejection_is_not_replayed_once_the_state_it_depended_on_changed(api, project, tmp_path):
    """Submit while the video is still uploading: 400. The same key and body after the upload
    finished must run for real, not replay the stale 400."""
    import requests

    from media_fixtures import make_video

    path = make_video(tmp_path / "v.mp4", seconds=8, width=320, height=180, audio=None)
    status, ticket = api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project["id"],
                                                     "filename": "v.mp4", "sizeBytes": path.stat().st_size})
    assert status == 200
    body = {"videoId": ticket["videoId"], "maxClips": 1, "minDuration": 5, "maxDuration": 6}
    early = api.post("/dev/process-video-submit", body, headers={"Idempotency-Key": "after-upload"})
    assert early[0] == 400 and "still uploading" in early[1]["message"]
    assert requests.put(ticket["uploadUrl"], data=path.read_bytes(), timeout=30).status_code == 200
    status, answer = api.post("/dev/process-video-submit", body, headers={"Idempotency-Key": "after-upload"})
    assert status == 200 and answer["callId"].startswith("call_"), answer
    assert api.wait_for_result(answer["callId"])[1]["status"] == "succeeded"


def test_a_claim_left_by_a_killed_request_expires(api):
    """A request killed mid-way leaves its key claimed as running; after the claim's expiry a
    retry runs instead of waiting and answering 409 for a day."""
    import hashlib
    import json
    import time

    from chalicelib.services import wiring

    body = {"name": "Killed", "accountId": api.account_id}
    raw = json.dumps(body).encode()
    wiring.records().claim_idempotency_key(
        api.account_id, "create_project#killed",
        {"state": "running", "fingerprint": hashlib.sha256(raw).hexdigest(), "createdAt": "2026-01-01T00:00:00Z",
         "claimExpiresAt": int(time.time()) - 1, "expiresAt": int(time.time()) + 3600},
        int(time.time()),
    )
    began = time.time()
    status, project = api.post("/dev/create-project", body, headers={"Idempotency-Key": "killed"})
    assert status == 200 and project["slug"] == "killed" and time.time() - began < 5


def test_a_bad_key_is_named(api):
    status, body = api.post("/dev/create-project", {"name": "X", "accountId": api.account_id},
                            headers={"Idempotency-Key": "x" * 300})
    assert status == 400 and "Idempotency-Key" in body["message"]
