"""Renders and the face analysis read only their clip's byte ranges of the source, in place, from
the local stack's AWS stand-in (a moto server), through a proxy that counts the bytes on the wire;
what they make is what the whole download made; and the presigned URL they read (a credential)
reaches no stored error and no log line."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import traceback
from pathlib import Path

import pytest

from bench.ranged import StandIn
from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain import media
from chalicelib.domain.media import RemoteInput
from chalicelib.errors import MediaError
from chalicelib.services import sources, wiring

KEY = "accounts/acc_ranged/videos/vid_ranged/source"
SECONDS = 480
CLIP = (232.0, 238.0)
_ENV = ("KLYPH_AWS_ENDPOINT_URL", "KLYPH_BUCKET", "KLYPH_RANGED_READS")


def _eight_minutes(folder: Path, camera: bool) -> Path:
    """Eight minutes of 640x360 (one minute joined to itself, which costs no encoding) with its
    index at the end, as phones write it: a clip from its middle is a small part of it. Encoded
    with x264's long GOP, or as cameras do (a keyframe every 2 s, B-frames: the face analysis
    then decodes around keyframes with its own reader)."""
    from media_fixtures import ffmpeg_exe, make_video

    minute = make_video(folder / "minute.mp4", seconds=60)
    if camera:
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(minute),
                        "-c:a", "copy", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-bf", "3",
                        str(folder / "camera.mp4")], check=True)
        minute = folder / "camera.mp4"
    (folder / "list.txt").write_text(f"file '{minute}'\n" * (SECONDS // 60))
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "concat", "-safe", "0",
                    "-i", str(folder / "list.txt"), "-map", "0", "-c", "copy", str(folder / "big.mp4")], check=True)
    return folder / "big.mp4"


@pytest.fixture(scope="module")
def big_video(tmp_path_factory):
    return _eight_minutes(tmp_path_factory.mktemp("ranged"), camera=False)


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory):
    return _eight_minutes(tmp_path_factory.mktemp("ranged-camera"), camera=True)


@pytest.fixture
def stand_in(tmp_path):
    saved = {k: os.environ.get(k) for k in _ENV}
    s = StandIn(tmp_path / "data", bucket="klyph-test-ranged").start()
    s.configure(ranged=True)
    s.create_bucket()
    yield s
    s.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    wiring.reset()
    sources.clear()


def _upload(stand_in: StandIn, path: Path) -> str:
    blobs = wiring.blobs()
    blobs.upload_file(str(path), KEY, "video/mp4")
    return (blobs.head(KEY) or {})["VersionId"]


def _frames(path: Path) -> list[str]:
    """The md5 of each decoded video frame."""
    out = subprocess.run([Ffmpeg().binary, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def _each_way(stand_in: StandIn):
    """"download", then "ranged": the stand-in switched to each, its byte count reset."""
    for mode in ("download", "ranged"):
        stand_in.configure(ranged=mode == "ranged")
        stand_in.proxy.reset()
        yield mode


def test_a_render_reads_its_clip_not_the_source_and_makes_the_same_clip(stand_in, big_video, tmp_path):
    version = _upload(stand_in, big_video)
    ffmpeg = Ffmpeg()
    info = ffmpeg._probe(str(big_video))
    size = big_video.stat().st_size
    made = {}
    for mode in _each_way(stand_in):
        with sources.clip_source(KEY, version) as source:
            assert isinstance(source, RemoteInput) == (mode == "ranged")
            out = tmp_path / f"{mode}.mp4"
            # The loudness comes from prepare's measurement of the whole source, as in the pipeline:
            # without one the render would measure its range first (a few more audio passes).
            clip = ffmpeg.render_clip(source, str(out), start=CLIP[0], end=CLIP[1], aspect="9:16", info=info,
                                      normalize_loudness=False)
            ffmpeg.frame(source, str(tmp_path / f"{mode}.jpg"), at=CLIP[0] + 2, vf="scale=202:360",
                         representative=True)
        made[mode] = (clip, _frames(out), stand_in.proxy.received)
    (downloaded, downloaded_frames, download_bytes), (ranged, ranged_frames, ranged_bytes) = made.values()
    assert download_bytes >= size
    # The index, the start of the file ffmpeg probes, the clip's ranges from the keyframe before
    # it (10 s apart here) and what ffmpeg's threads read ahead of the encoder (8-12 s of source),
    # twice (the render, the thumbnail's frame): about 6 MB of this 62 MB source.
    assert ranged_bytes < 0.15 * size, (ranged_bytes, size)
    assert ranged.duration_seconds == downloaded.duration_seconds
    assert (ranged.width, ranged.height) == (downloaded.width, downloaded.height)
    assert ranged_frames == downloaded_frames and len(ranged_frames) == 150


@pytest.mark.parametrize("kind", ["long-gop", "camera"])
def test_the_face_analysis_reads_its_clip_in_place_and_samples_the_same_frames(stand_in, kind, request):
    big_video = request.getfixturevalue("camera_video" if kind == "camera" else "big_video")
    from chalicelib.adapters import faces

    version = _upload(stand_in, big_video)
    size = big_video.stat().st_size
    found = {}
    for mode in _each_way(stand_in):
        with sources.clip_source(KEY, version) as source:
            found[mode] = ([(s.t, s.faces) for s in faces.detect_faces(source, *CLIP, size=(640, 360))],
                           stand_in.proxy.received)
    # (Nobody in view: after two seconds without a face only one sample a second is analysed;
    # on the camera file only its keyframes, 2 s apart, and a last look are decoded.)
    assert found["ranged"][0] == found["download"][0] and len(found["ranged"][0]) >= 4
    assert found["ranged"][1] < 0.15 * size, (found["ranged"][1], size)


def test_a_failed_render_stores_and_logs_no_presigned_url(stand_in, caplog):
    """A source that is not what its record says fails the render; the error the clip keeps,
    what Lambda reports (the Catch's Cause) and every log line name the object, never its URL."""
    from chalicelib import clients
    from chalicelib.adapters.dynamo import Table
    from chalicelib.config import settings
    from chalicelib.domain.transcript import Transcript
    from chalicelib.job import ClipRef, Media, RenderItem, SourceRef
    from chalicelib.models import JobOptions
    from chalicelib.services import pipeline

    Table(clients.dynamodb(), settings().table_name).create()
    blobs = wiring.blobs()
    blobs.put_bytes(KEY, b"\0\0\0\x18ftypisom" + b"not a video" * 1000, "video/mp4")
    version = (blobs.head(KEY) or {})["VersionId"]
    transcript_key = "work/acc_ranged/vid_ranged/call_ranged/transcript.json"
    blobs.put_bytes(transcript_key, json.dumps(Transcript(language="en", duration=60.0).to_dict()).encode())
    wiring.records().put_call({"id": "call_ranged", "videoId": "vid_ranged", "accountId": "acc_ranged",
                               "status": "running", "stages": {}})
    wiring.records().put_clip({"id": "clip_ranged", "videoId": "vid_ranged", "callId": "call_ranged", "index": 0,
                               "accountId": "acc_ranged", "status": "draft", "start": 10.0, "end": 20.0})
    item = RenderItem(
        clip=ClipRef(index=0, id="clip_ranged", start=10.0, end=20.0), callId="call_ranged", videoId="vid_ranged",
        accountId="acc_ranged", source=SourceRef(key=KEY, versionId=version),
        media=Media(container="mp4", durationSeconds=60.0, width=640, height=360, fps=25.0, hasAudio=False,
                    hasVideo=True, videoCodec="h264", sizeBytes=11016),
        transcriptKey=transcript_key, options=JobOptions(captions=False, reframe="center"),
    ).wire()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MediaError) as failed:
        pipeline.render(item)
    # What the Lambda runtime reports (and Step Functions keeps in the execution's history).
    cause = json.dumps({"errorType": type(failed.value).__name__, "errorMessage": str(failed.value),
                        "stackTrace": traceback.format_exception(failed.value)})
    pipeline.clip_failed({**item, "error": {"Error": "MediaError", "Cause": cause}})
    stored = wiring.records().list_clips("vid_ranged", "call_ranged")[0]
    assert stored["status"] == "failed" and stored["error"]["code"] == "ffmpeg_failed", stored
    # (The stand-in's own access log, werkzeug's, prints every URL it serves: the local stack
    # keeps it at WARNING, and it is S3's on AWS.)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    for text in (json.dumps(stored), cause, ours):
        assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text

    # ffmpeg lines that do carry the URL: the user's message names the object instead.
    with sources.clip_source(KEY, version) as remote:
        assert isinstance(remote, RemoteInput)
        error = Ffmpeg._failure(f"[in#0 @ 0x1] Error opening input\n{remote.url}: Invalid data found when "
                                "processing input\nConversion failed!\n", remote)
    assert "X-Amz" not in str(error) and f"s3://klyph-test-ranged/{KEY}: Invalid data" in str(error)


@pytest.mark.parametrize("trick", ["concat:{url}|{url}", "subfile:,,start,0,end,4096,,:{url}", "file:{path}",
                                   "crypto:{url}", "data:video/mp4;base64,AAAA"])
def test_ffmpeg_itself_opens_nothing_but_the_url_s_own_protocols(stand_in, big_video, tmp_path, trick):
    """Past ``remote_input``'s checks, ffmpeg's own allow-list: a URL wrapped in another protocol
    (or a local file, or inline data) fails to open (the plain URL renders: the tests above)."""
    version = _upload(stand_in, big_video)
    ffmpeg = Ffmpeg()
    with sources.clip_source(KEY, version) as remote:
        assert isinstance(remote, RemoteInput) and remote.protocols == "http,tcp"
        wrapped = RemoteInput(url=trick.format(url=remote.url, path=big_video), protocols=remote.protocols,
                              name=remote.name, open=remote.open)
        refused = ffmpeg._run(media.render_args(wrapped, str(tmp_path / "tricked.mp4"), start=1, end=2,
                                                aspect="1:1", width=640, height=360))
    assert refused.returncode != 0
    assert f"Protocol '{trick.split(':')[0]}' not on whitelist 'http,tcp'" in refused.stderr, refused.stderr
    assert "X-Amz" not in refused.stderr and not (tmp_path / "tricked.mp4").exists()


def test_a_redirect_to_anywhere_is_not_followed(stand_in, big_video, tmp_path):
    """S3 answers a valid URL itself; a 3xx would lead to another host or object: refused."""
    import http.server
    import threading

    version = _upload(stand_in, big_video)
    ffmpeg = Ffmpeg()
    with sources.clip_source(KEY, version) as remote:
        assert isinstance(remote, RemoteInput)

        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", remote.url)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            elsewhere = RemoteInput(url=f"http://127.0.0.1:{server.server_port}/elsewhere?versionId={version}",
                                    protocols=remote.protocols, name=remote.name, open=remote.open)
            args = media.render_args(elsewhere, str(tmp_path / "redirected.mp4"), start=1, end=2, aspect="1:1",
                                     width=640, height=360)
            redirected = ffmpeg._run(args)
            at = args.index("-max_redirects")
            followed = ffmpeg._run(args[:at] + args[at + 2:])  # what ffmpeg does by default
        finally:
            server.shutdown()
            server.server_close()
    assert redirected.returncode != 0, redirected.stderr
    assert followed.returncode == 0, followed.stderr
