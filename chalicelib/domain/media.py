"""Media rules without side effects: reading ffmpeg's probe and loudness output, upload limits,
clip geometry, the clip's filter chains, and the ffmpeg argument lists the ffmpeg adapter runs.

Uploads are untrusted, so every argument list that opens an input carries the same hardening
(``INPUT_HARDENING``, or for a source read over HTTP(S) the same with exactly the protocols its
URL needs: ``RemoteInput``); nothing here runs a process.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from chalicelib.errors import MediaError

ASPECT_RATIOS: dict[str, tuple[int, int]] = {"9:16": (9, 16), "1:1": (1, 1), "16:9": (16, 9)}
TARGET_SIZES: dict[str, tuple[int, int]] = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}

# ffmpeg demuxer names as printed on the "Input #0" line.
_MOV_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
_MATROSKA_DEMUXER = "matroska,webm"
_DEMUXER_BY_CONTAINER = {"mp4": _MOV_DEMUXER, "mov": _MOV_DEMUXER, "mkv": _MATROSKA_DEMUXER, "webm": _MATROSKA_DEMUXER}
_WEBM_VIDEO_CODECS = {"vp8", "vp9", "av1"}
_WEBM_AUDIO_CODECS = {"opus", "vorbis"}

# Playlist and concat demuxers (hls, concat, ...) open further files or URLs named inside the
# upload, so inputs may only be read by the two demuxers of the containers we accept.
# Verified with the shipped ffmpeg 9.0.2: `-format_whitelist` given as an input option makes an
# HLS playlist (x.m3u8) and an ffconcat list fail with "Format not on whitelist", while mp4,
# mov, mkv and webm still open. (An HLS playlist named x.mp4 is not even detected as HLS by
# ffmpeg 9, which refuses HLS under a non-standard extension; it fails as invalid data.)
# `file:` before each path keeps a name like "x:y.mp4" from selecting a protocol and a name
# starting with "-" from reading as an option.
# The demuxers any input of ours may use (ffmpeg here, the face analysis' reader in adapters/libav.py).
ALLOWED_DEMUXERS = f"{_MOV_DEMUXER},{_MATROSKA_DEMUXER}"
INPUT_HARDENING: tuple[str, ...] = (
    "-protocol_whitelist", "file",
    "-format_whitelist", ALLOWED_DEMUXERS,
)
# What ffmpeg needs to read one URL of each scheme, and nothing more: no file, concat, subfile,
# crypto or data protocol can be nested in it.
_URL_PROTOCOLS = {"https": "https,tls,tcp", "http": "http,tcp"}


@dataclass(frozen=True)
class RemoteInput:
    """A source read in place over HTTP(S): a presigned GET of one pinned object version, made
    with ``remote_input``. ffmpeg and OpenCV seek in it with ranged requests, so a clip costs
    the container's index and the clip's own bytes, not the whole file.

    The URL is a credential: ``str()`` and ``repr()`` show ``name`` only, and everything ffmpeg
    prints passes through ``redact_urls`` before anyone logs or stores it. ``open`` gives a
    seekable file over ranged reads of the same version (the keyframe index reader's)."""

    url: str = field(repr=False)
    protocols: str
    name: str
    open: Callable[[], BinaryIO] = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.name


# A local path, or a source read over HTTP(S).
Source = str | RemoteInput


def remote_input(url: str, *, allowed_prefixes: Sequence[str], key: str, version_id: str, name: str,
                 open: Callable[[], BinaryIO]) -> RemoteInput:  # noqa: A002 - RemoteInput's field
    """``url`` as a ``RemoteInput`` if it is what we read sources from: ``key`` under one of
    ``allowed_prefixes`` (the media bucket on its S3 endpoint: https on AWS, the local stand-in's
    http origin only when it is the configured endpoint), naming exactly ``version_id``, with no
    user name, fragment or control character. Anything else is refused (MediaError, without the
    URL: it is a credential)."""
    parts = urlsplit(url)

    def under(prefix: str) -> bool:
        allowed = urlsplit(prefix)
        return ((allowed.scheme, allowed.netloc.lower()) == (parts.scheme, parts.netloc.lower())
                and unquote(parts.path) == unquote(allowed.path).rstrip("/") + "/" + key)

    refused = (
        parts.scheme not in _URL_PROTOCOLS
        or not any(under(p) for p in allowed_prefixes)
        or "@" in parts.netloc or parts.fragment
        or any(ord(c) < 33 or ord(c) == 127 for c in url)
        or parse_qs(parts.query).get("versionId") != [version_id]
    )
    if refused:
        raise MediaError("source_not_allowed", f"The source {name} may only be read from the media bucket, "
                                               "at its pinned version.")
    return RemoteInput(url=url, protocols=_URL_PROTOCOLS[parts.scheme], name=name, open=open)


# (A colon or full stop ending the URL is ffmpeg's punctuation: "URL: Invalid data", "file URL.")
_URL_QUERY_RE = re.compile(r"(https?://[^\s'\"?]*)\?[^\s'\"]*?(?=[.:,;]?(?:[\s'\"]|$))", re.IGNORECASE)
_SIGNING_RE = re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s'\"]*", re.IGNORECASE)


def redact_urls(text: str) -> str:
    """``text`` (ffmpeg's stderr, an error message) without the query string of any URL in it,
    and without a signature or credential printed on its own: ffmpeg echoes its input URL, and
    a presigned one is a credential."""
    return _SIGNING_RE.sub(r"\1<redacted>", _URL_QUERY_RE.sub(r"\1?<redacted>", text))
_GLOBAL = ("-hide_banner", "-nostdin")
_QUIET = ("-loglevel", "error", "-nostats")

# Bound for `-fs` on renders: far above what crf 23 needs even at 1080x1920, so hitting it means
# a runaway encode rather than a big clip; the slack covers headers on very short clips.
_MAX_RENDER_BITS_PER_SECOND = 50_000_000
_RENDER_SLACK_BYTES = 16 * 1024**2


@dataclass(frozen=True)
class MediaInfo:
    container: str  # "mp4" | "mov" | "mkv" | "webm"
    format_name: str
    duration_seconds: float
    width: int | None
    height: int | None
    fps: float | None
    has_video: bool
    has_audio: bool
    video_codec: str | None
    audio_codec: str | None
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "durationSeconds": self.duration_seconds,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "hasAudio": self.has_audio,
            "hasVideo": self.has_video,
            "videoCodec": self.video_codec,
            "audioCodec": self.audio_codec,
            "sizeBytes": self.size_bytes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(
            container=data["container"],
            format_name=_DEMUXER_BY_CONTAINER[data["container"]],
            duration_seconds=float(data["durationSeconds"]),
            width=data.get("width"),
            height=data.get("height"),
            fps=data.get("fps"),
            has_video=bool(data["hasVideo"]),
            has_audio=bool(data["hasAudio"]),
            video_codec=data.get("videoCodec"),
            audio_codec=data.get("audioCodec"),
            size_bytes=int(data["sizeBytes"]),
        )


_ACCEPTED = "Upload an MP4, MOV, MKV or WebM video."
_INPUT_RE = re.compile(r"^Input #0, (.+?), from '", re.MULTILINE)
_DURATION_RE = re.compile(r"^\s+Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)", re.MULTILINE)
_STREAM_RE = re.compile(r"^\s+Stream #0:\d+\S*: (Video|Audio): (\w+)(.*)$", re.MULTILINE)
# Guarded so the codec tag "(avc1 / 0x31637661)" never reads as a size.
_SIZE_RE = re.compile(r"(?:^|[\s,])([1-9]\d{0,5})x([1-9]\d{0,5})(?=[\s,\[]|$)")
_FPS_RE = re.compile(r"([\d.]+)(k?) (fps|tbr)\b")
_ROTATION_RE = re.compile(r"display ?matrix: rotation of (-?[\d.]+) degrees", re.IGNORECASE)


def parse_probe(ffmpeg_stderr: str, size_bytes: int) -> MediaInfo:
    """Read ``ffmpeg -hide_banner -i FILE`` stderr; raise MediaError for anything we won't render."""
    if size_bytes == 0:
        raise MediaError("empty_file", "The file is empty (0 bytes). " + _ACCEPTED)
    if "Format not on whitelist" in ffmpeg_stderr:
        raise MediaError("unsupported_container", "This file format is not supported. " + _ACCEPTED)
    match = _INPUT_RE.search(ffmpeg_stderr)
    if match is None:
        # ffmpeg guessed mov from nothing but the extension ("low score"): the bytes are not a
        # video at all, whereas a real mp4 without its moov atom was cut short.
        if "moov atom not found" in ffmpeg_stderr and "misdetection possible" not in ffmpeg_stderr:
            raise MediaError(
                "corrupt", "The video file is incomplete or damaged (its index is missing); upload it again."
            )
        raise MediaError("not_a_video", "The file is not a video ffmpeg can read. " + _ACCEPTED)
    format_name = match.group(1)
    if format_name not in (_MOV_DEMUXER, _MATROSKA_DEMUXER):
        raise MediaError("unsupported_container", f"The {format_name} format is not supported. " + _ACCEPTED)
    body = ffmpeg_stderr[match.end():]

    video, audio = _first_streams(body)
    if video is None:
        raise MediaError("no_video_stream", "The file has no video stream (audio only?). " + _ACCEPTED)
    video_codec, video_line, video_block = video
    size = _SIZE_RE.search(video_line)
    if size is None:
        raise MediaError("corrupt", "The video frame size could not be read; the file may be damaged.")
    width, height = int(size.group(1)), int(size.group(2))
    rotation = _ROTATION_RE.search(video_block)
    # ffmpeg rotates phone videos upright when decoding, so the size we render from is the rotated one.
    if rotation and round(float(rotation.group(1))) % 180 == 90:
        width, height = height, width

    duration = _DURATION_RE.search(body)
    if duration is None or duration.group(1) is None:
        raise MediaError(
            "unknown_duration", "The video's duration cannot be determined; re-export it and upload again."
        )
    seconds = int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
    if seconds <= 0:
        raise MediaError("unknown_duration", "The video's duration is zero or unknown; re-export it and upload again.")

    audio_codec = audio[0] if audio else None
    return MediaInfo(
        container=_container(format_name, body, video_codec, audio_codec),
        format_name=format_name,
        duration_seconds=round(seconds, 3),
        width=width,
        height=height,
        fps=_fps(video_line),
        has_video=True,
        has_audio=audio is not None,
        video_codec=video_codec,
        audio_codec=audio_codec,
        size_bytes=size_bytes,
    )


def _first_streams(body: str) -> tuple[tuple[str, str, str] | None, tuple[str, str, str] | None]:
    """(codec, stream line, stream block incl. side data) of the first real video and audio streams."""
    video = audio = None
    matches = list(_STREAM_RE.finditer(body))
    for i, m in enumerate(matches):
        block = body[m.start(): matches[i + 1].start() if i + 1 < len(matches) else len(body)]
        kind, codec, rest = m.groups()
        # Cover art in an mp4/mkv is a one-frame "video" stream; it is not footage.
        if kind == "Video" and video is None and "(attached pic)" not in rest:
            video = (codec, rest, block)
        elif kind == "Audio" and audio is None:
            audio = (codec, rest, block)
    return video, audio


def _container(format_name: str, body: str, video_codec: str, audio_codec: str | None) -> str:
    if format_name == _MOV_DEMUXER:
        # One demuxer serves mp4 and QuickTime; QuickTime files declare the major brand "qt  ".
        brand = re.search(r"^\s+major_brand\s*: (\S+)", body, re.MULTILINE)
        return "mov" if brand and brand.group(1) == "qt" else "mp4"
    # `ffmpeg -i` does not print the EBML DocType; WebM allows only VP8/VP9/AV1 with Opus/Vorbis,
    # so such codecs read as webm and anything else as mkv.
    webm = video_codec in _WEBM_VIDEO_CODECS and audio_codec in _WEBM_AUDIO_CODECS | {None}
    return "webm" if webm else "mkv"


def _fps(video_line: str) -> float | None:
    # Prefer "fps" (average rate) over "tbr" (a timebase guess); "1k" means 1000.
    found = {unit: float(value) * (1000 if k else 1) for value, k, unit in _FPS_RE.findall(video_line)}
    return found.get("fps", found.get("tbr"))


def check_limits(info: MediaInfo, *, max_seconds: float, max_pixels: int, max_bytes: int) -> None:
    if info.duration_seconds > max_seconds:
        raise MediaError(
            "too_long",
            f"The video is {_clock(info.duration_seconds)} long; the limit is {_clock(max_seconds)}.",
        )
    if info.width and info.height and info.width * info.height > max_pixels:
        raise MediaError(
            "too_large_dimensions",
            f"The video is {info.width}x{info.height} ({info.width * info.height:,} pixels); "
            f"the limit is {max_pixels:,} pixels per frame.",
        )
    if info.size_bytes > max_bytes:
        raise MediaError(
            "too_large_file", f"The file is {_bytes(info.size_bytes)}; the limit is {_bytes(max_bytes)}."
        )


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _bytes(n: int) -> str:
    value, unit = float(n), "bytes"
    for bigger in ("KB", "MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _floor_even(n: float) -> int:
    # yuv420p halves chroma resolution, so sizes and offsets stay even.
    return int(n) // 2 * 2


def _side(n: float) -> int:
    # At least 2 so a tiny source still yields a frame.
    return max(2, _floor_even(n))


def _ratio(aspect: str) -> tuple[int, int]:
    try:
        return ASPECT_RATIOS[aspect]
    except KeyError:
        raise MediaError(
            "unsupported_aspect", f"aspect must be one of {', '.join(ASPECT_RATIOS)}, not {aspect!r}."
        ) from None


def crop_box(src_w: int, src_h: int, aspect: str, center_x: float | None = None) -> tuple[int, int, int, int]:
    """(w, h, x, y) of the largest even-sized crop of ``aspect`` inside the source.

    The limiting side keeps its full (even) length and the other is floored to even, so the
    ratio is exact up to one or two pixels. ``center_x`` (0..1) moves the crop horizontally,
    clamped so it stays inside the frame; the crop is otherwise centred.
    """
    rw, rh = _ratio(aspect)
    if src_w * rh >= src_h * rw:
        h = _side(src_h)
        w = _side(h * rw // rh)
    else:
        w = _side(src_w)
        h = _side(w * rh // rw)
    cx = 0.5 if center_x is None else center_x
    x = _floor_even(min(max(cx * src_w - w / 2, 0), max(src_w - w, 0)))
    y = _floor_even(max(src_h - h, 0) / 2)
    return w, h, x, y


def output_size(src_w: int, src_h: int, aspect: str, upscale: bool = False) -> tuple[int, int]:
    """The platform size for ``aspect`` (e.g. 1080x1920), or the crop itself when the source
    cannot fill it: clips are cut from the source and not scaled up (1280x720 -> 9:16 is 404x720)
    unless ``upscale`` (the submit option ``allowUpscale``) asks for the platform size anyway."""
    tw, th = TARGET_SIZES[aspect]
    w, h, _, _ = crop_box(src_w, src_h, aspect)
    return (tw, th) if upscale or (w >= tw and h >= th) else (w, h)


# Platforms recommend at least 720 px on the short side; below it a clip looks soft.
MIN_SHORT_SIDE = 720


def resolution_note(src_w: int, src_h: int, aspect: str, upscale: bool, language: str | None = "en") -> str | None:
    """A sentence for the job's notes (in the video's ``language``) when clips come out (or were
    upscaled from) below 720 px."""
    from chalicelib.domain.messages import say

    cw, ch, _, _ = crop_box(src_w, src_h, aspect)
    if min(cw, ch) >= MIN_SHORT_SIDE:
        return None
    if upscale:
        return say("upscaled", language, width=src_w, height=src_h, crop=f"{cw}x{ch}",
                   target="x".join(map(str, TARGET_SIZES[aspect])))
    return say("low_resolution", language, width=src_w, height=src_h, crop=f"{cw}x{ch}", short=min(cw, ch),
               minimum=MIN_SHORT_SIDE)


def low_resolution(width: int | None, height: int | None) -> bool | None:
    """Whether a clip of ``width`` x ``height`` is below the 720 px platforms expect on its short side."""
    return None if not width or not height else min(width, height) < MIN_SHORT_SIDE


def split_panel_size(src_w: int, src_h: int, upscale: bool = False) -> tuple[int, int]:
    """Each panel of the split layout: the 9:16 output's width and half its height (even), so
    the two stacked make the 9:16 frame (two pixels short at most)."""
    ow, oh = output_size(src_w, src_h, "9:16", upscale)
    return ow, oh // 4 * 2


def max_render_bytes(seconds: float) -> int:
    return int(seconds * _MAX_RENDER_BITS_PER_SECOND / 8) + _RENDER_SLACK_BYTES


def _input(src: Source) -> list[str]:
    if isinstance(src, RemoteInput):
        # Redirects would lead elsewhere than the pinned object (S3 sends none to a valid URL).
        return ["-protocol_whitelist", src.protocols, "-format_whitelist", ALLOWED_DEMUXERS, "-max_redirects", "0",
                "-i", src.url]
    return [*INPUT_HARDENING, "-i", f"file:{src}"]


def probe_args(path: str) -> list[str]:
    return [*_GLOBAL, *_input(path)]


def filter_path(path: str) -> str:
    """``path`` as an option value inside a -vf/-af filter graph.

    ffmpeg unescapes twice: the graph parser (``\\ ' [ ] , ;``), then the filter's option
    parser (``\\ ' :``); each level takes a backslash before a special character.
    """
    option_level = re.sub(r"([\\':])", r"\\\1", path)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


# Loudness: what platforms normalise speech to (Spotify, YouTube, TikTok play at about
# -14 LUFS), reached within LOUDNESS_TOLERANCE_LU by measuring what the chain produces.
TARGET_LUFS = -14.0
LOUDNESS_TOLERANCE_LU = 0.3
# Sample peaks are limited to -2.5 dBFS so the true peak of the AAC stays under -1 dBTP: the
# encoder overshoots a heavily limited signal by up to about 1.3 dB (measured on quiet
# passages raised 26 dB: -1.0 dBTP at a -2 dBFS limit, -1.4 and lower at -2.5).
_PEAK_LIMIT = 10 ** (-2.5 / 20)
# The clip's audio fades in over this long: see speech_audio_filter.
_FADE_IN_SECONDS = 0.1
# Below this the clip is silence or near it: raising it would only amplify noise.
SILENT_LUFS = -60.0
MAX_GAIN_DB = 30.0
DOWNMIX = "aformat=channel_layouts=mono|stereo"  # mono stays mono, stereo stays, surround -> stereo
_LEVEL_KEY = "lavfi.astats.Overall.RMS_level"


def speech_audio_filter(source_lufs: float | None = None, gain_db: float = 0.0) -> str:
    """The clip's audio chain: downmix, then (given the source's measured loudness) a gentle
    compressor, make-up gain and a peak limiter.

    Speech peaks sit 15-20 dB above its loudness, so a plain gain to -14 LUFS would clip, and
    ffmpeg's loudnorm then falls back to its dynamic mode, which measured 3 LU short of the
    target (-17.0 LUFS) on the test speech. Instead the compressor (2.5:1 from 6 dB above the
    source's own loudness, slow enough to leave syllables intact) narrows the peaks, the
    limiter catches what is left, and the gain is found by measuring this very chain.
    """
    if source_lufs is None:
        return DOWNMIX
    threshold = min(1.0, max(0.001, 10 ** ((source_lufs + 6.0) / 20)))
    return (
        f"{DOWNMIX},"
        f"acompressor=threshold={threshold:.6f}:ratio=2.5:attack=10:release=200:knee=4,"
        f"volume={gain_db:.2f}dB,"
        # latency=true: the limiter's look-ahead is compensated, so sound stays in sync.
        f"alimiter=limit={_PEAK_LIMIT:.4f}:attack=5:release=50:level=false:latency=true,"
        # The compressor has no past at the clip's first sample, and a syllable rising out of the
        # cut, raised by a large gain, made the AAC encoder's first frames overshoot (+0.4 and
        # +1.1 dBTP, measured, with the limiter's own output at -2.5 dBFS); a 30 ms fade was
        # not enough. The cut lies in a pause (up to 0.3 s of room before the first word), so
        # the 0.1 s fade-in is heard as nothing, and no click either.
        f"afade=t=in:d={_FADE_IN_SECONDS}"
    )


def loudness_args(
    src: Source, *, start: float | None = None, end: float | None = None, audio_filter: str = DOWNMIX
) -> list[str]:
    """Measure the integrated loudness (EBU R128) of ``src``'s first audio stream, or of its
    [start, end) range, after ``audio_filter``: only audio is decoded. Read with ``parse_loudness``."""
    seek = [] if start is None else ["-ss", f"{start:.3f}"]
    if start is not None and end is not None:
        seek += ["-t", f"{end - start:.3f}"]
    return [
        *_GLOBAL, "-nostats", "-loglevel", "info", *seek, *_input(src),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", f"{audio_filter},ebur128", "-f", "null", "-",
    ]


def gain_table_args(src: str, source_lufs: float, gains: Sequence[float], block_files: Sequence[str]) -> list[str]:
    """One audio-only pass through the clip's audio chain (``speech_audio_filter(source_lufs,
    gain)``) at each of ``gains`` at once: the compressor runs once, then each gain's volume and
    limiter, and ebur128 writes that output's momentary loudness every 100 ms to its file in
    ``block_files`` (read with ``parse_blocks``; see ``domain.loudness``)."""
    chain = speech_audio_filter(source_lufs, 0.0).split(",")
    downmix_and_compressor = ",".join(c for c in chain if not c.startswith(("volume=", "alimiter=", "afade=")))
    limiter = next(c for c in chain if c.startswith("alimiter="))
    graph = [f"[0:a:0]{downmix_and_compressor},asplit={len(gains)}" + "".join(f"[c{i}]" for i in range(len(gains)))]
    outputs: list[str] = []
    for i, (gain, path) in enumerate(zip(gains, block_files, strict=True)):
        graph.append(f"[c{i}]volume={gain:.2f}dB,{limiter},ebur128=metadata=1,"
                     f"ametadata=mode=print:key={_MOMENTARY_KEY}:file={filter_path(path)}[m{i}]")
        outputs += ["-map", f"[m{i}]", "-f", "null", "-"]
    return [*_GLOBAL, *_QUIET, *_input(src), "-filter_complex", ";".join(graph), *outputs]


_MOMENTARY_KEY = "lavfi.r128.M"
_MOMENTARY_RE = re.compile(r"^lavfi\.r128\.M=(\S+)\s*$", re.MULTILINE)


def parse_blocks(metadata_text: str) -> list[float]:
    """Momentary loudness (LUFS, 2 decimals) of each 100 ms step from ``ametadata=mode=print``
    output of ebur128, silence floored at -120 so the list is JSON-safe."""
    blocks = []
    for raw in _MOMENTARY_RE.findall(metadata_text):
        try:
            value = float(raw)
        except ValueError:
            value = -120.0
        blocks.append(round(value, 2) if value > -120.0 else -120.0)
    return blocks


_SUMMARY_I_RE = re.compile(r"Summary:\s+Integrated loudness:\s+I:\s+(-?(?:[\d.]+|inf)) LUFS", re.DOTALL)


def parse_loudness(ffmpeg_stderr: str) -> float | None:
    """Integrated loudness in LUFS from ebur128's summary; None if there was none (no audio).
    Silence reads as -70 LUFS (the absolute gate)."""
    found = _SUMMARY_I_RE.findall(ffmpeg_stderr)
    if not found:
        return None
    value = float(found[-1])
    return max(value, -70.0)


def extract_audio_args(src: str, dst_wav: str, levels_txt: str | None = None, window_seconds: float = 1.0,
                       audio_copy: str | None = None) -> list[str]:
    """Mono 16 kHz 16-bit WAV for speech recognition; only the first audio stream is decoded.

    With ``levels_txt``, the same pass writes the RMS level of each ``window_seconds`` of that
    WAV (the last window may be shorter) as ffmpeg metadata lines: astats on 1 s frames. With
    ``audio_copy``, the same pass also copies that audio stream, as it is, into a Matroska
    file: a later pass over the audio at its own rate reads that instead of the whole video."""
    audio_filter = ["aresample=16000", "aformat=sample_fmts=s16:channel_layouts=mono"]
    if levels_txt:
        audio_filter += [
            f"asetnsamples=n={max(1, round(16000 * window_seconds))}:p=0",
            "astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=RMS_level",
            f"ametadata=mode=print:key={_LEVEL_KEY}:file={filter_path(levels_txt)}",
        ]
    return [
        *_GLOBAL, *_QUIET, "-y", *_input(src),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", ",".join(audio_filter),
        "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le",
        "-f", "wav", f"file:{dst_wav}",
        *(["-map", "0:a:0", "-vn", "-sn", "-dn", "-c:a", "copy", "-f", "matroska", f"file:{audio_copy}"]
          if audio_copy else []),
    ]


def thumbnail_args(clip: str, dst_jpg: str, *, at: float, quality: int = 3) -> list[str]:
    """One JPEG frame of a rendered clip at its own size: of the frames from ``at`` on, the
    most typical of the next eight (``thumbnail`` skips a blurred or transitional frame).
    ``quality`` is mjpeg's qscale, 2 (best) to 31."""
    return [
        *_GLOBAL, *_QUIET, "-y", "-ss", f"{max(0.0, at):.3f}", *_input(clip),
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", "thumbnail=n=8,format=yuvj420p",
        "-frames:v", "1", "-c:v", "mjpeg", "-q:v", str(quality),
        "-map_metadata", "-1", "-f", "image2", "-update", "1", f"file:{dst_jpg}",
    ]


def frame_args(src: Source, dst_jpg: str, *, at: float, vf: str, representative: bool, quality: int = 3) -> list[str]:
    """One JPEG from ``src`` (the source video) at ``at`` seconds through the clip's picture chain
    ``vf`` (crop, scale and, for a title, an ASS overlay; never the captions). ``representative``:
    the most typical of the next eight frames instead (``thumbnail`` skips a blurred one)."""
    chain = ("thumbnail=n=8," if representative else "") + vf + ",format=yuvj420p"
    return [
        *_GLOBAL, *_QUIET, "-y", "-ss", f"{max(0.0, at):.3f}", *_input(src),
        "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", chain,
        "-frames:v", "1", "-c:v", "mjpeg", "-q:v", str(quality),
        "-map_metadata", "-1", "-f", "image2", "-update", "1", f"file:{dst_jpg}",
    ]


def video_filter(
    width: int,
    height: int,
    aspect: str,
    *,
    center_x: float | None = None,
    crop_commands: str | None = None,
    panels: Sequence[tuple[int, int, int, int]] | None = None,
    captions: str | None = None,
    fonts_dir: str | None = None,
    upscale: bool = False,
) -> str:
    """Crop the upright ``width`` x ``height`` source to ``aspect``, scale to ``output_size``
    and, given an ASS script, burn captions in at output resolution.

    ``crop_commands`` is a sendcmd script moving the crop (``0.000 crop@reframe x 312;``, times
    in clip seconds, x in source pixels); the crop then starts centred and follows it.
    ``panels`` (the split layout) are two source boxes (x, y, w, h), each scaled to the output
    width and half its height (``split_panel_size``) and stacked top then bottom.
    ``fonts_dir`` is where libass finds the captions' fonts (nothing is taken from the system).
    """
    cw, ch, cx, cy = crop_box(width, height, aspect, center_x)
    ow, oh = output_size(width, height, aspect, upscale)
    # Lanczos keeps edges and text sharp when a small source is scaled up (allowUpscale).
    flags = ":flags=lanczos" if upscale else ""
    if panels:
        pw, ph = split_panel_size(width, height, upscale)
        # One input, two crops, one output: a filter graph -vf accepts, labels inside it.
        stacked = ";".join(
            ["split=2[p0][p1]"]
            + [f"[p{n}]crop={w}:{h}:{x}:{y},scale={pw}:{ph}{flags},setsar=1[s{n}]"
               for n, (x, y, w, h) in enumerate(panels)]
            + ["[s0][s1]vstack=inputs=2"]
        )
        chain = [stacked]
    elif crop_commands:
        chain = [f"sendcmd=f={filter_path(crop_commands)}", f"crop@reframe=w={cw}:h={ch}:x={cx}:y={cy}"]
    else:
        chain = [f"crop={cw}:{ch}:{cx}:{cy}"]
    if not panels:
        chain += [f"scale={ow}:{oh}{flags}", "setsar=1"]
    if captions:
        ass = f"ass=filename={filter_path(captions)}"
        if fonts_dir:
            ass += f":fontsdir={filter_path(fonts_dir)}"
        # HarfBuzz shaping: Arabic letters join, Devanagari forms conjuncts. It is libass's
        # default when built with HarfBuzz (the shipped ffmpeg is); saying so keeps it that way.
        chain.append(ass + ":shaping=complex")
    return ",".join(chain)


def render_args(
    src: Source,
    dst: str,
    *,
    start: float,
    end: float,
    aspect: str,
    width: int,
    height: int,
    preset: str = "veryfast",
    crf: int = 22,
    center_x: float | None = None,
    crop_commands: str | None = None,
    panels: Sequence[tuple[int, int, int, int]] | None = None,
    captions: str | None = None,
    fonts_dir: str | None = None,
    audio_filter: str = DOWNMIX,
    upscale: bool = False,
) -> list[str]:
    """Cut [start, end) from ``src`` (whose upright size is ``width`` x ``height``), crop it to
    ``aspect`` (statically, or following ``crop_commands``), scale it to ``output_size``, burn
    in ``captions`` (an ASS script) and run the audio through ``audio_filter``, as H.264/AAC
    mp4 with the index up front."""
    if not 0 <= start < end:
        raise MediaError("invalid_range", f"A clip needs 0 <= start < end; got start={start}, end={end}.")
    duration = end - start
    vf = video_filter(
        width, height, aspect, center_x=center_x, crop_commands=crop_commands, panels=panels, captions=captions,
        fonts_dir=fonts_dir, upscale=upscale,
    )
    return [
        *_GLOBAL, *_QUIET, "-y",
        # Before -i, -ss seeks to the nearest keyframe and then decodes and drops frames up to
        # `start`, so it is frame accurate when re-encoding and much faster than an output seek.
        # Timestamps then start at 0, which the captions and crop commands are written in.
        "-ss", f"{start:.3f}", "-t", f"{duration:.3f}",
        *_input(src),
        # "?" keeps a source without audio from failing: the clip then simply has no audio.
        "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", vf,
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        # 160k, not 128k: on limited speech ffmpeg's AAC encoder at 128k overshot the limiter's
        # -2 dBFS by 3.6 dB (a true peak of +1.6 dBTP, clipping on playback); 160k stayed at -1.3.
        "-af", audio_filter, "-c:a", "aac", "-b:a", "160k", "-ar", "48000",
        # Source metadata can carry a phone's GPS position; clips are published.
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-fs", str(max_render_bytes(duration)),
        "-f", "mp4", f"file:{dst}",
    ]
