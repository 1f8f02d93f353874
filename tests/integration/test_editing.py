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
