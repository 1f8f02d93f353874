"""Where the keyframes of an MP4/MOV video are, read from its index (the ``moov`` box) without
decoding anything.

The face analysis decodes only the frames other frames refer to (B-frames skipped), and OpenCV's
seek cannot count frames it skipped: asked for second 10 it walked on to second 15. Knowing the
keyframes lets it start from one a safe distance before the clip instead, so every sample is
taken where its timestamp says. Matroska/WebM and fragmented MP4 have no such index up front:
``None``, and the caller decodes every frame from an exact seek.
"""
from __future__ import annotations

import struct
from typing import BinaryIO

# An index bigger than this is not a video we accepted (the upload probe bounds duration);
# reading it whole would only cost memory.
_MAX_MOOV_BYTES = 64 * 1024 * 1024


def keyframe_times(fh: BinaryIO) -> list[float] | None:
    """Presentation times (seconds, the first frame at 0) of the first video track's keyframes,
    in order; None when the file has no usable index (not ISO BMFF, fragmented, every frame a
    keyframe, or malformed)."""
    moov = _top_level_box(fh, b"moov")
    if moov is None:
        return None
    try:
        for box, trak in _boxes(moov):
            found = _track_keyframes(trak) if box == b"trak" else None
            if found is not None:
                return found
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _top_level_box(fh: BinaryIO, kind: bytes) -> bytes | None:
    fh.seek(0, 2)
    end = fh.tell()
    at = 0
    while at + 8 <= end:
        fh.seek(at)
        head = fh.read(16)
        size, box = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = end - at
        if size < header:
            return None
        if box == kind:
            if size > _MAX_MOOV_BYTES:
                return None
            fh.seek(at + header)
            return fh.read(size - header)
        at += size
    return None


def _boxes(data: bytes):
    """(type, payload) of each box in ``data``."""
    at = 0
    while at + 8 <= len(data):
        size, box = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = len(data) - at
        if size < header:
            raise ValueError("box smaller than its header")
        yield box, data[at + header:at + size]
        at += size


def _find(data: bytes, path: list[bytes]) -> bytes | None:
    for box, payload in _boxes(data):
        if box == path[0]:
            return payload if len(path) == 1 else _find(payload, path[1:])
    return None


def _track_keyframes(trak: bytes) -> list[float] | None:
    hdlr = _find(trak, [b"mdia", b"hdlr"])
    if hdlr is None or hdlr[8:12] != b"vide":
        return None
    mdhd = _find(trak, [b"mdia", b"mdhd"])
    stbl = _find(trak, [b"mdia", b"minf", b"stbl"])
    if mdhd is None or stbl is None:
        return None
    timescale = struct.unpack(">I", mdhd[20:24] if mdhd[0] == 1 else mdhd[12:16])[0]
    stts, stss = _find(stbl, [b"stts"]), _find(stbl, [b"stss"])
    if not timescale or stts is None or stss is None:
        return None
    decode_times = _expand(stts)
    if not decode_times:
        return None  # fragmented: the samples are described in moof boxes, later
    offsets = _expand(_find(stbl, [b"ctts"]), signed=True, deltas=False)
    shift = _edit_shift(trak)
    count = struct.unpack(">I", stss[4:8])[0]
    times = []
    for n in range(count):
        sample = struct.unpack(">I", stss[8 + 4 * n:12 + 4 * n])[0] - 1
        if not 0 <= sample < len(decode_times):
            return None
        pts = decode_times[sample] + (offsets[sample] if sample < len(offsets) else 0) - shift
        times.append(max(0.0, pts / timescale))
    return sorted(times)


def _expand(table: bytes | None, *, signed: bool = False, deltas: bool = True) -> list[int]:
    """stts (deltas=True: the decode time of each sample) or ctts (deltas=False: each sample's
    composition offset) run-length table, one value per sample."""
    if table is None:
        return []
    entries = struct.unpack(">I", table[4:8])[0]
    out: list[int] = []
    clock = 0
    fmt = ">Ii" if signed else ">II"
    for n in range(entries):
        run, value = struct.unpack(fmt, table[8 + 8 * n:16 + 8 * n])
        for _ in range(run):
            if deltas:
                out.append(clock)
                clock += value
            else:
                out.append(value)
    return out


def _edit_shift(trak: bytes) -> int:
    """The media time the edit list starts presenting at (encoders with B-frames delay the first
    frame's timestamp and cut that delay here), in the track's timescale."""
    elst = _find(trak, [b"edts", b"elst"])
    if elst is None:
        return 0
    version, entries = elst[0], struct.unpack(">I", elst[4:8])[0]
    at = 8
    for _ in range(entries):
        if version == 1:
            _, media_time = struct.unpack(">Qq", elst[at:at + 16])
            at += 20
        else:
            _, media_time = struct.unpack(">Ii", elst[at:at + 8])
            at += 12
        if media_time >= 0:  # -1 is an empty edit (a pause before the track starts)
            return media_time
    return 0
