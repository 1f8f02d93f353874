"""Webhook rules without AWS: Standard Webhooks signatures checked by the ``standardwebhooks``
package as a receiver would, which targets a delivery may reach (the resolver injected: no DNS
here), the retry schedule, event validation and the local secret box."""
from __future__ import annotations

import base64
import json
import os
import stat
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from chalicelib.config import DEFAULT_WEBHOOK_RETRY_SECONDS
from chalicelib.domain import webhooks as rules
from chalicelib.errors import BadRequest
from chalicelib.models import CreateWebhook, parse


def signed_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": rules.signature(secret, msg_id, timestamp, body)}


def test_a_new_secret_follows_the_specification():
    secret = rules.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert rules.new_secret() != secret


def test_the_signature_verifies_with_the_standardwebhooks_package():
    secret = rules.new_secret()
    body = json.dumps({"type": "job.succeeded", "timestamp": "2026-01-01T00:00:00.000Z", "data": {"ü": 1}},
                      ensure_ascii=False).encode()
    headers = signed_headers(secret, "dlv_01TEST", body)
    assert Webhook(secret).verify(body, headers)["data"] == {"ü": 1}
    # The package's own signer agrees byte for byte.
    from datetime import UTC, datetime

    moment = int(headers["webhook-timestamp"])
    assert Webhook(secret).sign("dlv_01TEST", datetime.fromtimestamp(moment, UTC), body.decode()) == \
        headers["webhook-signature"]


@pytest.mark.parametrize("case", ["tampered body", "wrong secret", "other id", "stale timestamp"])
def test_receivers_reject_what_was_not_signed_so(case):
    secret, body = rules.new_secret(), b'{"type":"job.failed"}'
    headers = signed_headers(secret, "dlv_1", body, int(time.time()) - (600 if case == "stale timestamp" else 0))
    if case == "tampered body":
        body = b'{"type":"job.succeeded"}'
    if case == "other id":
        headers["webhook-id"] = "dlv_2"
    verifier = Webhook(rules.new_secret() if case == "wrong secret" else secret)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, headers)


def resolving(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolve


DNS = resolving({
    "hooks.example.com": ["93.184.216.34"],
    "v6.example.com": ["2606:4700::6810:84e5"],
    "private.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": ["93.184.216.34", "192.168.0.10"],
    "localhost": ["127.0.0.1", "::1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "nat64.example.com": ["64:ff9b::a9fe:a9fe"],  # 169.254.169.254 through NAT64
    "multicast.example.com": ["224.0.0.1"],
    "cgnat.example.com": ["100.64.0.1"],
})


@pytest.mark.parametrize("url,reason", [
    ("https://private.example.com/hook", "10.1.2.3"),
    ("https://10.0.0.8/hook", "10.0.0.8"),
    ("https://metadata.example.com/latest/meta-data", "169.254.169.254"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ("https://127.0.0.1:8443/hook", "127.0.0.1"),
    ("https://localhost/hook", "127.0.0.1"),
    ("https://[::1]/hook", "::1"),
    ("https://mixed.example.com/hook", "192.168.0.10"),
    ("https://mapped.example.com/hook", "::ffff:10.0.0.1"),
    ("https://nat64.example.com/hook", "64:ff9b::a9fe:a9fe"),
    ("https://multicast.example.com/hook", "224.0.0.1"),
    ("https://cgnat.example.com/hook", "100.64.0.1"),
    ("http://hooks.example.com/hook", "https://"),
    ("http://127.0.0.1:9000/hook", "https://"),
    ("ftp://hooks.example.com/hook", "https://"),
    ("https:///nohost", "https://"),
    ("https://nowhere.example.com/hook", "does not resolve"),
    ("https://user:pw@hooks.example.com/hook", "credentials"),
    ("https://hooks.example.com:99999/hook", "not a valid URL"),
])
def test_on_aws_only_https_to_public_addresses_gets_through(url, reason):
    with pytest.raises(rules.UnsafeTarget, match=reason.replace(".", r"\.").replace("[", r"\[")):
        rules.check_target(url, DNS, allow_local=False)


def test_a_public_https_target_is_pinned_to_the_address_checked():
    target = rules.check_target("https://hooks.example.com/in?x=1", DNS, allow_local=False)
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https", "hooks.example.com", 443, "/in?x=1", "93.184.216.34")
    assert rules.check_target("https://v6.example.com:8443", DNS, allow_local=False).address == "2606:4700::6810:84e5"


def test_the_local_stack_also_admits_loopback_receivers_and_nothing_else_private():
    for url in ("http://127.0.0.1:9000/hook", "http://[::1]:9000/hook", "https://localhost/hook"):
        assert rules.check_target(url, DNS, allow_local=True).host in ("127.0.0.1", "::1", "localhost")
    for url in ("http://hooks.example.com/hook", "http://private.example.com/hook",
                "https://metadata.example.com/", "http://mixed.example.com/"):
        with pytest.raises(rules.UnsafeTarget):
            rules.check_target(url, DNS, allow_local=True)


def test_the_retry_schedule_spans_more_than_a_day_on_aws_and_ends():
    schedule = tuple(int(s) for s in DEFAULT_WEBHOOK_RETRY_SECONDS.split(","))
    assert sum(schedule) > 24 * 3600
    assert list(schedule) == sorted(schedule), "backoff never shortens"
    assert [rules.wait_before_retry(n, (1, 2, 4)) for n in range(1, 5)] == [1, 2, 4, None]


@pytest.mark.parametrize("events,mention", [
    (["job.done"], "job.done"), ([], "events"), (["clip.ready", 3], "events"), ("job.failed", "events"),
])
def test_unknown_or_malformed_events_are_a_bad_request_naming_events(events, mention):
    with pytest.raises(BadRequest, match="events") as err:
        parse(CreateWebhook, {"accountId": "acc_1", "url": "https://hooks.example.com", "events": events})
    assert mention in err.value.message


def test_events_default_to_all():
    assert parse(CreateWebhook, {"accountId": "acc_1", "url": "https://h.example.com"}).events is None


def test_the_local_secret_box_seals_with_a_private_key_file(tmp_path):
    from chalicelib.adapters.secretbox import FileSecretBox

    key_file = tmp_path / "data" / "webhook-secret.key"
    box = FileSecretBox(str(key_file))
    secret = rules.new_secret()
    sealed = box.seal(secret, "wh_1")
    assert secret not in sealed and secret[6:] not in sealed
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600 and key_file.stat().st_size == 32
    assert FileSecretBox(str(key_file)).open(sealed, "wh_1") == secret, "the key outlives the process"
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        box.open(sealed, "wh_2")  # sealed for another webhook
    with pytest.raises(ValueError, match=r"KMS|key file"):
        box.open("kms:AAAA", "wh_1")


def test_the_state_machine_reads_what_the_delivery_task_writes():
    from chalicelib.services.webhooks import DeliveryState
    from chalicelib.statemachine import DEFINITION_PATH

    states = json.loads(DEFINITION_PATH.read_text())["States"]
    pending = DeliveryState(id="dlv_1", webhookId="wh_1", accountId="acc_1", attempts=1, waitSeconds=30).wire()
    assert pending["delivery"]["waitSeconds"] == 30 and states["WaitBeforeRedelivery"]["SecondsPath"] == \
        "$.delivery.waitSeconds"
    outcomes = {c["StringEquals"]: c["Next"] for c in states["Delivered?"]["Choices"]}
    assert outcomes == {"delivered": "Delivered", "pending": "WaitBeforeRedelivery"}
    assert states["Delivered?"]["Default"] == "DeliveryGaveUp"
    assert all(c["Variable"] == "$.delivery.status" for c in states["Delivered?"]["Choices"])
    assert DeliveryState.model_validate(pending["delivery"]).status == "pending"
    # Deliveries are told apart from jobs by the execution's name: dlv_<ULID> against call_<ULID>.
    from chalicelib.domain.ids import new_id

    route = next(c for c in states["Route"]["Choices"] if c["Next"] == "DeliverWebhook")
    assert new_id("delivery").startswith(route["StringMatches"].rstrip("*"))
    assert not new_id("call").startswith(route["StringMatches"].rstrip("*"))


def test_https_connects_to_the_vetted_address_and_checks_the_certificate_for_the_name(monkeypatch):
    from chalicelib.adapters import webhook_http

    connected, wrapped = [], []

    class Context:
        verify_mode, check_hostname, post_handshake_auth = 2, True, None  # ssl.CERT_REQUIRED

        def wrap_socket(self, sock, server_hostname=None):
            wrapped.append(server_hostname)
            return sock

    monkeypatch.setattr(webhook_http.socket, "create_connection", lambda addr, timeout: connected.append(addr))
    target = rules.Target(scheme="https", host="hooks.example.com", port=8443, path="/", address="93.184.216.34")
    webhook_http._PinnedHTTPSConnection(target, 10, Context()).connect()  # type: ignore[arg-type]
    assert connected == [("93.184.216.34", 8443)] and wrapped == ["hooks.example.com"]


def test_raising_an_event_never_fails_the_task(monkeypatch):
    import fakes
    from chalicelib.services import webhooks

    class Broken(fakes.FakeRecords):
        def list_webhooks(self, account_id):
            return [{"id": "wh_1", "accountId": account_id, "events": list(rules.EVENT_TYPES)}]

        def put_delivery(self, delivery):
            raise RuntimeError("DynamoDB is down")

    fakes.install(monkeypatch, records=Broken())
    webhooks.clip_ready("acc_1", None)  # type: ignore[arg-type]  # the data cannot even be made
    webhooks.job_failed("acc_1", "call_1", "vid_1", {"code": "x", "message": "y"}, "rendering")
    assert webhooks.emit("acc_1", "job.failed", lambda: None) == []  # type: ignore[arg-type, return-value]
