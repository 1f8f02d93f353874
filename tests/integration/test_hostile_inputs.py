"""Hostile and broken uploads, through both upload paths: a clear 4xx or a failed video with a reason,
never a 500, a hang or a half-written record."""
from __future__ import annotations

import json

import pytest
import requests

from chalicelib import clients
from chalicelib.services import wiring
from media_fixtures import _ffmpeg, make_ffconcat, make_hls_playlist, make_truncated_mp4, make_video

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    good = make_video(d / "good.mp4", seconds=3, width=320, height=180)
    secret = d / "secret.txt"
    secret.write_text("not for you")
    files = {
        "truncated.mp4": make_truncated_mp4(good, d / "truncated.mp4"),
        "playlist-local.mp4": make_hls_playlist(d / "playlist-local.mp4", good),
        "playlist-url.m3u8": make_hls_playlist(d / "playlist-url.m3u8"),
        "concat.mp4": make_ffconcat(d / "concat.mp4", good),
    }
    # 7800x4400 is over the 8K pixel budget (7680x4320): one small frame, absurd dimensions.
    huge = d / "huge.mp4"
    _ffmpeg("-f", "lavfi", "-i", "color=c=black:s=7800x4400:d=0.2", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", str(huge))
    files["huge.mp4"] = huge
    return {name: path.read_bytes() for name, path in files.items()}


def keys_under(account_id):
    resp = clients.s3().list_objects_v2(Bucket=wiring.blobs().bucket, Prefix=f"accounts/{account_id}/")
    return [o["Key"] for o in resp.get("Contents", [])]


EXPECTED_REASON = {
    "truncated.mp4": "corrupt",
    "playlist-local.mp4": None,  # read as a broken mp4 or refused as HLS: either way rejected
    "playlist-url.m3u8": None,
    "concat.mp4": None,
    "huge.mp4": "too_large_dimensions",
}


def test_multipart_rejects_each_with_a_reason_and_stores_nothing(api, project, hostile):
    for name, data in hostile.items():
        status, body = api.upload(api.account_id, project["id"], name, data)
        assert status == 400 and body["error"] == "bad_request" and body["message"], (name, body)
        assert "Traceback" not in body["message"] and "/tmp" not in body["message"], (name, body)
    assert keys_under(api.account_id) == [], "a rejected upload leaves no object behind"


def test_presigned_put_of_each_marks_the_video_failed_with_a_reason(api, project, hostile):
    for name, data in hostile.items():
        status, ticket = api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project["id"],
                                                        "filename": name, "sizeBytes": len(data)})
        assert status == 200, ticket
        assert requests.put(ticket["uploadUrl"], data=data, timeout=30).status_code == 200
        video = wiring.records().get_video(ticket["videoId"])
        assert video["status"] == "failed" and video["error"]["message"], (name, video)
        if EXPECTED_REASON[name]:
            assert video["error"]["code"] == EXPECTED_REASON[name], (name, video["error"])
        # A failed upload cannot be processed, and says why.
        status, body = api.post("/dev/process-video-submit", {"videoId": ticket["videoId"]})
        assert status == 400 and "cannot be processed" in body["message"], (name, body)


def test_a_video_over_the_duration_limit_is_refused_naming_the_limit(api, project, monkeypatch, tmp_path):
    from chalicelib.config import settings

    monkeypatch.setenv("KLYPH_MAX_VIDEO_SECONDS", "2")
    settings.cache_clear()
    try:
        path = make_video(tmp_path / "long.mp4", seconds=4, width=160, height=90, audio=None)
        status, body = api.upload(api.account_id, project["id"], "long.mp4", path.read_bytes())
    finally:
        settings.cache_clear()
    assert status == 400 and "2" in body["message"] and "long" in body["message"].lower(), body


def test_megabytes_of_instructions_are_refused_naming_the_field(api):
    body = json.dumps({"videoId": "vid_x", "customInstructions": "funny " * 500_000})  # 3 MB
    status, answer = api.post("/dev/process-video-submit", body)
    assert status == 400 and "customInstructions" in answer["message"]
    assert len(json.dumps(answer)) < 2000, "the error does not echo the input back"
