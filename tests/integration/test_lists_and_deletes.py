"""list-projects and list-videos (newest first, cursor pages), delete-video and delete-project,
through the routes on moto."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests
from test_routes import assert_error, other_account

from media_fixtures import make_video
from support import Api


@pytest.fixture(scope="module")
def small_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("list-media") / "small.mp4"
    make_video(path, seconds=2, width=320, height=180)
    return path


def new_project(api: Api, name: str) -> dict:
    status, body = api.post("/dev/create-project", {"name": name, "accountId": api.account_id})
    assert status == 200, body
    return body


def multipart(api: Api, project: dict, path: Path, name: str = "talk.mp4") -> dict:
    status, body = api.upload(api.account_id, project["id"], name, path.read_bytes())
    assert status == 200, body
    return body


def presigned(api: Api, project: dict, path: Path) -> dict:
    data = path.read_bytes()
    status, ticket = api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project["id"],
                                                     "filename": "big.mp4", "sizeBytes": len(data)})
    assert status == 200, ticket
    assert requests.put(ticket["uploadUrl"], data=data, timeout=30).status_code == 200
    return ticket["video"]


def walk(api: Api, path: str, field: str, limit: int | None = None) -> list[list[dict]]:
    """Every page of a listing, following cursors to the end."""
    pages, cursor = [], None
    while True:
        query = path + (f"&limit={limit}" if limit else "") + (f"&cursor={cursor}" if cursor else "")
        status, body = api.get(query)
        assert status == 200, body
        pages.append(body[field])
        cursor = body["cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


def object_versions(account_id: str, video_id: str) -> list[str]:
    from chalicelib import clients
    from chalicelib.config import settings

    found = []
    for prefix in (f"accounts/{account_id}/videos/{video_id}/", f"work/{account_id}/{video_id}/"):
        listing = clients.s3().list_object_versions(Bucket=settings().bucket, Prefix=prefix)
        found += [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    return found


# list-projects


def test_list_projects_walks_every_project_newest_first_in_pages(api):
    created = [new_project(api, f"Project {n}")["id"] for n in range(120)]
    pages = walk(api, f"/dev/list-projects?accountId={api.account_id}", "projects", limit=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    listed = [p["id"] for page in pages for p in page]
    assert listed == created[::-1], "every project once, newest first, no gap"
    assert pages[0][0] == {"id": created[-1], "name": "Project 119", "slug": "project-119",
                           "accountId": api.account_id, "createdAt": pages[0][0]["createdAt"]}


def test_list_projects_defaults_to_pages_of_50_and_an_empty_account_lists_nothing(api):
    assert api.get(f"/dev/list-projects?accountId={api.account_id}") == (200, {"projects": [], "cursor": None})
    for n in range(51):
        new_project(api, f"P {n}")
    status, body = api.get(f"/dev/list-projects?accountId={api.account_id}")
    assert status == 200 and len(body["projects"]) == 50 and body["cursor"]
    status, rest = api.get(f"/dev/list-projects?accountId={api.account_id}&cursor={body['cursor']}")
    assert status == 200 and len(rest["projects"]) == 1 and rest["cursor"] is None


def test_limit_and_cursor_are_validated(api, project):
    base = f"/dev/list-projects?accountId={api.account_id}"
    for bad in ("0", "201", "-1", "abc", "1.5", ""):
        assert_error(api.get(f"{base}&limit={bad}"), 400, "bad_request", "limit", case=bad)
    new_project(api, "Second")
    status, body = api.get(f"{base}&limit=1")
    assert status == 200 and body["cursor"]
    good = body["cursor"]
    elsewhere = base64.urlsafe_b64encode(json.dumps({"pk": "ACCOUNT#acc_other", "sk": "PROJECT#proj_1"}).encode())
    not_a_project = base64.urlsafe_b64encode(
        json.dumps({"pk": f"ACCOUNT#{api.account_id}", "sk": "SLUG#second"}).encode())
    for bad in ("!!!", "e30", good[:-3], good + "AAAA", elsewhere.decode(), not_a_project.decode(), "x" * 2000):
        assert_error(api.get(f"{base}&cursor={bad}"), 400, "bad_request", "cursor", case=bad)
    # a list-projects cursor means nothing to list-videos
    assert_error(api.get(f"/dev/list-videos?projectId={project['id']}&cursor={good}"), 400, "bad_request", "cursor")
    assert_error(api.get("/dev/list-projects"), 400, "bad_request", "accountId")
    assert_error(api.get(f"{base}&limt=5"), 400, "bad_request", "limt")


def test_another_workspace_lists_nothing_of_this_one(api, client, project):
    other = other_account(client)
    assert_error(other.get(f"/dev/list-projects?accountId={api.account_id}"), 404, "not_found")
    assert_error(other.get(f"/dev/list-videos?projectId={project['id']}"), 404, "not_found")
    assert_error(other.post("/dev/delete-project", {"projectId": project["id"]}), 404, "not_found")
    assert other.get(f"/dev/list-projects?accountId={other.account_id}") == (200, {"projects": [], "cursor": None})
    assert api.get(f"/dev/list-projects?accountId={api.account_id}")[1]["projects"] == [project]


# list-videos


@pytest.mark.media
def test_list_videos_shows_both_upload_paths_newest_first(api, project, small_video):
    first = multipart(api, project, small_video, "first.mp4")
    second = presigned(api, project, small_video)
    third = multipart(api, project, small_video, "third.mp4")
    elsewhere = multipart(api, new_project(api, "Elsewhere"), small_video)
    pages = walk(api, f"/dev/list-videos?projectId={project['id']}", "videos", limit=2)
    listed = [v for page in pages for v in page]
    assert [v["id"] for v in listed] == [third["id"], second["id"], first["id"]]
    assert [len(p) for p in pages] == [2, 1]
    assert elsewhere["id"] not in {v["id"] for v in listed}
    by_id = {v["id"]: v for v in listed}
    assert by_id[second["id"]]["status"] == "uploaded" and by_id[second["id"]]["durationSeconds"]
    assert by_id[first["id"]] == first, "the list shows the video record as upload-video answered it"


def test_list_videos_of_an_unknown_project_is_404(api):
    assert_error(api.get("/dev/list-videos?projectId=proj_01J0000000000000000000000Z"), 404, "not_found")


# delete-video and delete-project


@pytest.mark.media
@pytest.mark.slow
def test_delete_video_removes_every_object_version_and_record(api, project, speech_video, small_video):
    video = multipart(api, project, speech_video)
    status, body = api.post("/dev/process-video-submit", {"videoId": video["id"], "maxClips": 1, "minDuration": 5,
                                                          "maxDuration": 8, "reframe": "center"})
    assert status == 200, body
    status, result = api.wait_for_result(body["callId"])
    assert result["status"] == "succeeded" and result["clips"], result
    kept = multipart(api, project, small_video, "kept.mp4")
    keys = object_versions(api.account_id, video["id"])
    assert any("/clips/" in k and k.endswith(".mp4") for k in keys) and any(k.endswith(".jpg") for k in keys)
    assert any(k.endswith(".srt") for k in keys) and any(k.startswith("work/") for k in keys), keys

    assert api.post("/dev/delete-video", {"videoId": video["id"]}) == (200, {"videoId": video["id"], "deleted": True})

    assert object_versions(api.account_id, video["id"]) == []
    assert object_versions(api.account_id, kept["id"]), "another video's objects stay"
    for path in (f"/dev/video-summary?videoId={video['id']}", f"/dev/list-clips?videoId={video['id']}",
                 f"/dev/process-video-result?callId={body['callId']}"):
        assert_error(api.get(path), 404, "not_found", case=path)
    assert_error(api.post("/dev/process-video-submit", {"videoId": video["id"]}), 404, "not_found")
    assert_error(api.post("/dev/delete-video", {"videoId": video["id"]}), 404, "not_found")
    listed = api.get(f"/dev/list-videos?projectId={project['id']}")[1]["videos"]
    assert [v["id"] for v in listed] == [kept["id"]]
    from chalicelib.services import wiring

    records = wiring.records()
    assert records.table.query(f"VIDEO#{video['id']}", "CLIP#") == [] and records.get_video(video["id"]) is None
    assert records.get_call(body["callId"]) is None


@pytest.mark.media
def test_delete_video_refuses_while_a_job_runs(api, project, small_video):
    from chalicelib.services import wiring

    video = multipart(api, project, small_video)
    wiring.records().start_job_on_video(video["id"], "call_01J0000000000000000000000A", "2024-01-01T00:00:00Z")
    assert_error(api.post("/dev/delete-video", {"videoId": video["id"]}), 400, "bad_request", "videoId", "processing")
    assert object_versions(api.account_id, video["id"]), "nothing was deleted"
    assert api.get(f"/dev/video-summary?videoId={video['id']}")[0] == 200


@pytest.mark.media
def test_a_video_being_deleted_starts_no_job(api, project, small_video):
    from chalicelib.services import wiring

    video = multipart(api, project, small_video)
    wiring.records().mark_video_deleting(video["id"], "2024-01-01T00:00:00Z")
    result = api.post("/dev/process-video-submit", {"videoId": video["id"], "minDuration": 5, "maxDuration": 10})
    assert result[0] == 400, result


def test_delete_video_of_another_workspace_or_unknown_is_404(api, client):
    other = other_account(client)
    project = new_project(other, "Theirs")
    status, ticket = other.post("/dev/create-upload", {"accountId": other.account_id, "projectId": project["id"],
                                                       "filename": "x.mp4", "sizeBytes": 10})
    assert status == 200, ticket
    assert_error(api.post("/dev/delete-video", {"videoId": ticket["videoId"]}), 404, "not_found")
    assert other.get(f"/dev/video-summary?videoId={ticket['videoId']}")[0] == 200
    assert_error(api.post("/dev/delete-video", {"videoId": "vid_01J0000000000000000000000Z"}), 404, "not_found")
    assert_error(api.post("/dev/delete-video", {}), 400, "bad_request", "videoId")


@pytest.mark.media
def test_delete_project_refuses_a_non_empty_one_and_deletes_an_empty_one(api, project, small_video):
    videos = [multipart(api, project, small_video), presigned(api, project, small_video)]
    assert_error(api.post("/dev/delete-project", {"projectId": project["id"]}), 400, "bad_request",
                 "projectId", "2 videos")
    for video in videos:
        assert api.post("/dev/delete-video", {"videoId": video["id"]})[0] == 200
    assert api.post("/dev/delete-project", {"projectId": project["id"]}) == (
        200, {"projectId": project["id"], "deleted": True})
    assert_error(api.post("/dev/delete-project", {"projectId": project["id"]}), 404, "not_found")
    assert_error(api.get(f"/dev/list-videos?projectId={project['id']}"), 404, "not_found")
    assert api.get(f"/dev/list-projects?accountId={api.account_id}") == (200, {"projects": [], "cursor": None})
    status, body = api.upload(api.account_id, project["id"], "late.mp4", small_video.read_bytes())
    assert status == 404, body
    # Slugs are not recycled: a new project of the same name gets the next one.
    assert new_project(api, project["name"])["slug"] == f"{project['slug']}-2"


def test_an_upload_racing_delete_project_never_lands_in_a_deleted_project(api, project, small_video, monkeypatch):
    """Both upload paths arrive in the instant between delete-project's check that the project
    is empty and its delete: they are refused (404), the delete goes through, and nothing is
    left behind: no video record, no listing item, no source bytes."""
    from chalicelib.adapters.records import Records
    from chalicelib.services import wiring

    raced: list[tuple[int, dict]] = []
    counting = Records.count_videos

    def count_while_uploads_arrive(self, project_id):
        held = counting(self, project_id)
        raced.append(api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project_id,
                                                     "filename": "racer.mp4", "sizeBytes": 1000}))
        raced.append(api.upload(api.account_id, project_id, "racer.mp4", small_video.read_bytes()))
        return held

    from chalicelib import clients
    from chalicelib.config import settings

    def stored() -> set[tuple[str, str]]:
        listing = clients.s3().list_object_versions(Bucket=settings().bucket, Prefix=f"accounts/{api.account_id}/")
        return {(v["Key"], v["VersionId"]) for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])}

    before = stored()
    monkeypatch.setattr(Records, "count_videos", count_while_uploads_arrive)
    assert api.post("/dev/delete-project", {"projectId": project["id"]})[0] == 200
    monkeypatch.setattr(Records, "count_videos", counting)
    assert len(raced) == 2
    for status, body in raced:
        assert status == 404 and "not found" in body["message"], body
    assert wiring.records().count_videos(project["id"]) == 0
    assert stored() == before  # the multipart upload's bytes went with its refusal


def test_a_delete_project_that_died_midway_does_not_close_the_project_for_good(api, project, small_video):
    from chalicelib.domain.clock import now_iso
    from chalicelib.services import wiring

    # Its flag set, the delete died before removing it: new videos wait out the flag only.
    wiring.records().start_deleting_project(api.account_id, project["id"], now_iso())
    assert api.upload(api.account_id, project["id"], "a.mp4", small_video.read_bytes())[0] == 404
    wiring.records().start_deleting_project(api.account_id, project["id"], now_iso(-61))
    assert api.upload(api.account_id, project["id"], "b.mp4", small_video.read_bytes())[0] == 200


@pytest.mark.media
def test_an_upload_url_used_after_its_video_was_deleted_leaves_nothing(api, project, small_video):
    data = small_video.read_bytes()
    status, ticket = api.post("/dev/create-upload", {"accountId": api.account_id, "projectId": project["id"],
                                                     "filename": "late.mp4", "sizeBytes": len(data)})
    assert status == 200, ticket
    assert api.post("/dev/delete-video", {"videoId": ticket["videoId"]})[0] == 200
    # The URL is still valid: what arrives through it is discarded, not kept as an orphan.
    assert requests.put(ticket["uploadUrl"], data=data, timeout=30).status_code == 200
    assert object_versions(api.account_id, ticket["videoId"]) == []
    assert api.get(f"/dev/video-summary?videoId={ticket['videoId']}")[0] == 404
