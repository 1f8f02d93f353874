"""The frame reader over OpenCV's bundled FFmpeg (chalicelib/adapters/libav.py): exact keyframe
seeks, the same pixels OpenCV decodes, the input allow-lists, and the fallback when the bundled
libraries are not the release whose layout it reads."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from chalicelib.adapters import faces, libav
from chalicelib.domain.keyframes import keyframe_times
from tests.media_fixtures import ffmpeg_exe, make_ffconcat, make_hls_playlist, make_video
from tools.synthetic_video import background, face_patch, write_frames

pytestmark = pytest.mark.media

CAMERA = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "25", "-bf", "3")


@pytest.fixture(scope="module")
def camera_file(tmp_path_factory) -> Path:
    still, face = background((640, 360)), face_patch(80)

    def draw(t: float):
        img = still.copy()
        x = round(40 + 40 * t)
        img[100:180, x:x + 80] = face
        return img

    return write_frames(tmp_path_factory.mktemp("libav") / "camera.mp4", (640, 360), 8, draw, ffmpeg=ffmpeg_exe(),
                        fps=25, encoder=CAMERA)


def test_each_keyframe_is_reached_exactly_and_decoded_as_opencv_decodes_it(camera_file):
    with open(camera_file, "rb") as fh:
        keyframes = keyframe_times(fh)
    assert keyframes == pytest.approx([float(n) for n in range(8)], abs=0.05)
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "protocol_whitelist;file"
    capture = cv2.VideoCapture(str(camera_file), cv2.CAP_FFMPEG)
    with libav.FrameReader(str(camera_file)) as reader:
        for k in (5.0, 2.0, 6.0):  # backwards too: every seek is exact
            t, converted = next(iter(reader.frames_from(k)))
            capture.set(cv2.CAP_PROP_POS_MSEC, k * 1000)
            ok, expected = capture.read()
            assert ok and t == pytest.approx(k, abs=0.001)
            assert np.array_equal(converted(), expected), f"the frame at {k} s differs from OpenCV's"
        # From a keyframe on, B-frames are skipped: the next frames are the P-frames 4 apart.
        times = [t for t, _ in zip((t for t, _ in reader.frames_from(3.0)), range(4))]
        assert times == pytest.approx([3.0, 3.16, 3.32, 3.48], abs=0.05)
    capture.release()


def test_a_keyframe_alone_is_the_same_picture_without_decoding_the_frames_after_it(camera_file, monkeypatch):
    with libav.FrameReader(str(camera_file)) as reader:
        expected = {}
        for k in (5.0, 2.0):
            t, converted = next(iter(reader.frames_from(k)))
            expected[k] = (t, converted())  # a picture is valid until the reader moves on
        sent: list[bool] = []
        send = reader._c.avcodec_send_packet
        monkeypatch.setattr(reader._c, "avcodec_send_packet", lambda ctx, pkt: sent.append(pkt is not None)
                            or send(ctx, pkt))
        for k in (5.0, 2.0, 6.9):  # 6.9: the keyframe before it, at 6 s
            got = reader.keyframe(k)
            assert got is not None
            t, converted = got
            assert t == pytest.approx(float(int(k)), abs=0.001)
            if k in expected:
                assert t == expected[k][0] and np.array_equal(converted(), expected[k][1])
            # One packet decoded, then the drain: frames_from sends 6 on this file before its first.
            assert sent == [True, False], sent
            sent.clear()
        # frames_from still walks on after a keyframe look.
        assert [t for t, _ in zip((t for t, _ in reader.frames_from(3.0)), range(2))] == pytest.approx([3.0, 3.16],
                                                                                                     abs=0.05)


def test_playlists_concat_lists_and_urls_are_refused(tmp_path, camera_file):
    local = tmp_path / "local.mp4"
    local.write_bytes(camera_file.read_bytes())
    for hostile in (make_hls_playlist(tmp_path / "list.m3u8", local), make_ffconcat(tmp_path / "list.txt", local)):
        with pytest.raises(ValueError):
            libav.FrameReader(str(hostile))
    with pytest.raises(ValueError):
        libav.FrameReader("http://127.0.0.1:9/video.mp4")


def test_another_ffmpeg_release_falls_back_to_opencvs_capture(monkeypatch, camera_file):
    monkeypatch.setattr(libav, "_libs", None)
    monkeypatch.setitem(libav._EXPECTED_MAJORS, "avformat", 61)
    assert not libav.available()
    sightings = faces.detect_faces(str(camera_file), 2.0, 6.0)
    # OpenCV's capture walks every reference frame: three samples a second, not one a keyframe.
    assert len(sightings) >= 10 and all(s.faces for s in sightings)


def test_a_video_without_a_keyframe_index_is_sampled_by_opencv(tmp_path):
    video = make_video(tmp_path / "clip.mkv", seconds=4, width=320, height=180, container="mkv")
    assert faces.detect_faces(str(video), 1.0, 3.0)  # Matroska: no index up front, OpenCV's capture


def test_long_gop_footage_with_nobody_in_its_keyframes_is_judged_from_them(tmp_path):
    """Keyframes 10 s apart (x264's default, screen recordings): the keyframes inside the clip
    are looked at first, and when none shows a face nothing else is decoded (the walk through
    every reference frame cost 0.5-0.6x of the encode); with a face in them the walk runs."""
    empty = tmp_path / "slides.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=25:duration=34", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "250", str(empty)], check=True)
    sightings = faces.detect_faces(str(empty), 5.0, 32.0)
    assert [s.t for s in sightings] == pytest.approx([5.0, 15.0, 25.0], abs=0.05), "the keyframes at 10, 20, 30 s"
    assert not any(s.faces for s in sightings)

    still, face = background((640, 360)), face_patch(80)

    def draw(t: float):
        img = still.copy()
        img[100:180, 200:280] = face
        return img

    person = write_frames(tmp_path / "person.mp4", (640, 360), 24, draw, ffmpeg=ffmpeg_exe(), fps=25,
                          encoder=("-c:v", "libx264", "-preset", "ultrafast", "-g", "250"))
    sightings = faces.detect_faces(str(person), 0.5, 23.0)
    assert len(sightings) >= 15 and all(s.faces for s in sightings), "a face in a keyframe: every reference frame"
