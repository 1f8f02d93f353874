"""Finds faces in a clip's range of a video: OpenCV decodes a few frames per second, scaled to
640 px, and YuNet, a small face-detection CNN run by OpenCV's DNN module, finds the faces. Its
weights are a file in the repository (``assets/models``, Apache-2.0): nothing is downloaded.

Measured against the Haar cascades it replaces, on 1920x1080 frames scaled to 640 px: YuNet
finds faces from about 3% of the frame width (Haar missed them under about 7%, which is a
person in a wide two-shot) and stays silent on windows, shelves and brickwork where Haar
fired on a fifth of the frames.

Only the reframe worker imports this; numpy and cv2 load on first use so the API function
never pays for them.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from chalicelib import heavy
from chalicelib.config import settings
from chalicelib.errors import MediaError

# OpenCV's FFmpeg reads this when it opens a capture: local files only, never a URL or another
# file a playlist or concat list names (the same rule as ffmpeg's INPUT_HARDENING).
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "protocol_whitelist;file")

Box = tuple[int, int, int, int]

# 640 px wide is YuNet's native input: a face 4% of a 1920 px frame is 26 px there, above the
# smallest it finds. 3 samples a second is enough for the planner, which moves at most 0.35
# frame widths a second and holds a second before switching subject.
SAMPLE_FPS = 3.0
MAX_WIDTH = 640
# YuNet's score for a face; above it, measured, no false positive on faceless footage.
SCORE_THRESHOLD = 0.7
# After this many samples without a face, only every _SPARSE_EVERY-th sample is analysed.
_SPARSE_AFTER_SAMPLES = 6
_SPARSE_EVERY = 3
MODEL_PATH = str(Path(__file__).resolve().parent.parent / "assets" / "models" / "face_detection_yunet.onnx")


def detect_faces(
    video_path: str,
    start: float,
    end: float,
    sample_fps: float = SAMPLE_FPS,
    max_width: int = MAX_WIDTH,
    *,
    size: tuple[int, int] | None = None,
    timeout_seconds: float | None = None,
) -> list[tuple[float, list[Box]]]:
    """[(seconds from ``start``, [(x, y, w, h) in source pixels]), ...], one entry per sampled
    frame, faces or not. ``size`` is the upright source size (read from the video when not given).

    OpenCV decodes the frames itself (its wheel bundles FFmpeg's decoders), so the function that
    plans reframes needs no ffmpeg binary: on AWS it carries OpenCV instead, within Lambda's
    250 MB. It opens only what the upload probe accepted, and checks the container's
    signature again, with FFmpeg's protocols narrowed to local files.
    """
    np, cv2 = heavy.numpy(), heavy.cv2()
    if not 0 <= start < end:
        raise MediaError("invalid_range", f"A clip needs 0 <= start < end; got start={start}, end={end}.")
    _check_container(video_path)
    timeout = settings().ffmpeg_timeout_seconds if timeout_seconds is None else timeout_seconds
    deadline = time.monotonic() + timeout
    capture = cv2.VideoCapture(video_path, cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise MediaError("unreadable_video", "The video could not be opened to find faces in it.")
        src_w, src_h = size or (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if not src_w or not src_h:
            raise MediaError("no_video_stream", "The source has no video stream to find faces in.")
        width = min(src_w, max_width) // 2 * 2
        height = max(2, round(src_h * width / src_w) // 2 * 2)
        detector = _Detector(width, height)
        scale_x, scale_y = src_w / width, src_h / height
        # Seeking lands on the keyframe before ``start``; frames before it are decoded, not used.
        capture.set(cv2.CAP_PROP_POS_MSEC, max(0.0, start - 1.0) * 1000)
        found: list[tuple[float, list[Box]]] = []
        count = max(1, round((end - start) * sample_fps))
        index, last_face = 0, -(10**9)
        while index < count:
            if time.monotonic() > deadline:
                raise MediaError("timeout", f"Face detection did not finish within {timeout} s.")
            if not capture.grab():  # decodes without converting: cheap for the frames skipped
                break
            at = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000 - start
            if at < index / sample_fps - 0.02:  # the first frame at or just before each sample time
                continue
            if index - last_face > _SPARSE_AFTER_SAMPLES and index % _SPARSE_EVERY:
                # Nobody seen for a while: look every third sample only. Detection is most of
                # the analysis' cost, and on footage without people all of it is wasted; a face
                # that appears is found at most a second late, within the planner's hold.
                index += 1
                continue
            ok, frame = capture.retrieve()
            if not ok:
                break
            small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            boxes = [
                (round(x * scale_x), round(y * scale_y), round(w * scale_x), round(h * scale_y))
                for x, y, w, h in detector.faces(np.ascontiguousarray(small))
            ]
            found.append((round(index / sample_fps, 3), boxes))
            if boxes:
                last_face = index
            index += 1
    finally:
        capture.release()
    return found


# The containers the upload probe accepts, by their first bytes: ISO BMFF (mp4, mov) has a box
# type at offset 4; Matroska and WebM start with the EBML magic.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")
_EBML = b"\x1a\x45\xdf\xa3"


def _check_container(path: str) -> None:
    with open(path, "rb") as fh:
        head = fh.read(12)
    if not (head[4:8] in _ISO_BOXES or head[:4] == _EBML):
        raise MediaError("not_a_video", "The file is not an MP4, MOV, MKV or WebM video.")


class _Detector:
    """YuNet (``cv2.FaceDetectorYN``, a 232 KB CNN committed in ``assets/models``): frontal and
    turned faces down to about 3% of the frame width at 640 px input, few false positives on
    texture. Made per thread: OpenCV does not promise that one detector may run in two."""

    def __init__(self, width: int, height: int):
        cached = getattr(_per_thread, "detector", None)
        if cached is None or cached[0] != (width, height):
            cv2 = heavy.cv2()
            detector = cv2.FaceDetectorYN.create(MODEL_PATH, "", (width, height), SCORE_THRESHOLD, 0.3, 50)
            cached = _per_thread.detector = ((width, height), detector)
        self._yunet = cached[1]

    def faces(self, frame) -> list[Box]:
        _, found = self._yunet.detect(frame)
        if found is None:
            return []
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in (row[:4] for row in found) if w > 0 and h > 0]


_per_thread = threading.local()
