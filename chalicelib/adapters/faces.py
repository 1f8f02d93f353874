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

import itertools
import logging
import os
import threading
import time
from pathlib import Path
from typing import BinaryIO

from chalicelib import heavy
from chalicelib.adapters import libav
from chalicelib.config import settings
from chalicelib.domain.keyframes import keyframe_times
from chalicelib.domain.media import RemoteInput, Source
from chalicelib.domain.reframe import Box, Sighting
from chalicelib.errors import MediaError

# OpenCV's FFmpeg reads this when it opens a capture: local files only, never a URL or another
# file a playlist or concat list names (the same rule as ffmpeg's INPUT_HARDENING; a source read
# in place gets exactly its URL's protocols instead, in ``_capture``). And B-frames
# are not decoded at all (OpenCV's ``avdiscard``): no other frame refers to them, the samples
# land on the I and P frames between them (at most a few frames off), and in the H.264 that
# cameras and editors write they are half or more of the frames, so of the decoding time.
_EVERY_FRAME = "protocol_whitelist;file"
_SKIP_B_FRAMES = _EVERY_FRAME + "|avdiscard;bidir"
# The variable is read when a capture opens: one open at a time sets it.
_open_lock = threading.Lock()

log = logging.getLogger(__name__)

# 640 px wide is YuNet's native input: a face 4% of a 1920 px frame is 26 px there, above the
# smallest it finds. 3 samples a second is enough for the planner, which moves at most 0.35
# frame widths a second and holds a second before switching subject.
SAMPLE_FPS = 3.0
MAX_WIDTH = 640
# YuNet's score for a face; above it, measured, no false positive on faceless footage.
SCORE_THRESHOLD = 0.7
# Mouth motion is the difference between a sample and the frame this long after it, measured
# on the mouth after aligning the face (so a head that moves or nods does not count): long
# enough for lips to move in speech (a syllable is ~0.2 s), short enough for a face to stay put.
MOTION_GAP_SECONDS = 0.1
# Between whole-frame scans (every _FULL_SCAN_EVERY-th sample, once a second), known faces are
# looked for only in a square _AROUND times their size about their last place, scaled to
# _AROUND_INPUT px: a ninth of the pixels of a 640 px frame, and the face at ~70 px there, where
# YuNet is surest. A face that moves half its width in a third of a second is still inside.
_FULL_SCAN_EVERY = 3
_AROUND = 2.2
_AROUND_INPUT = 160
# OpenCV seeks by walking: from the keyframe before (target - 16 frames) it decodes frame by frame
# up to the target, counting decoded frames, so with B-frames skipped it walks three or four
# times too far. Started from a keyframe at least this many decoded frames times the longest
# B-frame run (x264 allows 16; cameras use 2-3) before the clip, the walk ends before the clip.
_SEEK_WALK_FRAMES = 17
_SEEK_WALK_SPAN_FRAMES = _SEEK_WALK_FRAMES * 4
# Keyframes at most this far apart make the decoding around keyframes worth it (``_around_keyframes``):
# phones and cameras write one every 1-2 s. Further apart, the crop would be placed too rarely.
SPARSE_GOP_SECONDS = 2.5
# With two or more people, the reference frames this long after each keyframe are decoded too,
# sampled SAMPLE_FPS times a second with their mouths: enough samples in every sentence for
# speaker turns, at about half the decoding of the whole GOP.
_DENSE_SECONDS = 0.7
# When keyframes alone are sampled, the clip's last look is this long before its end.
_TAIL_SECONDS = 0.3
# After this many samples without a face, only every _SPARSE_EVERY-th sample is analysed.
_SPARSE_AFTER_SAMPLES = 6
_SPARSE_EVERY = 3
MODEL_PATH = str(Path(__file__).resolve().parent.parent / "assets" / "models" / "face_detection_yunet.onnx")


def detect_faces(
    video_path: Source,
    start: float,
    end: float,
    sample_fps: float = SAMPLE_FPS,
    max_width: int = MAX_WIDTH,
    *,
    size: tuple[int, int] | None = None,
    timeout_seconds: float | None = None,
    sharpness: dict[float, float] | None = None,
) -> list[Sighting]:
    """One ``Sighting(t, faces, mouths)`` per sampled frame, faces or not: t in seconds from
    ``start``, faces as (x, y, w, h) in source pixels, and for each face how much its mouth
    moved over the next ``MOTION_GAP_SECONDS`` (0 = still; speech is typically above 0.1).
    ``size`` is the upright source size (read from the video when not given). ``sharpness``,
    when given, receives for each sample with a face how sharp its largest face is (variance of
    the Laplacian, full resolution): the thumbnail is chosen with it, from the frame in hand.

    OpenCV decodes the frames itself (its wheel bundles FFmpeg's decoders), so the function that
    plans reframes needs no ffmpeg binary: on AWS it carries OpenCV instead, within Lambda's
    250 MB. It opens only what the upload probe accepted, and checks the container's
    signature again, with FFmpeg's protocols narrowed to local files (or to a source URL's own).

    Where keyframes come often (camera and phone footage), the frames are decoded around
    keyframes only (``_around_keyframes``); otherwise every frame but B-frames is decoded, unless
    the keyframes inside the clip show nobody (``_keyframes_inside``).
    """
    if not 0 <= start < end:
        raise MediaError("invalid_range", f"A clip needs 0 <= start < end; got start={start}, end={end}.")
    timeout = settings().ffmpeg_timeout_seconds if timeout_seconds is None else timeout_seconds
    deadline = time.monotonic() + timeout
    with _open(video_path) as fh:  # one open (for a source read in place, one reader) for both
        _check_container(fh)
        keyframes = keyframe_times(fh)
    if keyframes and libav.available():
        if _short_gops(keyframes, start, end):
            return _around_keyframes(video_path, keyframes, start, end, sample_fps, max_width, size, deadline,
                                     sharpness)
        probed = _keyframes_inside(video_path, keyframes, start, end, max_width, size, deadline)
        if probed and not any(s.faces for s in probed):
            return probed
    return _every_reference_frame(video_path, keyframes, start, end, sample_fps, max_width, size, deadline, sharpness)


def _short_gops(keyframes: list[float], start: float, end: float) -> bool:
    """Whether keyframes come at most SPARSE_GOP_SECONDS apart over the clip."""
    inside = [k for k in keyframes if start - SPARSE_GOP_SECONDS <= k <= end + SPARSE_GOP_SECONDS]
    return len(inside) >= 2 and max(b - a for a, b in itertools.pairwise(inside)) <= SPARSE_GOP_SECONDS


class _Sampler:
    """What is done with each sampled frame: faces found (around the last sample's faces, or a
    whole-frame scan), and the mouths of a sample measured on a frame MOTION_GAP_SECONDS later."""

    def __init__(self, src_size: tuple[int, int], max_width: int, deadline: float, timeout: float,
                 sharpness: dict[float, float] | None):
        src_w, src_h = src_size
        self.size = src_size
        self.width = min(src_w, max_width) // 2 * 2
        self.height = max(2, round(src_h * self.width / src_w) // 2 * 2)
        self.detector = _Detector(self.width, self.height)
        self.scale = (src_w / self.width, src_h / self.height)
        self.found: list[Sighting] = []
        self.sharpness = sharpness
        self.deadline, self.timeout = deadline, timeout
        # The last sample's faces, waiting for the frame MOTION_GAP_SECONDS later.
        self.waiting: tuple[float, list[_FaceRegions], object] | None = None

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise MediaError("timeout", f"Face detection did not finish within {self.timeout} s.")

    def wants_pair(self, at: float) -> bool:
        return self.waiting is not None and at >= self.waiting[0] + MOTION_GAP_SECONDS - 0.02

    def pair(self, later) -> None:
        """``later`` is the frame MOTION_GAP_SECONDS after the waiting sample (None: unreadable)."""
        assert self.waiting is not None
        _, regions, sampled = self.waiting
        if later is not None:
            mouths = [r.mouth_motion(sampled, later) for r in regions]
            self.found[-1] = Sighting(self.found[-1].t, self.found[-1].faces, mouths)
        self.waiting = None

    def sample(self, at: float, frame, scan: bool) -> list[_FaceRegions]:
        """Faces in ``frame``, taken at ``at`` (clip seconds): only around the last sample's
        faces unless ``scan`` (a whole-frame scan finds anyone new)."""
        np, cv2 = heavy.numpy(), heavy.cv2()
        previous = self.found[-1].faces if self.found else []
        if previous and not scan:
            # Faces known from the last sample: look again only around them (a small YuNet
            # input each), with a whole-frame scan every second for anyone new.
            regions = _dedupe([r for box in previous for r in self.detector.around(frame, box, self.size)])
        else:
            small = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
            regions = [_FaceRegions(row, self.scale, (0, 0), self.size)
                       for row in self.detector.faces(np.ascontiguousarray(small))]
        # Labelled with the frame's own time: after a skipped B-frame run it may be a frame
        # or three past the sample's nominal time.
        self.found.append(Sighting(round(max(0.0, at), 3), [r.box for r in regions], [0.0] * len(regions)))
        if regions:
            if self.sharpness is not None:
                largest = max((r.box for r in regions), key=lambda b: b[2] * b[3])
                self.sharpness[self.found[-1].t] = _sharpness(frame, largest)
            self.waiting = (at, regions, frame)
        return regions


def _every_reference_frame(video_path: Source, keyframes: list[float] | None, start: float, end: float,
                           sample_fps: float, max_width: int, size: tuple[int, int] | None, deadline: float,
                           sharpness: dict[float, float] | None) -> list[Sighting]:
    """OpenCV's capture walks the clip frame by frame (B-frames skipped where the file's index
    allows a safe start), sampling ``sample_fps`` frames a second."""
    cv2 = heavy.cv2()
    capture = _open_before(video_path, start, keyframes)
    try:
        src_w, src_h = size or (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if not src_w or not src_h:
            raise MediaError("no_video_stream", "The source has no video stream to find faces in.")
        sampler = _Sampler((src_w, src_h), max_width, deadline, deadline - time.monotonic(), sharpness)
        count = max(1, round((end - start) * sample_fps))
        index, last_face = 0, -(10**9)
        while index < count or sampler.waiting is not None:
            sampler.check_time()
            if not capture.grab():  # decodes without converting: cheap for the frames skipped
                break
            at = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000 - start
            if sampler.wants_pair(at):
                ok, later = capture.retrieve()
                sampler.pair(later if ok else None)
            if index >= count or at < index / sample_fps - 0.02:  # the first frame at or just before each sample time
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
            if sampler.sample(at, frame, scan=not index % _FULL_SCAN_EVERY):
                last_face = index
            index += 1
    finally:
        capture.release()
    return sampler.found


def _reader(video_path: Source) -> libav.FrameReader:
    try:
        if isinstance(video_path, RemoteInput):
            # The pinned version's presigned URL: exactly its protocols, and no redirect elsewhere.
            return libav.FrameReader(video_path.url, protocols=video_path.protocols, redirects=False)
        return libav.FrameReader(video_path)
    except ValueError as exc:
        raise MediaError("unreadable_video", f"The video could not be opened to find faces in it ({exc}).") from None


def _keyframes_inside(video_path: Source, keyframes: list[float], start: float, end: float, max_width: int,
                      size: tuple[int, int] | None, deadline: float) -> list[Sighting]:
    """A sample at each keyframe inside the clip, when it has at least two: a look at long-GOP
    footage (screen recordings, slides, x264's default of one keyframe in 10 s) before walking
    every reference frame. When none shows a face the walk would find no one to follow either,
    except someone in view only between two keyframes, whom the crop then does not follow; the
    walk cost 0.5-0.6x of the clip's encode on the 720p bench source, these looks a few decodes."""
    inside = [k for k in keyframes if start <= k < end]
    if len(inside) < 2:
        return []
    sampler: _Sampler | None = None
    with _reader(video_path) as reader:
        for keyframe in inside:
            try:
                got = reader.keyframe(keyframe)
            except ValueError:
                got = None
            if got is None:
                return []  # unreadable here: the walk decides
            at_source, converted = got
            frame = converted()
            if sampler is None:
                sampler = _Sampler(size or (frame.shape[1], frame.shape[0]), max_width, deadline,
                                   deadline - time.monotonic(), None)
            sampler.check_time()
            sampler.sample(at_source - start, frame, scan=True)
            sampler.waiting = None  # no mouths: nobody to measure, or the walk follows
    return sampler.found if sampler is not None else []


def _around_keyframes(video_path: Source, keyframes: list[float], start: float, end: float, sample_fps: float,
                      max_width: int, size: tuple[int, int] | None, deadline: float,
                      sharpness: dict[float, float] | None) -> list[Sighting]:
    """Each keyframe of the clip is sampled, and the decoder jumps to the next one unless the
    sample shows two or more people: then the frames up to the next keyframe are decoded too,
    sampled ``sample_fps`` times a second with their mouths measured, since who speaks decides
    the shot. With one person or none the keyframes alone (every 1-2 s on camera footage) place
    the crop, and a keyframe costs several times a P-frame to decode, so the frames between them
    are not decoded at all. The clip is split in two halves decoded side by side."""
    gops = [k for k in keyframes if k < end]
    first = max([i for i, k in enumerate(gops) if k <= start] or [0])
    gops = gops[first:]
    halves = [gops[: (len(gops) + 1) // 2], gops[(len(gops) + 1) // 2:]] if len(gops) > 3 else [gops]
    bounds = [(start if n == 0 else half[0], end if n == len(halves) - 1 else halves[n + 1][0])
              for n, half in enumerate(halves)]
    results: list[list[Sighting] | BaseException] = [[] for _ in halves]

    def run(n: int) -> None:
        try:
            results[n] = _sample_gops(video_path, halves[n], bounds[n], start, sample_fps, max_width, size, deadline,
                                      sharpness, tail=n == len(halves) - 1)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,), name=f"faces-{n}") for n in range(1, len(halves))]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    found: list[Sighting] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        found += result
    return found


def _sample_gops(video_path: Source, gops: list[float], bounds: tuple[float, float], start: float, sample_fps: float,
                 max_width: int, size: tuple[int, int] | None, deadline: float,
                 sharpness: dict[float, float] | None, tail: bool) -> list[Sighting]:
    """The samples of [lo, hi) (source seconds) of one run of keyframes ``gops``; ``tail``: hi
    is the clip's end."""
    lo, hi = bounds
    sampler: _Sampler | None = None
    due = lo  # the next sample's time, source seconds
    dense: bool | None = None
    with _reader(video_path) as reader:
        for n, keyframe in enumerate(gops):
            gop_end = min(hi, gops[n + 1]) if n + 1 < len(gops) else hi
            due = max(due, keyframe)
            last = tail and n + 1 == len(gops)
            looked = None  # the keyframe, when sampled alone first
            if not dense and not last and keyframe >= due - 0.02 and (sampler is None or sampler.waiting is None):
                # After a GOP with one person or none, the next is most likely the same: its
                # keyframe alone decides, and only two or more people in it bring the walk.
                try:
                    got = reader.keyframe(keyframe)
                except ValueError as exc:
                    raise _undecodable(exc) from None
                if got is not None:
                    at_source, converted = got
                    if sampler is None:
                        shape = converted().shape
                        sampler = _Sampler(size or (shape[1], shape[0]), max_width, deadline,
                                           deadline - time.monotonic(), sharpness)
                    sampler.check_time()
                    regions = sampler.sample(at_source - start, converted(), scan=True)
                    due = at_source + 1 / sample_fps
                    if len(regions) < 2:
                        sampler.waiting = None
                        dense = False
                        continue
                    looked = at_source
            dense = True if looked is not None else None  # else decided by the GOP's first sample
            try:
                for at_source, converted in reader.frames_from(keyframe):
                    if looked is not None and at_source <= looked + 0.001:
                        continue  # sampled already, alone
                    if sampler is None:
                        shape = converted().shape
                        sampler = _Sampler(size or (shape[1], shape[0]), max_width, deadline,
                                           deadline - time.monotonic(), sharpness)
                    sampler.check_time()
                    at = at_source - start
                    if sampler.wants_pair(at):
                        sampler.pair(converted())
                    elif sampler.waiting is not None and at - sampler.waiting[0] > 3 * MOTION_GAP_SECONDS:
                        sampler.pair(None)  # no frame near enough after it
                    if at_source >= gop_end - 0.01:
                        break
                    if dense and at_source >= keyframe + _DENSE_SECONDS and sampler.waiting is None:
                        break  # the rest of the GOP: its P-frames cost more than the planner gains
                    if at_source < due - 0.02:
                        continue
                    first = dense is None
                    regions = sampler.sample(at, converted(), scan=first or len(sampler.found) % _FULL_SCAN_EVERY == 0)
                    if first:
                        dense = len(regions) >= 2
                    due = at_source + 1 / sample_fps
                    if not dense:
                        # One person or none: a mouth decides nothing, and the next keyframe
                        # comes within SPARSE_GOP_SECONDS. After the clip's last keyframe, one
                        # more look near its end, or a face walking on is held where it was.
                        sampler.waiting = None
                        if not last or at_source >= hi - _TAIL_SECONDS - 0.5:
                            break
                        due = hi - _TAIL_SECONDS
            except ValueError as exc:
                raise _undecodable(exc) from None
        if sampler is not None and sampler.waiting is not None:
            sampler.pair(None)
    return sampler.found if sampler is not None else []


def _undecodable(exc: ValueError) -> MediaError:
    return MediaError("unreadable_video", f"The video could not be decoded to find faces in it ({exc}).")


def _open_before(video_path: Source, start: float, keyframes: list[float] | None):
    """A capture whose next frame is at or before ``start`` (never after: the samples would be
    labelled with times they were not taken at). B-frames are skipped where the file's index
    shows a keyframe to start the walk from; otherwise every frame is decoded after an exact seek."""
    cv2 = heavy.cv2()
    capture = _capture(video_path, _SKIP_B_FRAMES if keyframes else _EVERY_FRAME)
    # (FPS is the stream's nominal rate; OpenCV's seek counts frames with it too.)
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    if keyframes:
        before = [k for k in keyframes if k <= start - _SEEK_WALK_SPAN_FRAMES / fps]
        if not before:
            return capture  # the clip starts within the first seconds: read from the first frame
        # The walk starts at the keyframe before (target - 16 frames): aim just past it.
        capture.set(cv2.CAP_PROP_POS_FRAMES, round(before[-1] * fps) + _SEEK_WALK_FRAMES)
        if capture.get(cv2.CAP_PROP_POS_MSEC) / 1000 <= start + 0.02:
            return capture
        log.info("faces: the keyframe walk ended past %.2f s; decoding every frame from an exact seek", start)
        capture.release()
        capture = _capture(video_path, _EVERY_FRAME)
    if start > 0:
        capture.set(cv2.CAP_PROP_POS_MSEC, max(0.0, start - 0.1) * 1000)
    return capture


def _capture(video_path: Source, options: str):
    cv2 = heavy.cv2()
    location = video_path
    if isinstance(video_path, RemoteInput):
        # The pinned version's presigned URL: exactly its protocols, and no redirect elsewhere.
        location = video_path.url
        options = options.replace(_EVERY_FRAME, f"protocol_whitelist;{video_path.protocols}|max_redirects;0", 1)
    with _open_lock:
        os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = options
        capture = cv2.VideoCapture(location, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise MediaError("unreadable_video", "The video could not be opened to find faces in it.")
    return capture


class _FaceRegions:
    """One detected face in source pixels: its box, and from YuNet's landmarks (eyes, nose tip,
    mouth corners) the mouth and the eyes, whose motion between two frames tells speech from
    a head that merely moves."""

    def __init__(self, row, scale: tuple[float, float], offset: tuple[int, int], size: tuple[int, int]):
        """``row`` is YuNet's, in the coordinates of the image it ran on: ``scale`` and
        ``offset`` map them to the source frame of ``size``."""
        sx, sy = scale
        ox, oy = offset
        x, y, w, h = (float(v) for v in row[:4])
        self.box: Box = (round(ox + x * sx), round(oy + y * sy), round(w * sx), round(h * sy))
        fw, fh = w * sx, h * sy
        eye_y = oy + (row[5] + row[7]) / 2 * sy
        mouth_x, mouth_y = ox + (row[10] + row[12]) / 2 * sx, oy + (row[11] + row[13]) / 2 * sy
        mouth_w = max(abs(row[12] - row[10]) * sx * 1.6, 0.4 * fw)
        # Lips and chin: from a little above the mouth corners down, where an open jaw shows.
        self.mouth = _rect(mouth_x - mouth_w / 2, mouth_y - 0.12 * fh, mouth_w, 0.32 * fh, size)
        # Eyes and brows: they move with the head but not with the words.
        self.eyes = _rect(self.box[0] + 0.12 * fw, eye_y - 0.14 * fh, 0.76 * fw, 0.26 * fh, size)
        self.size = size

    def mouth_motion(self, before_bgr, after_bgr) -> float:
        """How much the mouth changed between two frames, beyond what the whole head did:
        the eyes' region locates the head in ``after`` (template matching), the mouth is
        compared there, and the eyes' own residual change is subtracted. Normalised by the
        mouth's contrast, so it reads alike for large and small faces."""
        np, cv2 = heavy.numpy(), heavy.cv2()
        if self.mouth is None or self.eyes is None:
            return 0.0
        ex, ey, ew, eh = self.eyes
        reach = max(4, round(0.3 * self.box[2]))
        x0, y0 = max(0, ex - reach), max(0, ey - reach)
        x1, y1 = min(self.size[0], ex + ew + reach), min(self.size[1], ey + eh + reach)

        def gray(frame, x: int, y: int, w: int, h: int):  # only the regions: whole frames cost more
            return cv2.cvtColor(frame[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)

        eyes_before = gray(before_bgr, ex, ey, ew, eh)
        scores = cv2.matchTemplate(gray(after_bgr, x0, y0, x1 - x0, y1 - y0), eyes_before, cv2.TM_SQDIFF_NORMED)
        _, _, (bx, by), _ = cv2.minMaxLoc(scores)
        dx, dy = x0 + bx - ex, y0 + by - ey
        mx, my, mw, mh = self.mouth
        if not (mx + dx >= 0 and mx + dx + mw <= self.size[0] and my + dy >= 0 and my + dy + mh <= self.size[1]):
            return 0.0

        def normalised(region):  # the same 32x16 grid whatever the face's size
            return cv2.resize(region, (32, 16), interpolation=cv2.INTER_AREA).astype(np.float32)

        mouth_before = normalised(gray(before_bgr, mx, my, mw, mh))
        mouth_after = normalised(gray(after_bgr, mx + dx, my + dy, mw, mh))
        eyes_after = gray(after_bgr, ex + dx, ey + dy, ew, eh)
        eye_change = float(np.abs(eyes_after.astype(np.float32) - eyes_before.astype(np.float32)).mean())
        mouth_change = float(np.abs(mouth_after - mouth_before).mean())
        contrast = float(mouth_before.std()) + 8.0
        return round(max(0.0, mouth_change - eye_change) / contrast, 3)


def _sharpness(frame, box: Box) -> float:
    np, cv2 = heavy.numpy(), heavy.cv2()
    x, y, w, h = box
    face = frame[max(0, y):y + h, max(0, x):x + w]
    if not face.size:
        return 0.0
    return float(np.var(cv2.Laplacian(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), cv2.CV_64F)))


def _rect(x: float, y: float, w: float, h: float, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The region clipped to the frame, in whole pixels; None when too little of it is inside."""
    x0, y0 = max(0, round(x)), max(0, round(y))
    x1, y1 = min(size[0], round(x + w)), min(size[1], round(y + h))
    return (x0, y0, x1 - x0, y1 - y0) if x1 - x0 >= 4 and y1 - y0 >= 4 else None


# The containers the upload probe accepts, by their first bytes: ISO BMFF (mp4, mov) has a box
# type at offset 4; Matroska and WebM start with the EBML magic.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")
_EBML = b"\x1a\x45\xdf\xa3"


def _open(source: Source):
    """The source's bytes: a local file, or ranged reads of the pinned version (RemoteInput)."""
    return source.open() if isinstance(source, RemoteInput) else open(source, "rb")


def _check_container(fh: BinaryIO) -> None:
    fh.seek(0)
    head = fh.read(12)
    if not (head[4:8] in _ISO_BOXES or head[:4] == _EBML):
        raise MediaError("not_a_video", "The file is not an MP4, MOV, MKV or WebM video.")


class _Detector:
    """YuNet (``cv2.FaceDetectorYN``, a 232 KB CNN committed in ``assets/models``): frontal and
    turned faces down to about 3% of the frame width at 640 px input, few false positives on
    texture. Two per thread (whole frames, and the small squares around known faces): OpenCV
    does not promise that one detector may run in two threads, and each has one input size."""

    def __init__(self, width: int, height: int):
        self._yunet = _yunet((width, height))
        self._around = _yunet((_AROUND_INPUT, _AROUND_INPUT))

    def faces(self, frame) -> list:
        """YuNet's rows: box (x, y, w, h), five landmarks (eyes, nose tip, mouth corners), score."""
        return _rows(self._yunet, frame)

    def around(self, frame, box: Box, size: tuple[int, int]) -> list[_FaceRegions]:
        """The faces in the square about ``box`` (source pixels) of the full-size ``frame``."""
        cv2 = heavy.cv2()
        x, y, w, h = box
        side = max(w, h) * _AROUND
        region = _rect(x + w / 2 - side / 2, y + h / 2 - side / 2, side, side, size)
        if region is None:
            return []
        rx, ry, rw, rh = region
        square = cv2.resize(frame[ry:ry + rh, rx:rx + rw], (_AROUND_INPUT, _AROUND_INPUT), interpolation=cv2.INTER_AREA)
        scale = (rw / _AROUND_INPUT, rh / _AROUND_INPUT)
        return [_FaceRegions(row, scale, (rx, ry), size) for row in _rows(self._around, square)]


def _yunet(input_size: tuple[int, int]):
    detectors = getattr(_per_thread, "detectors", None)
    if detectors is None:
        detectors = _per_thread.detectors = {}
    if input_size not in detectors:
        detectors[input_size] = heavy.cv2().FaceDetectorYN.create(MODEL_PATH, "", input_size, SCORE_THRESHOLD, 0.3, 50)
    return detectors[input_size]


def _rows(yunet, image) -> list:
    _, found = yunet.detect(image)
    return [] if found is None else [row for row in found if row[2] > 0 and row[3] > 0]


def _dedupe(regions: list[_FaceRegions]) -> list[_FaceRegions]:
    """One per face where the squares about two nearby faces both found it."""
    kept: list[_FaceRegions] = []
    for r in regions:
        if all(_overlap(r.box, k.box) < 0.5 for k in kept):
            kept.append(r)
    return kept


def _overlap(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, min(a[2] * a[3], b[2] * b[3]))


_per_thread = threading.local()
