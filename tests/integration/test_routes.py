"""The HTTP routes as a user meets them (Chalice's test client on moto): status codes, the
{"error", "message"} body, auth and workspace isolation, uploads by multipart and presigned PUT."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from media_fixtures import make_audio_only, make_video
from support import Api

UNKNOWN_VIDEO = "vid_01J0000000000000000000000Z"
UNKNOWN_CALL = "call_01J0000000000000000000000Z"


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """Tiny media, made once: ~2-3 s at 320x180 in every accepted container, and rejects."""
    root = tmp_path_factory.mktemp("route-media")
    make_video(root / "clip.mp4", seconds=3, width=320, height=180)
    make_video(root / "clip.mov", seconds=2, width=320, height=180, container="mov")
    make_video(root / "clip.mkv", seconds=2, width=320, height=180, container="mkv")
    make_video(root / "clip.webm", seconds=2, width=320, height=180, container="webm")
    make_video(root / "silent.mp4", seconds=6, width=320, height=180, audio=None)
    make_audio_only(root / "tone.m4a", 2)
    (root / "notes.txt").write_text("this is not a video\n" * 20)
    return root


def call(client, method: str, path: str, headers: dict | None = None, body: bytes | str = b""):
    """A raw request (no default key), for the auth cases."""
    resp = getattr(client.http, method)(path, headers=headers or {}, **({"body": body} if method == "post" else {}))
    return resp.status_code, json.loads(resp.body or b"null")


def assert_error(result, status: int, code: str, *mentions: str, case: object = None):
    """The contract's error: this status and code, and a message naming what was wrong."""
    got_status, body = result
    assert (got_status, (body or {}).get("error")) == (status, code), (case, got_status, body)
    assert set(body) == {"error", "message"} and body["message"], (case, body)
    for text in mentions:
        assert text in body["message"], (case, text, body)


def other_account(client) -> Api:
    from chalicelib.services import auth

    account_id, key = auth.create_workspace(name="other")
    api = Api(client, key)
    api.account_id = account_id
    return api


def upload(api: Api, project: dict, path: Path, filename: str | None = None):
    return api.upload(api.account_id, project["id"], filename or path.name, path.read_bytes())


def uploaded_video(api: Api, project: dict, path: Path) -> dict:
    status, body = upload(api, project, path)
    assert status == 200, body
    return body


def s3_keys(account_id: str) -> list[str]:
    from chalicelib import clients
    from chalicelib.config import settings

    listing = clients.s3().list_objects_v2(Bucket=settings().bucket, Prefix=f"accounts/{account_id}/")
    return [o["Key"] for o in listing.get("Contents", [])]


def video_records(account_id: str) -> list[dict]:
    # Videos are keyed by id alone; a test-only scan is the way to see a stray record.
    from chalicelib.adapters.dynamo import deserialize
    from chalicelib.services import wiring

    table = wiring.records().table
    items = table._client.scan(TableName=table.name)["Items"]
    return [v for v in map(deserialize, items) if v["sk"] == "VIDEO" and v.get("accountId") == account_id]


def create_upload(api: Api, project: dict, **fields):
    body = {"accountId": api.account_id, "projectId": project["id"], "filename": "talk.mp4", "sizeBytes": 1000}
    return api.post("/dev/create-upload", {**body, **fields})


def summary(api: Api, video_id: str) -> dict:
    status, body = api.get(f"/dev/video-summary?videoId={video_id}")
    assert status == 200, body
    return body


# health and unknown routes


def test_health_answers_without_a_key(client):
    assert call(client, "get", "/health") == (200, {"status": "ok"})


def test_a_wrong_method_answers_in_the_error_shape(api):
    assert_error(api.get("/dev/create-project"), 405, "bad_request", "GET")


def test_an_unsupported_content_type_answers_in_the_error_shape(api):
    result = api.post("/dev/create-project", "<name/>", headers={"Content-Type": "application/xml"})
    assert_error(result, 400, "bad_request", "Content-Type")


# auth


def test_a_request_without_a_key_is_unauthorized(client, workspace):
    assert_error(call(client, "get", "/dev/list-clips?videoId=vid_1"), 401, "unauthorized", "API key")
    body = json.dumps({"name": "x", "accountId": "acc_1"})
    result = call(client, "post", "/dev/create-project", {"Content-Type": "application/json"}, body)
    assert_error(result, 401, "unauthorized")


def test_a_wrong_key_is_unauthorized(client, workspace):
    _, real_key = workspace
    for headers in (
        {"Authorization": "Bearer klyph_sk_not-a-real-key"},
        {"Authorization": "Bearer " + "k" * 5000},
        {"Authorization": "Bearer "},
        {"Authorization": real_key},  # without the Bearer scheme it is not a key
        {"x-api-key": "klyph_sk_not-a-real-key"},
    ):
        result = call(client, "get", f"/dev/video-summary?videoId={UNKNOWN_VIDEO}", headers)
        assert_error(result, 401, "unauthorized", case=headers)


def test_the_x_api_key_header_is_accepted(client, api, project):
    headers = {"x-api-key": api.key, "Content-Type": "application/json"}
    body = json.dumps({"name": "Via Header", "accountId": api.account_id})
    status, created = call(client, "post", "/dev/create-project", headers, body)
    assert status == 200 and created["slug"] == "via-header", created


def test_a_revoked_key_is_unauthorized(api):
    from chalicelib.services import auth

    auth.revoke_key(api.key)
    assert_error(api.post("/dev/create-project", {"name": "x", "accountId": api.account_id}), 401, "unauthorized")


@pytest.mark.media
def test_another_workspace_sees_none_of_a_workspaces_ids(client, api, project, media):
    from chalicelib.services import wiring

    video = uploaded_video(api, project, media / "clip.mp4")
    # A's call record written directly: the ownership check needs the record, not a pipeline run.
    job = {"callId": "call_01J00000000000000000000AAA"}
    wiring.records().put_call(
        {"id": job["callId"], "accountId": api.account_id, "videoId": video["id"], "status": "running",
         "stage": "queued", "createdAt": "2025-01-01T00:00:00.000Z"}
    )
    assert api.get(f"/dev/process-video-result?callId={job['callId']}")[0] == 202
    b = other_account(client)
    data = (media / "clip.mp4").read_bytes()
    # A's project, with B's own account id and with A's account id alike.
    assert_error(b.upload(b.account_id, project["id"], "x.mp4", data), 404, "not_found", project["id"])
    assert_error(b.upload(api.account_id, project["id"], "x.mp4", data), 404, "not_found")
    assert_error(b.get(f"/dev/list-clips?videoId={video['id']}"), 404, "not_found", video["id"])
    assert_error(b.get(f"/dev/video-summary?videoId={video['id']}"), 404, "not_found", video["id"])
    assert_error(b.post("/dev/process-video-submit", {"videoId": video["id"]}), 404, "not_found", video["id"])
    assert_error(b.get(f"/dev/process-video-result?callId={job['callId']}"), 404, "not_found", job["callId"])
    assert_error(create_upload(b, project), 404, "not_found", project["id"])
    assert_error(create_upload(b, project, accountId=api.account_id), 404, "not_found")
    assert s3_keys(b.account_id) == [] and video_records(b.account_id) == []
    # ...while A still sees its own.
    assert api.get(f"/dev/video-summary?videoId={video['id']}")[0] == 200


def test_creating_a_project_in_another_account_is_not_found_and_creates_nothing(client, api):
    from chalicelib.services import wiring

    b = other_account(client)
    assert_error(b.post("/dev/create-project", {"name": "Sneaky", "accountId": api.account_id}), 404, "not_found")
    table = wiring.records().table
    for account in (api.account_id, b.account_id):
        assert table.query(f"ACCOUNT#{account}", "PROJECT#") == []
        assert table.query(f"ACCOUNT#{account}", "SLUG") == []  # neither a slug nor its counter


# create-project


def test_create_project_returns_the_project(api):
    status, body = api.post("/dev/create-project", {"name": "Fall Interviews", "accountId": api.account_id})
    assert status == 200, body
    assert body["id"].startswith("proj_") and body["slug"] == "fall-interviews"
    assert (body["name"], body["accountId"]) == ("Fall Interviews", api.account_id)
    created = datetime.fromisoformat(body["createdAt"])
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


def test_project_slugs_are_unique_per_account(client, api):
    def slug(a, name):
        status, body = a.post("/dev/create-project", {"name": name, "accountId": a.account_id})
        assert status == 200, body
        return body["slug"]

    # "Talk 2" owns "talk-2" first, so the second "Talk" must skip it.
    assert [slug(api, n) for n in ("Talk 2", "Talk", "talk!", "Café Ünïcode")] == [
        "talk-2", "talk", "talk-3", "cafe-unicode"
    ]
    b = other_account(client)
    assert slug(b, "Talk") == "talk"  # unique per account, not globally


def test_concurrent_creates_of_one_name_get_distinct_slugs(api):
    from chalicelib.models import CreateProject
    from chalicelib.services import projects

    req = CreateProject(name="Launch Day", accountId=api.account_id)
    slugs, errors = [], []
    barrier = threading.Barrier(30)

    def create():
        try:
            barrier.wait()
            slugs.append(projects.create_project(api.account_id, req).slug)
        except Exception as exc:  # noqa: BLE001 - surfaced below; a thread's exception would vanish otherwise
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    # Each its own slug. (Numbers come from an atomic counter: an update retried by the SDK after
    # a timeout on a loaded machine counts twice, so a number may be skipped, never repeated.)
    assert len(slugs) == len(set(slugs)) == 30 and "launch-day" in slugs
    assert all(s == "launch-day" or (s.startswith("launch-day-") and s[11:].isdigit()) for s in slugs)


def test_create_project_rejects_a_bad_body_naming_the_problem(api):
    for raw, mentions in (
        ('{"name": "x", ', "not valid JSON"),
        (b'{"name": "\xff"}', "not valid JSON"),
        ("", "empty"),
        ("[]", "JSON object"),
        ('"Fall Interviews"', "JSON object"),
        ("{}", "name"),
        ('{"accountId": "%s"}', "name: is required"),
        ('{"name": "   ", "accountId": "%s"}', "name"),
        ('{"name": "' + "x" * 201 + '", "accountId": "%s"}', "name"),
        ('{"name": "x", "accountId": "%s", "color": "red"}', "color: unknown field"),
        ('{"name": "x"}', "accountId: is required"),
    ):
        body = raw.replace("%s", api.account_id) if isinstance(raw, str) else raw
        assert_error(api.post("/dev/create-project", body), 400, "bad_request", mentions, case=raw)
    assert api.get("/health")[0] == 200  # and none of it broke the service


def test_a_deeply_nested_body_is_a_bad_request_not_a_server_error(api):
    assert_error(api.post("/dev/create-project", "[" * 100_000 + "]" * 100_000), 400, "bad_request")


def test_a_project_name_keeps_no_control_characters(api):
    status, body = api.post("/dev/create-project", {"name": "Fall\x00 Talks\x1b[31m", "accountId": api.account_id})
    assert status == 400 or (status == 200 and body["name"].isprintable()), body


# upload-video (multipart)


@pytest.mark.media
def test_upload_video_stores_an_mp4_and_describes_it(api, project, media):
    status, video = upload(api, project, media / "clip.mp4", "Fall Interview_01.mp4")
    assert status == 200, video
    assert video["id"].startswith("vid_") and video["status"] == "uploaded"
    assert (video["container"], video["width"], video["height"], video["hasAudio"]) == ("mp4", 320, 180, True)
    assert video["durationSeconds"] == pytest.approx(3.0, abs=0.1)
    assert (video["title"], video["projectId"]) == ("Fall Interview 01", project["id"])
    assert s3_keys(api.account_id) == [f"accounts/{api.account_id}/videos/{video['id']}/source"]
    assert api.get(f"/dev/list-clips?videoId={video['id']}") == (200, {"clips": []})
    seen = summary(api, video["id"])
    # The seed's fields, exactly; extra fields are allowed.
    assert {k: seen["video"][k] for k in ("id", "title", "status")} == {
        "id": video["id"], "title": "Fall Interview 01", "status": "uploaded"}
    assert seen["counts"] == {"total": 0, "ready": 0, "draft": 0, "failed": 0}


@pytest.mark.media
def test_upload_video_judges_the_container_by_content(api, project, media):
    for source, filename, container in (
        ("clip.mov", "clip.mov", "mov"),
        ("clip.webm", "clip.webm", "webm"),
        ("clip.mkv", "clip.mkv", "mkv"),
        ("clip.mkv", "actually-matroska.mp4", "mkv"),  # the name says mp4, the bytes say matroska
        ("clip.webm", "clip", "webm"),
    ):
        status, video = upload(api, project, media / source, filename)
        assert status == 200, (filename, video)
        got = (video["status"], video["container"], video["width"], video["height"], video["hasAudio"])
        assert got == ("uploaded", container, 320, 180, True), (filename, video)


@pytest.mark.media
def test_upload_video_titles_a_hostile_filename_safely(api, project, media):
    status, video = upload(api, project, media / "clip.mp4", "../../etc/pass\x1bwd.mp4")
    assert status == 200, video
    assert video["title"] == "passwd"


@pytest.mark.media
def test_upload_video_rejects_what_is_not_a_video_and_keeps_nothing(api, project, media):
    for source, filename, mentions in (
        ("notes.txt", "interview.mp4", "not a video"),
        ("tone.m4a", "podcast.mp4", "no video stream"),
        ("tone.m4a", "podcast.m4a", "no video stream"),
        (None, "empty.mp4", "empty"),
    ):
        data = (media / source).read_bytes() if source else b""
        result = api.upload(api.account_id, project["id"], filename, data)
        assert_error(result, 400, "bad_request", mentions, case=filename)
        assert s3_keys(api.account_id) == [] and video_records(api.account_id) == [], filename


@pytest.mark.media
def test_upload_video_over_the_multipart_limit_points_to_create_upload(api, project, media, monkeypatch):
    from chalicelib.config import settings

    monkeypatch.setenv("KLYPH_MAX_MULTIPART_BYTES", "10000")
    settings.cache_clear()  # the aws fixture's teardown clears it again for the next test
    result = upload(api, project, media / "clip.mp4")
    assert_error(result, 400, "bad_request", "file", "create-upload")
    assert s3_keys(api.account_id) == []


def test_upload_video_without_a_file_field_names_it(api, project):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="account_id"\r\n\r\n{api.account_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="project_id"\r\n\r\n{project["id"]}\r\n'
        f"--{boundary}--\r\n"
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    result = api.post("/dev/upload-video", body, headers=headers)
    assert_error(result, 400, "bad_request", "file")


def test_upload_video_without_a_boundary_is_a_bad_request(api):
    result = api.post("/dev/upload-video", "x", headers={"Content-Type": "multipart/form-data"})
    assert_error(result, 400, "bad_request", "boundary")


@pytest.mark.media
def test_upload_video_names_a_missing_form_field(api, project, media):
    data = (media / "clip.mp4").read_bytes()
    result = api.upload(api.account_id, "", "a.mp4", data)  # project_id sent empty
    assert_error(result, 400, "bad_request", "project_id")
    assert s3_keys(api.account_id) == []


@pytest.mark.media
def test_upload_video_to_an_unknown_project_is_not_found(api, media):
    result = api.upload(api.account_id, "proj_01J0000000000000000000000Z", "a.mp4", (media / "clip.mp4").read_bytes())
    assert_error(result, 404, "not_found", "proj_01J0000000000000000000000Z")


# create-upload + presigned PUT + S3 trigger


def test_create_upload_hands_out_a_presigned_put(api, project):
    status, body = create_upload(api, project, filename="My Talk.mp4", sizeBytes=123456)
    assert status == 200, body
    assert body["videoId"].startswith("vid_") and body["method"] == "PUT"
    assert body["uploadUrl"].startswith("http") and "X-Amz-Signature=" in body["uploadUrl"]
    assert body["videoId"] in body["uploadUrl"]
    expires = datetime.fromisoformat(body["expiresAt"])
    # Upload links are shorter-lived than the 1-hour preview links, and the URL itself says so.
    assert timedelta(minutes=1) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert "X-Amz-Expires=900" in body["uploadUrl"]
    assert summary(api, body["videoId"])["video"] == {"id": body["videoId"], "title": "My Talk", "status": "uploading"}


@pytest.mark.media
def test_a_put_to_the_presigned_url_marks_the_video_uploaded(api, project, media):
    data = (media / "clip.mp4").read_bytes()
    status, body = create_upload(api, project, sizeBytes=len(data))
    assert status == 200, body
    # moto intercepts requests inside mock_aws, and its S3 fires the bucket notification,
    # which runs app.py's upload_trigger in process.
    assert requests.put(body["uploadUrl"], data=data, timeout=30).status_code == 200
    assert summary(api, body["videoId"]) == {
        "video": {"id": body["videoId"], "title": "talk", "status": "uploaded"},
        "counts": {"total": 0, "ready": 0, "draft": 0, "failed": 0},
    }
    assert api.get(f"/dev/list-clips?videoId={body['videoId']}") == (200, {"clips": []})


@pytest.mark.media
def test_a_put_of_a_text_file_fails_the_video_with_the_reason(api, project, media):
    text = (media / "notes.txt").read_bytes()
    status, body = create_upload(api, project, sizeBytes=len(text))
    assert status == 200, body
    assert requests.put(body["uploadUrl"], data=text, timeout=30).status_code == 200
    video = summary(api, body["videoId"])["video"]
    assert video["status"] == "failed"
    assert video["error"]["code"] == "not_a_video" and "not a video" in video["error"]["message"]
    # Submitting it explains why it cannot run rather than starting a doomed job.
    result = api.post("/dev/process-video-submit", {"videoId": body["videoId"]})
    assert_error(result, 400, "bad_request", "videoId", "not a video")


@pytest.mark.media
def test_a_corrected_put_after_a_failed_one_is_picked_up_and_the_old_error_goes(api, project, media):
    data = (media / "clip.mp4").read_bytes()
    status, body = create_upload(api, project, sizeBytes=len(data))
    assert status == 200, body
    assert requests.put(body["uploadUrl"], data=b"x" * len(data), timeout=30).status_code == 200
    assert summary(api, body["videoId"])["video"]["error"]["code"] == "not_a_video"
    assert requests.put(body["uploadUrl"], data=data, timeout=30).status_code == 200
    # One true thing: uploaded, with no verdict of the first attempt still attached.
    assert summary(api, body["videoId"])["video"] == {"id": body["videoId"], "title": "talk", "status": "uploaded"}


@pytest.mark.media
def test_the_declared_size_is_part_of_the_upload_url_and_is_checked(api, project, media):
    data = (media / "clip.mp4").read_bytes()
    status, body = create_upload(api, project, sizeBytes=10)
    assert status == 200, body
    # On AWS S3 itself refuses another size: Content-Length is signed into the URL.
    assert "content-length" in body["uploadUrl"].split("X-Amz-SignedHeaders=")[1].split("&")[0]
    # The stand-in does not check signatures; the upload probe does check the size.
    assert requests.put(body["uploadUrl"], data=data, timeout=30).status_code == 200
    video = summary(api, body["videoId"])["video"]
    assert video["status"] == "failed" and video["error"]["code"] == "size_mismatch"
    assert f"{len(data)} bytes" in video["error"]["message"] and "sizeBytes 10" in video["error"]["message"]


@pytest.mark.media
def test_an_accepted_source_cannot_be_replaced_through_its_upload_url(api, project, media):
    from chalicelib import clients
    from chalicelib.services import wiring

    data = (media / "silent.mp4").read_bytes()
    status, body = create_upload(api, project, sizeBytes=len(data))
    assert status == 200, body
    assert requests.put(body["uploadUrl"], data=data, timeout=30).status_code == 200
    accepted = wiring.records().get_video(body["videoId"])
    assert accepted["status"] == "uploaded" and accepted["sourceVersionId"]

    # The URL is still valid: a second write, of a text file, goes to the same key.
    assert requests.put(body["uploadUrl"], data=b"not a video at all", timeout=30).status_code == 200
    after = wiring.records().get_video(body["videoId"])
    assert after == accepted, "the record still describes the accepted source"
    key, s3 = accepted["sourceKey"], clients.s3()
    assert s3.get_object(Bucket=wiring.blobs().bucket, Key=key)["Body"].read() == data, "the late write was undone"
    versions = s3.list_object_versions(Bucket=wiring.blobs().bucket, Prefix=key).get("Versions", [])
    assert [v["VersionId"] for v in versions] == [accepted["sourceVersionId"]]

    # And what is processed is the accepted video.
    status, submitted = api.post("/dev/process-video-submit",
                                 {"videoId": body["videoId"], "maxClips": 1, "minDuration": 5, "maxDuration": 6,
                                  "reframe": "center"})
    assert status == 200, submitted
    result = api.wait_for_result(submitted["callId"])[1]
    assert result["status"] == "succeeded" and [c["status"] for c in result["clips"]] == ["ready"], result


def test_submitting_a_video_still_uploading_is_a_bad_request(api, project):
    status, body = create_upload(api, project)
    assert status == 200, body
    assert_error(api.post("/dev/process-video-submit", {"videoId": body["videoId"]}), 400, "bad_request", "uploading")


def test_create_upload_rejects_bad_fields_naming_them(api, project):
    for fields, mentions in (
        ({"sizeBytes": 6 * 1024**3}, "over the upload limit"),  # the default limit is 5 GiB
        ({"sizeBytes": "12"}, "sizeBytes"),
        ({"sizeBytes": 0}, "sizeBytes"),
        ({"sizeBytes": 1.5}, "sizeBytes"),
        ({"filename": ""}, "filename"),
        ({"projectId": "../x"}, "projectId"),
    ):
        assert_error(create_upload(api, project, **fields), 400, "bad_request", mentions, case=fields)
    assert video_records(api.account_id) == []


# process-video-submit and process-video-result


@pytest.mark.media
def test_submit_returns_a_call_id_that_polls_as_running_or_done(api, project, media):
    video = uploaded_video(api, project, media / "silent.mp4")
    status, job = api.post(
        "/dev/process-video-submit",
        {"videoId": video["id"], "maxClips": 1, "minDuration": 5, "maxDuration": 6, "aspectRatio": "1:1"},
    )
    assert status == 200 and job["callId"].startswith("call_"), job
    status, polled = api.get(f"/dev/process-video-result?callId={job['callId']}")
    assert status in (200, 202), polled
    assert (polled["callId"], polled["videoId"]) == (job["callId"], video["id"])
    assert polled["status"] in (("running",) if status == 202 else ("succeeded", "failed")), polled
    # A silent 6 s video has no speech to transcribe, so the job settles in about a second;
    # waiting keeps its background thread from outliving the moto fixture.
    api.wait_for_result(job["callId"], timeout=60)


def test_submit_for_an_unknown_video_is_not_found(api):
    assert_error(api.post("/dev/process-video-submit", {"videoId": UNKNOWN_VIDEO}), 404, "not_found", UNKNOWN_VIDEO)
    assert_error(api.post("/dev/process-video-submit", {"videoId": "not-an-id"}), 404, "not_found")


def test_submit_rejects_bad_options_naming_the_field(api):
    # Options are checked before the video is looked up, so an unknown id still gets the 400.
    for fields, mentions in (
        ({"maxDuration": 500}, "maxDuration"),
        ({"maxClips": "3"}, "maxClips"),
        ({"maxClips": 0}, "maxClips"),
        ({"maxclips": 3}, "maxclips: unknown field"),
        ({"aspectRatio": "4:3"}, "aspectRatio"),
        ({"minDuration": 50, "maxDuration": 40}, "minDuration"),
        ({"customInstructions": "x" * 4001}, "customInstructions"),
        ({"language": "xx"}, "language: 'xx' is not a language code"),
        ({"language": "english"}, "language"),
        ({"language": 7}, "language"),
        ({"captionStyle": "fancy"}, "captionStyle.preset"),
        ({"captionStyle": {"wordsPerLine": 5}}, "captionStyle.wordsPerLine"),
        ({"captionStyle": {"wordsPerLine": 0}}, "captionStyle.wordsPerLine"),
        ({"captionStyle": {"position": "left"}}, "captionStyle.position"),
        ({"captionStyle": {"primaryColor": "red"}}, "captionStyle.primaryColor"),
        ({"captionStyle": {"highlightColor": "#FFE00"}}, "captionStyle.highlightColor"),
        ({"captionStyle": {"fontScale": 3}}, "captionStyle.fontScale"),
        ({"captionStyle": {"uppercase": "yes"}}, "captionStyle.uppercase"),
        ({"captionStyle": {"hook": 1}}, "captionStyle.hook"),
        ({"captionStyle": {"colour": "#FFFFFF"}}, "captionStyle.colour: unknown field"),
    ):
        result = api.post("/dev/process-video-submit", {"videoId": UNKNOWN_VIDEO, **fields})
        assert_error(result, 400, "bad_request", mentions, case=fields)
    # Python's json accepts the non-standard NaN/Infinity literals; the model must still refuse them.
    raw = f'{{"videoId": "{UNKNOWN_VIDEO}", "minDuration": NaN, "maxDuration": Infinity}}'
    assert_error(api.post("/dev/process-video-submit", raw), 400, "bad_request", "minDuration")


def test_submit_refuses_a_language_the_configured_transcriber_cannot_do(api, monkeypatch):
    from chalicelib.config import settings

    # Locally Whisper base has no Cantonese token; Amazon Transcribe has no Latin, but Cantonese.
    assert_error(api.post("/dev/process-video-submit", {"videoId": UNKNOWN_VIDEO, "language": "yue"}),
                 400, "bad_request", "language: Cantonese (yue) is not a language the local Whisper model")
    monkeypatch.setenv("KLYPH_TRANSCRIBER", "aws")
    settings.cache_clear()
    try:
        assert_error(api.post("/dev/process-video-submit", {"videoId": UNKNOWN_VIDEO, "language": "la"}),
                     400, "bad_request", "language: Latin (la) is not a language Amazon Transcribe transcribes")
        # A language both can do passes the option checks and reaches the video lookup.
        assert_error(api.post("/dev/process-video-submit", {"videoId": UNKNOWN_VIDEO, "language": "yue"}),
                     404, "not_found", UNKNOWN_VIDEO)
    finally:
        monkeypatch.delenv("KLYPH_TRANSCRIBER")
        settings.cache_clear()


@pytest.mark.media
def test_submit_of_a_video_shorter_than_min_duration_explains(api, project, media):
    video = uploaded_video(api, project, media / "clip.mov")  # 2 s against the default minDuration 30
    assert_error(api.post("/dev/process-video-submit", {"videoId": video["id"]}), 400, "bad_request", "minDuration")
    assert summary(api, video["id"])["video"]["status"] == "uploaded"  # nothing was started


def test_result_of_an_unknown_call_is_not_found(api):
    assert_error(api.get(f"/dev/process-video-result?callId={UNKNOWN_CALL}"), 404, "not_found", UNKNOWN_CALL)
    assert_error(api.get("/dev/process-video-result?callId=../../x"), 404, "not_found")


def test_result_without_a_call_id_names_it(api):
    for path in ("/dev/process-video-result", "/dev/process-video-result?callId=", "/dev/process-video-result?id=x"):
        assert_error(api.get(path), 400, "bad_request", "callId", case=path)


def test_video_views_need_a_known_video_id(api):
    for route in ("list-clips", "video-summary"):
        assert_error(api.get(f"/dev/{route}"), 400, "bad_request", "videoId", case=route)
        assert_error(api.get(f"/dev/{route}?videoId={UNKNOWN_VIDEO}"), 404, "not_found", UNKNOWN_VIDEO, case=route)


# the dashboard's page and assets, and the account its key belongs to


def test_get_account_names_the_keys_workspace(client, api):
    status, body = api.get("/dev/get-account")
    assert status == 200 and body["accountId"] == api.account_id and body["name"]
    assert client.http.get("/dev/get-account").status_code == 401


def test_dashboard_assets_have_their_type_a_strict_csp_and_revalidate(client):
    from chalicelib.config import settings

    page = client.http.get("/app")
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    # Media only from the bucket's own path on S3 (no endpoint configured here: AWS's URLs).
    assert f"media-src 'self' https://s3.amazonaws.com/{settings().bucket}/ " in csp
    assert "<script type=\"module\" src=\"app/app.js\">" in page.body.decode() and "onclick" not in page.body.decode()
    script = client.http.get("/app/app.js")
    assert script.headers["Content-Type"].startswith("text/javascript") and "Content-Security-Policy" in script.headers
    style = client.http.get("/app/style.css")
    assert style.headers["Content-Type"].startswith("text/css") and style.headers["Cache-Control"] == "no-cache"
    again = client.http.get("/app/style.css", headers={"If-None-Match": style.headers["ETag"]})
    assert again.status_code == 304 and not again.body
    missing = client.http.get("/app/secrets.py")
    assert missing.status_code == 404 and json.loads(missing.body)["error"] == "not_found"
