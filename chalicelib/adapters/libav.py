"""Decodes chosen frames of a video with the FFmpeg libraries OpenCV's wheel bundles (ctypes):
an exact seek to a keyframe, then frame after frame, B-frames skipped by the decoder.

OpenCV's own capture cannot do this: it seeks by counting decoded frames, so with frames
skipped it walks past its target, and it cannot jump from one keyframe to the next without
decoding every frame between them. On phone footage the keyframes alone are a large part of
the decoding (grain makes them big), so the face analysis samples around keyframes and jumps.

The structures are read at the offsets of the FFmpeg release the pinned OpenCV wheel bundles
(libavformat 62, libavcodec 62, libavutil 60: FFmpeg 8); any other release is refused at load
time (``LibavUnavailable``) and the caller uses OpenCV's capture instead. Only what the upload
probe accepted is opened, with the same allow-lists as every ffmpeg run: the given protocols
(local files by default) and the mov and matroska demuxers.
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib import heavy
from chalicelib.domain.media import ALLOWED_DEMUXERS

_P = ctypes.c_void_p
_EXPECTED_MAJORS = {"avformat": 62, "avcodec": 62, "avutil": 60, "swscale": 9}
# Field offsets in bytes (FFmpeg 8's public headers, x86-64).
_FMT_NB_STREAMS, _FMT_STREAMS = 44, 48  # AVFormatContext
_ST_CODECPAR, _ST_TIME_BASE, _ST_START_TIME = 16, 32, 40  # AVStream
_PKT_STREAM_INDEX = 36  # AVPacket
_FRAME_DATA, _FRAME_LINESIZE, _FRAME_WIDTH, _FRAME_HEIGHT, _FRAME_FORMAT, _FRAME_PTS = 0, 64, 104, 108, 116, 136
_AVMEDIA_TYPE_VIDEO = 0
_AVSEEK_FLAG_BACKWARD = 1
_AV_PIX_FMT_BGR24 = 3
_SWS_BILINEAR = 2
_EAGAIN = -11
_NOPTS = -0x8000000000000000


class LibavUnavailable(ImportError):
    """The bundled FFmpeg libraries are missing or of a release whose layout is not known."""


_libs: dict[str, Any] | None = None
_load_lock = threading.Lock()


def _load() -> dict[str, Any]:
    global _libs
    with _load_lock:
        if _libs is None:
            _libs = _bind()
        return _libs


def _bind() -> dict[str, Any]:
    cv2 = heavy.cv2()
    folder = os.path.join(os.path.dirname(os.path.dirname(str(cv2.__file__))), "opencv_python_headless.libs")
    libs: dict[str, Any] = {}
    for name in ("avutil", "swresample", "avcodec", "avformat", "swscale"):
        found = sorted(glob.glob(os.path.join(folder, f"lib{name}-*.so*")))
        if not found:
            raise LibavUnavailable(f"OpenCV's wheel bundles no lib{name} in {folder}")
        libs[name] = ctypes.CDLL(found[0], mode=ctypes.RTLD_GLOBAL)
    for name, major in _EXPECTED_MAJORS.items():
        version = getattr(libs[name], f"{name}_version")()
        if version >> 16 != major:
            raise LibavUnavailable(f"lib{name} {version >> 16} is not the release whose layout this reads ({major})")
    f, c, u, s = libs["avformat"], libs["avcodec"], libs["avutil"], libs["swscale"]
    sig = {
        (f, "avformat_open_input"): ([ctypes.POINTER(_P), ctypes.c_char_p, _P, ctypes.POINTER(_P)], ctypes.c_int),
        (f, "avformat_find_stream_info"): ([_P, _P], ctypes.c_int),
        (f, "av_find_best_stream"): ([_P, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_P), ctypes.c_int],
                                     ctypes.c_int),
        (f, "av_seek_frame"): ([_P, ctypes.c_int, ctypes.c_int64, ctypes.c_int], ctypes.c_int),
        (f, "av_read_frame"): ([_P, _P], ctypes.c_int),
        (f, "avformat_close_input"): ([ctypes.POINTER(_P)], None),
        (c, "avcodec_alloc_context3"): ([_P], _P),
        (c, "avcodec_parameters_to_context"): ([_P, _P], ctypes.c_int),
        (c, "avcodec_open2"): ([_P, _P, ctypes.POINTER(_P)], ctypes.c_int),
        (c, "avcodec_send_packet"): ([_P, _P], ctypes.c_int),
        (c, "avcodec_receive_frame"): ([_P, _P], ctypes.c_int),
        (c, "avcodec_flush_buffers"): ([_P], None),
        (c, "avcodec_free_context"): ([ctypes.POINTER(_P)], None),
        (c, "av_packet_alloc"): ([], _P),
        (c, "av_packet_unref"): ([_P], None),
        (c, "av_packet_free"): ([ctypes.POINTER(_P)], None),
        (u, "av_frame_alloc"): ([], _P),
        (u, "av_frame_free"): ([ctypes.POINTER(_P)], None),
        (u, "av_opt_set"): ([_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
        (u, "av_dict_set"): ([ctypes.POINTER(_P), ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
        (u, "av_dict_free"): ([ctypes.POINTER(_P)], None),
        (s, "sws_getCachedContext"): ([_P, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                       ctypes.c_int, ctypes.c_int, _P, _P, _P], _P),
        (s, "sws_scale"): ([_P, _P, _P, ctypes.c_int, ctypes.c_int, _P, _P], ctypes.c_int),
        (s, "sws_freeContext"): ([_P], None),
    }
    for (lib, name), (argtypes, restype) in sig.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, restype
    return libs


def available() -> bool:
    try:
        _load()
    except (ImportError, OSError):
        return False
    return True


def _read(address: int, ctype: Any) -> Any:
    return ctype.from_address(address).value


class FrameReader:
    """One video's first video stream, decoded from exact keyframe seeks, B-frames skipped.
    Not thread-safe; one per thread (the calls release the GIL, so two readers decode in
    parallel)."""

    def __init__(self, path: str, *, protocols: str = "file", redirects: bool = True):
        libs = _load()
        self._f, self._c, self._u, self._s = libs["avformat"], libs["avcodec"], libs["avutil"], libs["swscale"]
        self._fmt, self._ctx, self._sws = _P(), _P(), None
        self._pkt: int = 0  # AVPacket*, AVFrame*: addresses, 0 until allocated
        self._frame: int = 0
        options = _P()
        try:
            self._u.av_dict_set(ctypes.byref(options), b"protocol_whitelist", protocols.encode(), 0)
            self._u.av_dict_set(ctypes.byref(options), b"format_whitelist", ALLOWED_DEMUXERS.encode(), 0)
            if not redirects:
                self._u.av_dict_set(ctypes.byref(options), b"max_redirects", b"0", 0)
            if self._f.avformat_open_input(ctypes.byref(self._fmt), path.encode(), None, ctypes.byref(options)) < 0:
                self._fmt = _P()
                raise ValueError("the video could not be opened")
        finally:
            self._u.av_dict_free(ctypes.byref(options))
        try:
            self._open_decoder()
        except BaseException:
            self.close()
            raise

    def _open_decoder(self) -> None:
        if self._f.avformat_find_stream_info(self._fmt, None) < 0:
            raise ValueError("the video's streams could not be read")
        codec = _P()
        index = self._f.av_find_best_stream(self._fmt, _AVMEDIA_TYPE_VIDEO, -1, -1, ctypes.byref(codec), 0)
        if index < 0 or not codec.value:
            raise ValueError("the video has no decodable video stream")
        base = self._fmt.value or 0
        if index >= _read(base + _FMT_NB_STREAMS, ctypes.c_uint):
            raise ValueError("stream index out of range")
        stream = _read(_read(base + _FMT_STREAMS, _P) + 8 * index, _P)
        self._index = index
        num, den = _read(stream + _ST_TIME_BASE, ctypes.c_int), _read(stream + _ST_TIME_BASE + 4, ctypes.c_int)
        if num <= 0 or den <= 0:
            raise ValueError("the video stream has no time base")
        self._time_base = num / den
        start = _read(stream + _ST_START_TIME, ctypes.c_int64)
        self._start_pts = 0 if start == _NOPTS else start
        self._ctx = _P(self._c.avcodec_alloc_context3(codec))
        codecpar = _read(stream + _ST_CODECPAR, _P)
        if not self._ctx.value or self._c.avcodec_parameters_to_context(self._ctx, codecpar) < 0:
            raise ValueError("the video's decoder could not be set up")
        # B-frames are not decoded at all: nothing refers to them, and the samples land on the
        # frames between them. One thread: the caller runs readers side by side instead, which
        # keeps both cores busy across seeks (frame threads would decode frames then dropped).
        self._u.av_opt_set(self._ctx, b"skip_frame", b"bidir", 0)
        self._u.av_opt_set(self._ctx, b"threads", b"1", 0)
        if self._c.avcodec_open2(self._ctx, codec, None) < 0:
            raise ValueError("the video's decoder could not be opened")
        self._pkt = self._c.av_packet_alloc() or 0
        self._frame = self._u.av_frame_alloc() or 0
        if not self._pkt or not self._frame:
            raise MemoryError("no memory for a packet and a frame")

    def frames_from(self, seconds: float) -> Iterator[tuple[float, Callable[[], Any]]]:
        """Seek to the keyframe at or before ``seconds`` and yield (time in seconds, a function
        returning the frame as a BGR numpy array) for each decoded frame from it on, B-frames
        skipped; stop iterating to jump elsewhere. The function is valid until the next frame
        (only the frames asked for are converted)."""
        ts = self._start_pts + int(max(0.0, seconds) / self._time_base)
        if self._f.av_seek_frame(self._fmt, self._index, ts, _AVSEEK_FLAG_BACKWARD) < 0:
            raise ValueError(f"could not seek to {seconds:.2f} s")
        self._c.avcodec_flush_buffers(self._ctx)
        while True:
            if self._f.av_read_frame(self._fmt, self._pkt) < 0:
                self._c.avcodec_send_packet(self._ctx, None)  # end of file: drain the decoder
                yield from self._received()
                return
            try:
                if _read(self._pkt + _PKT_STREAM_INDEX, ctypes.c_int) != self._index:
                    continue
                if self._c.avcodec_send_packet(self._ctx, self._pkt) < 0:
                    continue  # a damaged packet: the decoder resumes at the next good one
            finally:
                self._c.av_packet_unref(self._pkt)
            yield from self._received()

    def keyframe(self, seconds: float) -> tuple[float, Callable[[], Any]] | None:
        """The keyframe at or before ``seconds`` alone, as ``frames_from``'s first item, or None
        when the packet there gives no picture. Only its packet is decoded, then the decoder is
        drained: H.264 holds a picture back until it knows no later packet is shown before it,
        which on camera footage (B-frames) meant decoding two more P-frames per keyframe, a
        third of a keyframe look's time. The next call or ``frames_from`` seeks afresh."""
        ts = self._start_pts + int(max(0.0, seconds) / self._time_base)
        if self._f.av_seek_frame(self._fmt, self._index, ts, _AVSEEK_FLAG_BACKWARD) < 0:
            raise ValueError(f"could not seek to {seconds:.2f} s")
        self._c.avcodec_flush_buffers(self._ctx)
        while self._f.av_read_frame(self._fmt, self._pkt) >= 0:
            try:
                if _read(self._pkt + _PKT_STREAM_INDEX, ctypes.c_int) != self._index:
                    continue
                if self._c.avcodec_send_packet(self._ctx, self._pkt) < 0:
                    return None
                break
            finally:
                self._c.av_packet_unref(self._pkt)
        self._c.avcodec_send_packet(self._ctx, None)
        return next(self._received(), None)

    def _received(self) -> Iterator[tuple[float, Callable[[], Any]]]:
        while self._c.avcodec_receive_frame(self._ctx, self._frame) == 0:
            pts = _read(self._frame + _FRAME_PTS, ctypes.c_int64)
            if pts == _NOPTS:
                continue
            yield round((pts - self._start_pts) * self._time_base, 4), self._bgr

    def _bgr(self) -> Any:
        np = heavy.numpy()
        frame = self._frame
        width, height = _read(frame + _FRAME_WIDTH, ctypes.c_int), _read(frame + _FRAME_HEIGHT, ctypes.c_int)
        fmt = _read(frame + _FRAME_FORMAT, ctypes.c_int)
        self._sws = self._s.sws_getCachedContext(self._sws, width, height, fmt, width, height, _AV_PIX_FMT_BGR24,
                                                 _SWS_BILINEAR, None, None, None)
        if not self._sws:
            raise ValueError("the frame's pixel format cannot be converted")
        out = np.empty((height, width, 3), dtype=np.uint8)
        dst = (ctypes.c_void_p * 4)(out.ctypes.data, None, None, None)
        stride = (ctypes.c_int * 4)(width * 3, 0, 0, 0)
        self._s.sws_scale(self._sws, ctypes.c_void_p(frame + _FRAME_DATA), ctypes.c_void_p(frame + _FRAME_LINESIZE),
                          0, height, dst, stride)
        return out

    def close(self) -> None:
        if self._sws:
            self._s.sws_freeContext(self._sws)
            self._sws = None
        if self._frame:
            self._u.av_frame_free(ctypes.byref(_P(self._frame)))
            self._frame = 0
        if self._pkt:
            self._c.av_packet_free(ctypes.byref(_P(self._pkt)))
            self._pkt = 0
        if self._ctx.value:
            self._c.avcodec_free_context(ctypes.byref(self._ctx))
        if self._fmt.value:
            self._f.avformat_close_input(ctypes.byref(self._fmt))

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
