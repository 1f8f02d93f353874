"""What viewers read and see, through the real state machine (moto), ffmpeg and Whisper: notes,
a valid job with nothing to clip, and (further down) cuts, resolution, thumbnails."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.media, pytest.mark.slow]


def upload(api, project, path, name="talk.mp4"):
    status, video = api.upload(api.account_id, project["id"], name, path.read_bytes())
    assert status == 200, video
    return video


def run_job(api, video_id, **options):
    status, body = api.post("/dev/process-video-submit", {"videoId": video_id, **options})
    assert status == 200, body
    return api.wait_for_result(body["callId"])


def test_a_valid_job_that_finds_nothing_to_clip_succeeds_with_no_clips_and_a_note(api, project, speech_video):
    video = upload(api, project, speech_video)
    status, result = run_job(api, video["id"], maxClips=3, minDuration=5, maxDuration=15,
                             customInstructions="only the part about cryptocurrency")
    assert status == 200 and result["status"] == "succeeded", result
    assert result["clips"] == []
    assert result["notes"] == ["Nothing in this video is clearly about cryptocurrency, so no clip was made."]
    status, summary = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary["video"]["status"] == "ready" and summary["counts"]["total"] == 0
