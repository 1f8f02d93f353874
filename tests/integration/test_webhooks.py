"""Webhooks on moto: the routes, deliveries through the real state machine (its Wait/Choice
retry loop) to receivers on 127.0.0.1, verified with the ``standardwebhooks`` package as a
customer's receiver would, and the stack's KMS key sealing the secrets."""
from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from standardwebhooks import Webhook
from test_routes import assert_error, other_account

from chalicelib import clients
from chalicelib.config import settings
from chalicelib.models import JobFailedData
from chalicelib.services import webhooks, wiring
from webhook_receiver import Receiver


@pytest.fixture(autouse=True)
def webhook_env(monkeypatch, tmp_path):
    """What the local stack sets: loopback receivers allowed; short retries (1 s, 1 s)."""
    monkeypatch.setenv("KLYPH_WEBHOOK_ALLOW_LOCAL", "1")
    monkeypatch.setenv("KLYPH_WEBHOOK_RETRY_SECONDS", "1,1")
    monkeypatch.setenv("KLYPH_WEBHOOK_KEY_FILE", str(tmp_path / "data" / "webhook-secret.key"))
    settings.cache_clear()
    yield
    settings.cache_clear()


def set_env(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    settings.cache_clear()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(*answers, location=None) -> Receiver:
        made.append(Receiver(answers or (200,), location))
        return made[-1]

    yield make
    for r in made:
        r.close()


def create_webhook(api, url, **extra):
    status, body = api.post("/dev/create-webhook", {"accountId": api.account_id, "url": url, **extra})
    assert status == 200, body
    return body


def deliveries(api, webhook_id):
    status, body = api.get(f"/dev/list-webhook-deliveries?webhookId={webhook_id}")
    assert status == 200, body
    return body["deliveries"]


def wait_settled(api, webhook_id, count=1, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = deliveries(api, webhook_id)
        if len(found) >= count and all(d["status"] != "pending" for d in found):
            return found
        time.sleep(0.1)
    raise AssertionError(f"deliveries still pending: {found}")


def finished_execution(delivery_id: str, timeout: float = 10) -> dict:
    """The delivery's execution once it has ended: the delivery is recorded settled by its last
    task, a few state transitions before the execution itself ends."""
    arn = settings().state_machine_arn.replace(":stateMachine:", ":execution:") + f":{delivery_id}"
    sfn, deadline = clients.stepfunctions(), time.time() + timeout
    while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING" and time.time() < deadline:
        time.sleep(0.05)
    return execution


def everything_stored(account_id: str, webhook_id: str) -> str:
    """Every item of the partitions a webhook touches, as stored."""
    items = []
    for pk in (f"ACCOUNT#{account_id}", f"WEBHOOK#{webhook_id}", f"IDEMP#{account_id}"):
        items += clients.dynamodb().query(TableName=settings().table_name, KeyConditionExpression="pk = :pk",
                                          ExpressionAttributeValues={":pk": {"S": pk}})["Items"]
    assert items
    return json.dumps(items)


def test_create_list_delete_and_another_workspace_sees_nothing(client, api, receivers):
    hook = create_webhook(api, receivers().url)
    assert hook["id"].startswith("wh_") and hook["secret"].startswith("whsec_")
    assert hook["events"] == ["job.succeeded", "job.failed", "clip.ready"], "all events by default"
    only_failed = create_webhook(api, receivers().url, events=["job.failed"])
    status, listed = api.get(f"/dev/list-webhooks?accountId={api.account_id}")
    assert status == 200 and [w["id"] for w in listed["webhooks"]] == [only_failed["id"], hook["id"]]
    assert "secret" not in json.dumps(listed) and hook["secret"] not in json.dumps(listed)
    assert listed["webhooks"][0]["events"] == ["job.failed"]
    stored = everything_stored(api.account_id, hook["id"])
    assert hook["secret"] not in stored and hook["secret"][6:] not in stored, "only sealed at rest"

    b = other_account(client)
    assert_error(b.get(f"/dev/list-webhooks?accountId={api.account_id}"), 404, "not_found")
    assert_error(b.post("/dev/delete-webhook", {"id": hook["id"]}), 404, "not_found", hook["id"])
    assert_error(b.get(f"/dev/list-webhook-deliveries?webhookId={hook['id']}"), 404, "not_found", hook["id"])
    assert_error(b.post("/dev/create-webhook", {"accountId": api.account_id, "url": receivers().url}),
                 404, "not_found")
    assert b.get(f"/dev/list-webhooks?accountId={b.account_id}") == (200, {"webhooks": []})

    assert api.post("/dev/delete-webhook", {"id": hook["id"]}) == (200, {"id": hook["id"], "deleted": True})
    assert_error(api.post("/dev/delete-webhook", {"id": hook["id"]}), 404, "not_found")
    assert_error(api.get(f"/dev/list-webhook-deliveries?webhookId={hook['id']}"), 404, "not_found")
    assert [w["id"] for w in api.get(f"/dev/list-webhooks?accountId={api.account_id}")[1]["webhooks"]] == [
        only_failed["id"]]


def test_an_idempotent_create_replays_the_secret_without_storing_it_in_plain(api, receivers):
    key = {"Idempotency-Key": "hook-1"}
    body = {"accountId": api.account_id, "url": receivers().url}
    first = api.post("/dev/create-webhook", body, headers=key)
    again = api.post("/dev/create-webhook", body, headers=key)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    assert len(api.get(f"/dev/list-webhooks?accountId={api.account_id}")[1]["webhooks"]) == 1
    assert first[1]["secret"] not in everything_stored(api.account_id, first[1]["id"])


def test_unsafe_urls_and_unknown_events_are_refused_at_creation(api, monkeypatch):
    dns = {"private.example.com": ["10.1.2.3"], "hooks.example.com": ["93.184.216.34"],
           "mixed.example.com": ["93.184.216.34", "172.16.0.1"]}

    def resolve(host, port):
        if host not in dns:
            raise OSError("no such host")
        return dns[host]

    monkeypatch.setattr(wiring, "resolver", lambda: resolve)
    for url, mention in (("https://private.example.com/h", "10.1.2.3"), ("https://mixed.example.com/h", "172.16.0.1"),
                         ("https://169.254.169.254/latest", "169.254.169.254"),
                         ("http://hooks.example.com/h", "https://"), ("https://nowhere.example.com", "resolve"),
                         ("hooks.example.com", "https://")):
        assert_error(api.post("/dev/create-webhook", {"accountId": api.account_id, "url": url}),
                     400, "bad_request", "url", mention, case=url)
    assert_error(api.post("/dev/create-webhook", {"accountId": api.account_id, "url": "https://hooks.example.com",
                                                  "events": ["job.done"]}), 400, "bad_request", "events", "job.done")
    assert create_webhook(api, "https://hooks.example.com/in")["url"] == "https://hooks.example.com/in"
    # On AWS (no local receivers) loopback is refused too, whatever the scheme.
    set_env(monkeypatch, "KLYPH_WEBHOOK_ALLOW_LOCAL", "0")
    for url in ("http://127.0.0.1:9000/h", "https://127.0.0.1:9000/h", "https://[::1]/h"):
        assert_error(api.post("/dev/create-webhook", {"accountId": api.account_id, "url": url}),
                     400, "bad_request", "url", case=url)


def raise_event(account_id: str, call_id: str = "call_01TEST") -> list[str]:
    """A job.failed event raised as MarkJobFailed raises it (without running a job)."""
    data = JobFailedData(callId=call_id, videoId="vid_01TEST", status="failed",
                         error={"code": "no_clips", "message": "nothing to clip"}, stage="selecting")
    return webhooks.emit(account_id, "job.failed", data)


def test_a_receiver_failing_twice_gets_the_same_event_three_times_then_it_is_delivered(api, receivers):
    receiver = receivers(500, 500, 200)
    hook = create_webhook(api, receiver.url)
    [delivery_id] = raise_event(api.account_id)
    got = receiver.wait_for(3)
    [delivery] = wait_settled(api, hook["id"])

    assert len(got) == 3
    assert {h["webhook-id"] for _, h, _ in got} == {delivery_id}
    assert len({body for _, _, body in got}) == 1, "the same body on every attempt"
    verifier = Webhook(hook["secret"])
    for _, headers, body in got:
        event = verifier.verify(body, headers)
        assert headers["content-type"] == "application/json" and headers["user-agent"].startswith("Klyph")
    assert set(event) == {"type", "timestamp", "data"} and event["type"] == "job.failed"
    assert event["data"] == {"callId": "call_01TEST", "videoId": "vid_01TEST", "status": "failed",
                             "error": {"code": "no_clips", "message": "nothing to clip"}, "stage": "selecting"}
    assert got[1][0] - got[0][0] >= 0.9, "the state machine waited before the retry"

    assert delivery["id"] == delivery_id and delivery["status"] == "delivered" and delivery["type"] == "job.failed"
    assert [a.get("statusCode") for a in delivery["attempts"]] == [500, 500, 200]
    assert all(a["at"] and a["seconds"] >= 0 for a in delivery["attempts"]) and "nextAttemptAt" not in delivery
    assert delivery["event"] == event
    execution = finished_execution(delivery_id)
    assert execution["name"] == delivery_id and execution["status"] == "SUCCEEDED"


def test_a_redirect_is_not_followed_and_the_delivery_is_given_up_after_the_schedule(api, receivers, monkeypatch):
    elsewhere = receivers()
    redirecting = receivers(302, location=elsewhere.url)
    hook = create_webhook(api, redirecting.url, events=["job.failed"])
    set_env(monkeypatch, "KLYPH_WEBHOOK_RETRY_SECONDS", "1")
    raise_event(api.account_id)
    [delivery] = wait_settled(api, hook["id"])
    assert delivery["status"] == "failed"
    assert [a.get("statusCode") for a in delivery["attempts"]] == [302, 302]
    assert all("redirect" in a["error"] for a in delivery["attempts"])
    assert len(redirecting.got) == 2 and elsewhere.got == [], "the Location was never visited"
    # What an operator sees: the execution named after the delivery, its attempts as steps, and
    # its end in DeliveryGaveUp (a succeeded execution: a broken receiver is not a failed job).
    arn = finished_execution(delivery["id"])["executionArn"]
    sfn = clients.stepfunctions()
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    entered = [e["stateEnteredEventDetails"]["name"] for e in sfn.get_execution_history(executionArn=arn)["events"]
               if "stateEnteredEventDetails" in e]
    assert entered == ["Route", "DeliverWebhook", "Delivered?", "WaitBeforeRedelivery", "DeliverWebhook",
                       "Delivered?", "DeliveryGaveUp"]


def test_a_name_that_turns_private_after_creation_is_refused_before_connecting(api, monkeypatch):
    dns = {"hooks.example.com": ["93.184.216.34"]}
    monkeypatch.setattr(wiring, "resolver", lambda: lambda host, port: dns[host])
    hook = create_webhook(api, "https://hooks.example.com/in")
    dns["hooks.example.com"] = ["10.0.0.7"]  # DNS rebinding
    set_env(monkeypatch, "KLYPH_WEBHOOK_RETRY_SECONDS", "")
    raise_event(api.account_id)
    [delivery] = wait_settled(api, hook["id"])
    [attempt] = delivery["attempts"]
    assert delivery["status"] == "failed" and "statusCode" not in attempt
    assert "refused before connecting" in attempt["error"] and "10.0.0.7" in attempt["error"]


def test_a_deleted_webhook_gives_its_pending_delivery_up(api, receivers, monkeypatch):
    hook = create_webhook(api, receivers().url)
    monkeypatch.setattr(wiring, "workflow", lambda: type("NotStarted", (), {"start": lambda *a: "arn"})())
    [delivery_id] = raise_event(api.account_id)
    assert api.post("/dev/delete-webhook", {"id": hook["id"]})[0] == 200
    state = webhooks.DeliveryState(id=delivery_id, webhookId=hook["id"], accountId=api.account_id).wire()
    assert webhooks.deliver(state)["delivery"]["status"] == "cancelled", "not counted as given up"
    record = wiring.records().get_delivery(hook["id"], delivery_id)
    assert record["status"] == "failed" and "deleted" in record["attempts"][0]["error"]


def test_deliveries_page_newest_first(api, receivers):
    hook = create_webhook(api, receivers().url, events=["job.failed"])
    ids = [raise_event(api.account_id, f"call_{n}")[0] for n in range(3)]
    wait_settled(api, hook["id"], count=3)
    status, page = api.get(f"/dev/list-webhook-deliveries?webhookId={hook['id']}&limit=2")
    assert status == 200 and [d["id"] for d in page["deliveries"]] == ids[::-1][:2] and page["cursor"]
    status, rest = api.get(f"/dev/list-webhook-deliveries?webhookId={hook['id']}&limit=2&cursor={page['cursor']}")
    assert [d["id"] for d in rest["deliveries"]] == ids[:1] and rest["cursor"] is None
    assert_error(api.get(f"/dev/list-webhook-deliveries?webhookId={hook['id']}&cursor=bogus"), 400, "bad_request",
                 "cursor")


def test_the_connection_goes_to_the_vetted_address_and_names_the_host(receivers):
    from chalicelib.adapters.webhook_http import post
    from chalicelib.domain.webhooks import Target

    receiver = receivers(204)
    port = receiver.server.server_port
    answer = post(Target(scheme="http", host="receiver.example", port=port, path="/in", address="127.0.0.1"),
                  b"{}", {"content-type": "application/json"}, timeout=10)
    assert (answer.status, answer.error) == (204, None)
    assert receiver.got[0][1]["host"] == f"receiver.example:{port}", "no second lookup of the name"


def test_secrets_are_sealed_with_the_stacks_kms_key_on_aws(aws, api, receivers, monkeypatch):
    from chalicelib.adapters.secretbox import KmsSecretBox

    key_id = clients.client("kms").create_key(Description="webhook secrets")["KeyMetadata"]["KeyId"]
    set_env(monkeypatch, "KLYPH_WEBHOOK_KMS_KEY_ID", key_id)
    wiring.secret_box.cache_clear()
    box = wiring.secret_box()
    assert isinstance(box, KmsSecretBox)
    sealed = box.seal("whsec_abc", "wh_1")
    assert sealed.startswith("kms:") and box.open(sealed, "wh_1") == "whsec_abc"
    with pytest.raises(Exception, match="InvalidCiphertext"):
        box.open(sealed, "wh_2")  # the encryption context binds it to its webhook

    receiver = receivers()
    hook = create_webhook(api, receiver.url)
    assert wiring.records().get_webhook(hook["id"])["secretSealed"].startswith("kms:")
    raise_event(api.account_id)
    _, headers, body = receiver.wait_for(1)[0]
    assert Webhook(hook["secret"]).verify(body, headers)["type"] == "job.failed"
    wiring.secret_box.cache_clear()


# Whole jobs --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    from media_fixtures import make_video

    return make_video(tmp_path_factory.mktemp("hooks") / "short.mp4", seconds=12, width=320, height=180, audio=None)


def run_job(api, project, path, **options):
    status, video = api.upload(api.account_id, project["id"], "talk.mp4", path.read_bytes())
    assert status == 200, video
    status, body = api.post("/dev/process-video-submit", {"videoId": video["id"], **options})
    assert status == 200, body
    return api.wait_for_result(body["callId"])[1]


def latency(arrived: float, finished_at: str) -> float:
    return arrived - datetime.fromisoformat(finished_at).timestamp()


@pytest.mark.media
def test_succeeded_and_failed_jobs_reach_a_receiver_verified_with_standardwebhooks(
        api, project, short_video, receivers, monkeypatch):
    from chalicelib.errors import PipelineError
    from chalicelib.services import pipeline

    receiver = receivers()
    hook = create_webhook(api, receiver.url)
    verifier = Webhook(hook["secret"])

    result = run_job(api, project, short_video, maxClips=1, minDuration=5, maxDuration=8, aspectRatio="1:1")
    assert result["status"] == "succeeded", result
    got = receiver.wait_for(2)
    events = {verifier.verify(body, headers)["type"]: (arrived, verifier.verify(body, headers), body)
              for arrived, headers, body in got}
    assert set(events) == {"clip.ready", "job.succeeded"}
    arrived, succeeded, raw = events["job.succeeded"]
    [clip] = result["clips"]
    assert succeeded["data"] == {
        "callId": result["callId"], "videoId": result["videoId"], "status": "succeeded",
        "finishedAt": result["finishedAt"],
        "clips": [{"id": clip["id"], "title": clip["title"], "start_seconds": clip["start_seconds"],
                   "end_seconds": clip["end_seconds"], "status": "ready", "score": clip["score"],
                   "reason": clip["reason"]}]}
    assert b"http" not in raw, "no signed links: they would expire while deliveries are retried"
    assert events["clip.ready"][1]["data"]["clip"]["id"] == clip["id"]
    succeeded_latency = latency(arrived, result["finishedAt"])

    def no_clips(state):
        raise PipelineError("no_clips", "no clip of 5-8 s could be found in this video")

    monkeypatch.setattr(pipeline, "select", no_clips)
    failed = run_job(api, project, short_video, maxClips=1, minDuration=5, maxDuration=8)
    assert failed["status"] == "failed"
    arrived, headers, body = receiver.wait_for(3)[2]
    event = verifier.verify(body, headers)
    assert event["type"] == "job.failed" and event["data"]["callId"] == failed["callId"]
    assert event["data"]["error"] == failed["error"] and event["data"]["stage"] in failed["stages"]
    failed_latency = latency(arrived, failed["finishedAt"])
    print(f"\nwebhook latency after the job ended: succeeded {succeeded_latency * 1000:.0f} ms, "
          f"failed {failed_latency * 1000:.0f} ms")
    assert succeeded_latency < 5 and failed_latency < 5
    assert all(d["status"] == "delivered" for d in wait_settled(api, hook["id"], count=3))
