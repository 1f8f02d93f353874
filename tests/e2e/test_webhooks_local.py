"""Webhooks on the real local stack (`make run`): a receiver on 127.0.0.1, as the local stack
allows, gets a job's events signed, and verifies them with the standardwebhooks package."""
from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests
from standardwebhooks import Webhook

from webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.media]


def test_a_local_receiver_gets_a_jobs_events_over_http(stack, tmp_path):
    from media_fixtures import make_video

    client = stack.client()
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    receiver = Receiver((200,))
    try:
        hook = requests.post(f"{stack.base_url}/dev/create-webhook", headers=headers, timeout=30,
                             json={"accountId": stack.account_id, "url": receiver.url}).json()
        assert hook["secret"].startswith("whsec_"), hook
        project = client.create_project("Hooks", stack.account_id)
        video = client.upload_video(make_video(tmp_path / "v.mp4", seconds=12, width=320, height=180, audio=None),
                                    stack.account_id, project["id"])
        result = client.wait(client.submit(video["id"], maxClips=1, minDuration=5, maxDuration=8), timeout=300)
        assert result["status"] == "succeeded", result
        got = receiver.wait_for(2)
    finally:
        receiver.close()
    verifier = Webhook(hook["secret"])
    events = {verifier.verify(body, h)["type"]: (arrived, verifier.verify(body, h)) for arrived, h, body in got}
    assert set(events) == {"clip.ready", "job.succeeded"}
    arrived, succeeded = events["job.succeeded"]
    assert succeeded["data"]["callId"] == result["callId"]
    print(f"\nlocal stack: job.succeeded reached the receiver "
          f"{(arrived - datetime.fromisoformat(result['finishedAt']).timestamp()) * 1000:.0f} ms after the job ended")
    deadline = time.time() + 10
    while time.time() < deadline:
        listed = requests.get(f"{stack.base_url}/dev/list-webhook-deliveries", params={"webhookId": hook["id"]},
                              headers=headers, timeout=30).json()["deliveries"]
        if all(d["status"] == "delivered" for d in listed):
            break
        time.sleep(0.1)
    assert [d["status"] for d in listed] == ["delivered", "delivered"]
