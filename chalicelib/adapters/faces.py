"""Finds faces in a clip's range of a video: ffmpeg decodes a few small gray frames per second
into a pipe, OpenCV's Haar cascades (shipped inside the opencv wheel, no download) find faces.

Only the reframe worker imports this; numpy and cv2 load on first use so the API function
never pays for them.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import threading

from chalicelib import heavy
from chalicelib.adapters.ffmpeg import Ffmpeg
from chalicelib.domain import media
from chalicelib.errors import MediaError

Box = tuple[int, int, int, int]

# Talking-head faces span a tenth of the frame height or more: at 512 px wide they are
# still 2-3x the cascade's 24 px window, and the cascade's cost falls with the pixel count
# (measured: at 640 px and 4 fps the detector was ~4.6 s of a 30 s clip's render).
SAMPLE_FPS = 3.0
MAX_WIDTH = 512

# Profile search: on every sample within this many samples of the last face, else every N-th.
_PROFILE_GRACE_SAMPLES = 6
_PROFILE_EVERY = 3

# Faces smaller than this share of the frame height are too small to frame a clip on; not
# searching the smallest scales also saves most of the cascade's time (about a quarter at 360p).
_MIN_FACE_FRACTION = 0.09


def detect_faces(
    video_path: str,
    start: float,
    end: float,
    sample_fps: float = SAMPLE_FPS,
    max_width: int = MAX_WIDTH,
    *,
    size: tuple[int, int] | None = None,
    binary: str | None = None,
    timeout_seconds: float | None = None,
) -> list[tuple[float, list[Box]]]:
    """[(seconds from ``start``, [(x, y, w, h) in source pixels]), ...], one entry per sampled
    frame, faces or not. ``size`` is the upright source size (probed when not given)."""
    np = heavy.numpy()

    if not 0 <= start < end:
        raise MediaError("invalid_range", f"A clip needs 0 <= start < end; got start={start}, end={end}.")
    # The ffmpeg adapter owns the binary, its time limit and probing; this only streams frames.
    ffmpeg = Ffmpeg(binary, timeout_seconds)
    binary, timeout = ffmpeg.binary, ffmpeg.timeout_seconds
    src_w, src_h = size or _source_size(ffmpeg, video_path)
    width = min(src_w, max_width) // 2 * 2
    height = max(2, round(src_h * width / src_w) // 2 * 2)
    frame_bytes = width * height
    detector = _Detector(height)

    args = [
        binary, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        # Input seek: fast, and the frames' timestamps then start at 0 = the clip start.
        "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}",
        *media.INPUT_HARDENING, "-i", f"file:{video_path}",
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", f"fps={sample_fps},scale={width}:{height}:flags=area,format=gray",
        "-f", "rawvideo", "-",
    ]
    found: list[tuple[float, list[Box]]] = []
    scale_x, scale_y = src_w / width, src_h / height
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        frames = proc.stdout
        assert frames is not None  # stdout=PIPE
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            proc.kill()

        # A timer rather than a deadline between reads: a stalled decoder never returns from one.
        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            index = 0
            while True:
                chunk = _read_exactly(frames, frame_bytes)
                if chunk is None:
                    break
                gray = np.frombuffer(chunk, np.uint8).reshape(height, width)
                boxes = [
                    (round(x * scale_x), round(y * scale_y), round(w * scale_x), round(h * scale_y))
                    for x, y, w, h in detector.faces(gray)
                ]
                found.append((round(index / sample_fps, 3), boxes))
                index += 1
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            frames.close()
        if timed_out.is_set():
            raise MediaError("timeout", f"Face detection did not finish within {timeout} s.")
        if returncode != 0:
            stderr.seek(0)
            lines = stderr.read().decode(errors="replace").strip().splitlines() or ["ffmpeg failed without a message"]
            raise MediaError(
                "ffmpeg_failed", f"ffmpeg failed while sampling frames for face detection: {lines[-1][:300]}"
            )
    return found


class _Detector:
    """Frontal faces; in frames without one, profiles facing either way (the profile cascade
    knows one side only, so the mirrored frame is searched too)."""

    def __init__(self, frame_height: int):
        self._cv2 = heavy.cv2()
        self._frontal, self._profile = _cascades()
        side = max(24, int(frame_height * _MIN_FACE_FRACTION))
        self._min_size = (side, side)
        self._sample = 0
        self._last_face = -(10**9)

    def faces(self, gray) -> list[Box]:
        cv2 = self._cv2
        # Equalising evens out dim or flat lighting before the cascades look at contrast.
        gray = cv2.equalizeHist(gray)
        sample, self._sample = self._sample, self._sample + 1
        faces = self._detect(self._frontal, gray, 1.15)
        if faces:
            # Someone faces the camera: that is the subject to frame, and skipping the two
            # profile passes (each costs about what the frontal one does) keeps sampling cheap.
            self._last_face = sample
            return faces
        # Profiles matter most right after a face turned away; with no face seen lately they
        # are looked for on every third sample only, which is what made faceless footage the
        # detector's worst case (make bench: three cascade passes on every frame).
        if sample - self._last_face > _PROFILE_GRACE_SAMPLES and sample % _PROFILE_EVERY:
            return faces
        width = gray.shape[1]
        mirrored = [(width - x - w, y, w, h) for x, y, w, h in self._detect(self._profile, cv2.flip(gray, 1), 1.2)]
        for box in self._detect(self._profile, gray, 1.2) + mirrored:
            if all(_overlap(box, other) < 0.3 for other in faces):
                faces.append(box)
        if faces:
            self._last_face = sample
        return faces

    def _detect(self, cascade, gray, scale_factor: float) -> list[Box]:
        found = cascade.detectMultiScale(gray, scaleFactor=scale_factor, minNeighbors=5, minSize=self._min_size)
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


_per_thread = threading.local()


def _cascades():
    """This thread's frontal and profile cascades: OpenCV does not promise that one
    CascadeClassifier may run detectMultiScale from two threads at once (parallel renders)."""
    cached = getattr(_per_thread, "cascades", None)
    if cached is None:
        cv2 = heavy.cv2()
        root = cv2.data.haarcascades
        frontal = cv2.CascadeClassifier(os.path.join(root, "haarcascade_frontalface_default.xml"))
        profile = cv2.CascadeClassifier(os.path.join(root, "haarcascade_profileface.xml"))
        if frontal.empty() or profile.empty():
            raise RuntimeError(f"OpenCV's Haar cascades are missing from {root}")
        cached = _per_thread.cascades = (frontal, profile)
    return cached


def _source_size(ffmpeg: Ffmpeg, path: str) -> tuple[int, int]:
    info = ffmpeg.probe(path)
    if not info.width or not info.height:
        raise MediaError("no_video_stream", "The source has no video stream to find faces in.")
    return info.width, info.height


def _read_exactly(stream, n: int) -> bytes | None:
    """One whole frame, or None at the end (a partial last frame is dropped)."""
    parts, remaining = [], n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: a profile hit inside a frontal one is a duplicate."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, min(a[2] * a[3], b[2] * b[3]))
