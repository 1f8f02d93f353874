"""Taking clips into an editor, through the real state machine (moto), ffmpeg and Whisper: every
export format parses back with OpenTimelineIO (or as subtitles) with the clip's in and out points
on the source's timecode, the crop where the format carries one, the captions where it allows."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from test_pipeline import run_job, upload
from test_routes import other_account

from chalicelib.domain.timeline import rate_of

pytestmark = [pytest.mark.media, pytest.mark.slow]

ADAPTERS = {"fcpxml": "fcpx_xml", "otio": "otio_json", "edl": "cmx_3600"}


def download(api, path):
    resp = api.client.http.get(path, headers=api.headers())
    return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.body.decode("utf-8")


def read_timeline(fmt: str, text: str, rate: float):
    import opentimelineio as otio

    extra = {"rate": rate} if fmt == "edl" else {}
    return otio.adapters.read_from_string(text, ADAPTERS[fmt], **extra)


def video_clips(timeline):
    import opentimelineio as otio

    track = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    return [c for c in track if isinstance(c, otio.schema.Clip)]


def srt_texts(text: str) -> list[str]:
    return [" ".join(block.splitlines()[2:]) for block in text.strip().split("\n\n")]


def test_each_export_format_parses_back_with_the_clips_in_and_out_points(api, project, speech_video, client):
    video = upload(api, project, speech_video, name="Interview take 3.mp4")
    status, result = run_job(api, video["id"], maxClips=2, minDuration=5, maxDuration=10)
    assert status == 200 and result["status"] == "succeeded", result
    clips = result["clips"]
    assert len(clips) == 2
    rate = rate_of(video["fps"])
    frame = 1 / rate
    first = clips[0]

    errors = []
    for fmt in ADAPTERS:
        status, headers, text = download(api, f"/dev/export-clip?clipId={first['id']}&format={fmt}")
        assert status == 200, text
        assert re.fullmatch(rf'attachment; filename="[a-z0-9-]+\.{fmt}"', headers["content-disposition"])
        timeline = read_timeline(fmt, text, rate)
        [clip] = video_clips(timeline)
        in_point = clip.source_range.start_time.to_seconds()
        out_point = clip.source_range.end_time_exclusive().to_seconds()
        errors += [abs(in_point - first["start_seconds"]), abs(out_point - first["end_seconds"])]
        if fmt != "edl":  # an EDL's reel name is 8 characters; the file name is in a comment
            assert clip.media_reference.target_url == "Interview take 3.mp4"
        else:
            assert "* FROM CLIP: Interview take 3.mp4" in text
    print(f"\nexport in/out vs the clip's: max {max(errors) * 1000:.0f} ms (a frame is {frame * 1000:.0f} ms)")
    assert max(errors) <= frame / 2 + 1e-6

    # The crop: a transform in FCPXML (the 202x360 crop of the 640x360 source, 1:1), a comment in the EDL.
    _, _, fcpxml = download(api, f"/dev/export-clip?clipId={first['id']}&format=fcpxml")
    root = ET.fromstring(fcpxml.split("<!DOCTYPE fcpxml>", 1)[1])
    [asset_clip] = root.findall("./project/sequence/spine/asset-clip")
    transform = asset_clip.find("adjust-transform")
    assert transform is not None and transform.get("scale") == "1.000000 1.000000"
    formats = {f.get("id"): f for f in root.iter("format")}
    sequence_format = formats[root.find("./project/sequence").get("format")]
    assert (sequence_format.get("width"), sequence_format.get("height")) == ("202", "360")
    _, _, edl = download(api, f"/dev/export-clip?clipId={first['id']}&format=edl")
    assert "AN EDL CANNOT CARRY A CROP" in edl

    # Captions: the same words in the SRT export, the OTIO subtitle track and the FCPXML captions.
    _, headers, srt = download(api, f"/dev/export-clip?clipId={first['id']}&format=srt")
    assert headers["content-type"].startswith("application/x-subrip")
    words = " ".join(srt_texts(srt)).split()
    assert len(words) > 5
    _, _, otio_json = download(api, f"/dev/export-clip?clipId={first['id']}&format=otio")
    timeline = read_timeline("otio", otio_json, rate)  # kept: its tracks go with it
    subtitle = next(t for t in timeline.tracks if t.kind == "Subtitle")
    assert " ".join(c.media_reference.parameters["text"] for c in subtitle if hasattr(c, "media_reference")).split() \
        == words
    assert " ".join(t.text for t in asset_clip.iter("text-style") if t.text).split() == words
    _, _, vtt = download(api, f"/dev/export-clip?clipId={first['id']}&format=vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00")

    # The video: both clips, one after the other, each with its own in and out points.
    for fmt in ADAPTERS:
        status, headers, text = download(api, f"/dev/export-video?videoId={video['id']}&format={fmt}")
        assert status == 200 and headers["content-disposition"].endswith(f'-clips.{fmt}"'), text
        timeline = read_timeline(fmt, text, rate)
        on_timeline = video_clips(timeline)
        assert [(round(c.source_range.start_time.to_seconds(), 2), round(c.source_range.end_time_exclusive()
                 .to_seconds(), 2)) for c in on_timeline] == \
            [(round(round(c["start_seconds"] * rate) / rate, 2), round(round(c["end_seconds"] * rate) / rate, 2))
             for c in clips]
    status, _, srt_all = download(api, f"/dev/export-video?videoId={video['id']}&format=srt")
    assert status == 200 and len(srt_texts(srt_all)) > len(srt_texts(srt))

    # Errors name the field; another workspace's clip is not found.
    for path, mentions in ((f"/dev/export-clip?clipId={first['id']}&format=mov", "format"),
                           ("/dev/export-clip?format=edl", "clipId"),
                           (f"/dev/export-video?videoId={video['id']}", "format")):
        status, body = api.get(path)
        assert status == 400 and body["error"] == "bad_request" and mentions in body["message"], (path, body)
    status, body = other_account(client).get(f"/dev/export-clip?clipId={first['id']}&format=edl")
    assert status == 404 and body["error"] == "not_found"
    status, body = api.get("/dev/export-clip?clipId=clip_01J0000000000000000000000Z&format=otio")
    assert status == 404
    json.loads(otio_json)  # the OTIO file is plain JSON


def test_a_clip_extended_earlier_and_shortened_renders_as_a_new_version_on_word_boundaries(
        api, project, speech_video, client, tmp_path):
    from chalicelib import clients
    from chalicelib.adapters.ffmpeg import Ffmpeg
    from chalicelib.adapters.s3 import transcript_key
    from chalicelib.domain.transcript import Transcript
    from chalicelib.services import wiring

    video = upload(api, project, speech_video)
    status, result = run_job(api, video["id"], maxClips=1, minDuration=6, maxDuration=10)
    assert status == 200 and result["status"] == "succeeded", result
    [clip] = result["clips"]
    stored = json.loads(wiring.blobs().get_bytes(transcript_key(api.account_id, video["id"], "en")))
    assert stored["sourceVersionId"]  # the video's transcript, kept with it, names the source version
    words = Transcript.from_dict(stored).words
    _, summary_before = api.get(f"/dev/video-summary?videoId={video['id']}")

    # First moved anywhere in the source (the job's clip opens the video: nothing before it).
    move = {"clipId": clip["id"], "startSeconds": 20.0, "endSeconds": 30.0}
    status, body = api.post("/dev/update-clip", move, headers={"Idempotency-Key": "move-1"})
    assert status == 200 and body["version"] == 2 and body["callId"].startswith("edt_"), body
    # A retry with the same Idempotency-Key answers the same edit, not a second one (nor a 409).
    assert api.post("/dev/update-clip", move, headers={"Idempotency-Key": "move-1"}) == (200, body)
    _, listed = api.get(f"/dev/list-clips?videoId={video['id']}")
    [shown] = listed["clips"]
    assert (shown["version"], shown["pending_version"], shown["start_seconds"]) == (1, 2, clip["start_seconds"])
    status, busy = api.post("/dev/update-clip", {"clipId": clip["id"], "title": "Another"})
    assert status == 409 and "rendering" in busy["message"], busy
    status, moved = api.wait_for_result(body["callId"])
    assert status == 200 and moved["status"] == "succeeded", moved
    clip = moved["clips"][0]
    assert clip["version"] == 2 and 19 < clip["start_seconds"] <= 20.3

    # Then 3 s earlier at the start and 2 s shorter at the end.
    asked_start, asked_end = clip["start_seconds"] - 3.0, clip["end_seconds"] - 2.0
    status, body = api.post("/dev/update-clip", {"clipId": clip["id"], "startSeconds": asked_start,
                                                 "endSeconds": asked_end, "title": "The better tomato"})
    assert status == 200 and body["version"] == 3, body
    status, edited = api.wait_for_result(body["callId"])
    assert status == 200 and edited["status"] == "succeeded", edited
    [new] = edited["clips"]
    assert new["version"] == 3 and "pending_version" not in new and new["title"] == "The better tomato"
    start, end = new["start_seconds"], new["end_seconds"]
    # Snapped to words: the first word is the one the asked start falls in or after, the last the
    # one the asked end falls in or before; no word is cut at either edge.
    inside = [w for w in words if w.end > start and w.start < end]
    first = next(w for w in words if w.end > asked_start)
    last = next(w for w in reversed(words) if w.start < asked_end)
    assert inside[0] == first and inside[-1] == last
    assert start <= first.start and last.end <= end
    assert all(w.end <= start or w.start >= end for w in words if w not in inside)
    assert start < clip["start_seconds"] - 2.0 and end < clip["end_seconds"] - 1.0

    # The new file: its length, and captions that follow the new words.
    clip_record = wiring.records().find_clip(clip["id"])
    assert clip_record["key"].endswith(".v3.mp4")
    path = tmp_path / "v2.mp4"
    clients.s3().download_file(wiring.blobs().bucket, clip_record["key"], str(path))
    duration = Ffmpeg().probe(str(path)).duration_seconds
    srt = wiring.blobs().get_bytes(clip_record["captionsSrtKey"]).decode()
    print(f"\nasked {asked_start:.2f}-{asked_end:.2f} s, snapped {start:.2f}-{end:.2f} s, file {duration:.3f} s; "
          f"first word {first.text!r} at {first.start:.2f}, last {last.text!r} ending {last.end:.2f}")
    assert abs(duration - (end - start)) < 0.1
    assert " ".join(srt_texts(srt)).split() == [w.text for w in inside]

    # Not a job: the video's current job, status and counts are as they were.
    _, summary_after = api.get(f"/dev/video-summary?videoId={video['id']}")
    assert summary_after == summary_before
    assert wiring.records().get_video(video["id"])["currentCallId"] == result["callId"]

    # Bad edits are 400s naming the field; another workspace's clip is not found.
    for change, mentions in (({"startSeconds": 1e6}, "startSeconds"), ({"endSeconds": start + 2}, "endSeconds"),
                             ({"startSeconds": "3"}, "startSeconds"), ({}, "at least one"),
                             ({"captionStyle": {"position": "left"}}, "captionStyle.position")):
        status, bad = api.post("/dev/update-clip", {"clipId": clip["id"], **change})
        assert status == 400 and mentions in bad["message"], (change, bad)
    status, _ = other_account(client).post("/dev/update-clip", {"clipId": clip["id"], "title": "Mine"})
    assert status == 404

    # Deleting the video takes its edits' call records with it (nothing of it is left behind).
    edit_calls = wiring.records().find_clip(clip["id"])["editCallIds"]
    assert len(edit_calls) == 2 and all(wiring.records().get_call(c) for c in edit_calls)
    status, _ = api.post("/dev/delete-video", {"videoId": video["id"]})
    assert status == 200
    assert not any(wiring.records().get_call(c) for c in edit_calls)


def _yellow_columns(frame) -> int:
    """How many columns hold the highlighted word's pixels (the accent's yellow)."""
    yellow = (frame[..., 0] > 200) & (frame[..., 1] > 170) & (frame[..., 2] < 100)
    return int((yellow.sum(axis=0) > 0).sum())


@pytest.fixture(scope="module")
def grey_speech(tmp_path_factory):
    """The speech fixture over flat grey at 360x640: nothing on screen but the captions."""
    import subprocess

    from chalicelib.adapters.ffmpeg import Ffmpeg
    from support import FIXTURES

    path = tmp_path_factory.mktemp("grey") / "grey.mp4"
    subprocess.run([Ffmpeg().binary, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=gray:s=360x640:r=25:d=48", "-i", str(FIXTURES / "speech_short.ogg"), "-map", "0:v",
                    "-map", "1:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(path)], check=True)
    return path


def test_a_corrected_word_is_burned_in_and_in_the_sidecars_and_later_clips_keep_it(
        api, project, grey_speech, client, tmp_path):
    import subprocess

    import numpy as np

    from chalicelib import clients
    from chalicelib.adapters.ffmpeg import Ffmpeg
    from chalicelib.services import wiring

    video = upload(api, project, grey_speech)
    options = {"maxClips": 1, "minDuration": 6, "maxDuration": 10}
    status, result = run_job(api, video["id"], **options)
    assert status == 200 and result["status"] == "succeeded", result
    [clip] = result["clips"]
    status, listing = api.get(f"/dev/clip-transcript?clipId={clip['id']}")
    assert status == 200 and listing["version"] == 1 and listing["language"] == "en", listing
    words = listing["words"]
    assert all(clip["start_seconds"] - 0.5 <= w["start"] < w["end"] <= clip["end_seconds"] + 0.5 for w in words)
    srt_v1 = wiring.blobs().get_bytes(wiring.records().find_clip(clip["id"])["captionsSrtKey"]).decode()
    assert " ".join(srt_texts(srt_v1)).split() == [w["text"] for w in words]
    # The longest short word in the middle, replaced by a long one: its highlight gets wider.
    target = max(words[2:-2], key=lambda w: (w["end"] - w["start"]) * (len(w["text"]) <= 6))
    status, body = api.post("/dev/update-transcript", {
        "clipId": clip["id"], "words": [{"index": target["index"], "text": "Klyphtastic!"}]})
    assert status == 200 and body["version"] == 2, body
    status, done = api.wait_for_result(body["callId"])
    assert status == 200 and done["status"] == "succeeded", done
    record = wiring.records().find_clip(clip["id"])
    srt_v2 = wiring.blobs().get_bytes(record["captionsSrtKey"]).decode()
    expected = [("Klyphtastic!" if w["index"] == target["index"] else w["text"]) for w in words]
    assert " ".join(srt_texts(srt_v2)).split() == expected
    _, after = api.get(f"/dev/clip-transcript?clipId={clip['id']}")
    assert [w["text"] for w in after["words"]] == expected and after["version"] == 2
    assert [(w["start"], w["end"]) for w in after["words"]] == [(w["start"], w["end"]) for w in words]

    # The burned caption: at the word's middle the highlighted word is the new, longer one.
    at = (target["start"] + target["end"]) / 2 - clip["start_seconds"]
    widths = {}
    for version, key in ((1, wiring.records().find_clip(clip["id"])["key"].replace(".v2.mp4", ".mp4")),
                         (2, record["key"])):
        path = tmp_path / f"v{version}.mp4"
        clients.s3().download_file(wiring.blobs().bucket, key, str(path))
        png = tmp_path / f"corrected-v{version}.png"
        subprocess.run([Ffmpeg().binary, "-nostdin", "-loglevel", "error", "-y", "-ss", f"{at:.3f}", "-i", str(path),
                        "-frames:v", "1", str(png)], check=True)
        raw = subprocess.run([Ffmpeg().binary, "-nostdin", "-loglevel", "error", "-i", str(png), "-f", "rawvideo",
                              "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
        frame = np.frombuffer(raw, np.uint8).reshape(record["height"], record["width"], 3).astype(int)
        widths[version] = _yellow_columns(frame)
    print(f"\ncorrected {target['text']!r} -> 'Klyphtastic!': highlighted width {widths[1]} -> {widths[2]} px "
          f"(frames in {tmp_path})")
    assert widths[2] > 1.5 * widths[1] > 0

    # Corrections are stored with the video's transcript: a later job on the video shows them.
    assert len(srt_texts(srt_v2))
    index_errors = [("words.0.index", {"index": words[-1]["index"] + 50, "text": "x"}),
                    ("words.0.text", {"index": target["index"], "text": ""}),
                    ("words.1.index", None)]
    for mentions, word in index_errors:
        change = [word] if word else [{"index": target["index"], "text": "a"}, {"index": target["index"], "text": "b"}]
        status, bad = api.post("/dev/update-transcript", {"clipId": clip["id"], "words": change})
        assert status == 400 and mentions in bad["message"], (change, bad)
    status, _ = other_account(client).get(f"/dev/clip-transcript?clipId={clip['id']}")
    assert status == 404
    status, again = run_job(api, video["id"], **options)
    assert status == 200 and again["status"] == "succeeded", again
    [later] = again["clips"]
    srt_later = wiring.blobs().get_bytes(wiring.records().find_clip(later["id"])["captionsSrtKey"]).decode()
    assert "Klyphtastic!" in srt_later.split()
