"""Small media files generated on the fly for tests: real videos in each container, and the
hostile or broken inputs the ffmpeg adapter must refuse."""
from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

# Codecs and muxer per container; vp8 in realtime mode keeps webm generation fast.
_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "32", "-pix_fmt", "yuv420p"]
_CODECS = {
    "mp4": (_X264, ["-c:a", "aac"], "mp4"),
    "mov": (_X264, ["-c:a", "aac"], "mov"),
    "mkv": (_X264, ["-c:a", "aac"], "matroska"),
    "webm": (
        ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k"], ["-c:a", "libopus"], "webm"
    ),
}


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True)


def make_video(
    dst: str | Path,
    *,
    seconds: float,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    audio: str | Path | None = "tone",
    container: str = "mp4",
) -> Path:
    """A testsrc2 video (every frame differs). ``audio``: "tone", "silence", None (no audio
    track) or a path to an audio file used as the soundtrack (the video then ends with it)."""
    video_codec, audio_codec, muxer = _CODECS[container]
    if video_codec is _X264:
        # A keyframe every 2 s, as phones and cameras write them (x264's default is every 10 s),
        # so the face analysis takes the path it takes on real footage.
        video_codec = [*video_codec, "-g", str(2 * fps)]
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio == "tone":
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    elif audio == "silence":
        inputs += ["-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate=48000:duration={seconds}"]
    elif audio is not None:
        inputs += ["-i", str(audio)]
    streams = ["-map", "0:v", *(["-map", "1:a", *audio_codec, "-shortest"] if audio is not None else [])]
    _ffmpeg(*inputs, *streams, *video_codec, "-t", str(seconds), "-f", muxer, str(dst))
    return Path(dst)


def make_audio_only(dst: str | Path, seconds: float) -> Path:
    """A tone in the format ``dst``'s extension names (.m4a passes the container allowlist)."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}", str(dst))
    return Path(dst)


def make_hls_playlist(dst: str | Path, segment: str | Path | None = None) -> Path:
    """An HLS playlist whose one segment is ``segment`` (any local file) or a URL."""
    uri = str(segment) if segment else "http://127.0.0.1:9/segment0.ts"
    Path(dst).write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\n{uri}\n#EXT-X-ENDLIST\n"
    )
    return Path(dst)


def make_ffconcat(dst: str | Path, target: str | Path) -> Path:
    """An ffconcat list naming ``target``, which must sit in the list's folder or below: the
    concat demuxer's safe mode refuses absolute and ".." paths, so only this form is followed."""
    dst = Path(dst)
    dst.write_text(f"ffconcat version 1.0\nfile '{Path(target).resolve().relative_to(dst.resolve().parent)}'\n")
    return dst


def make_truncated_mp4(src: str | Path, dst: str | Path) -> Path:
    """The first half of ``src``: an mp4 written without faststart keeps its index (moov) at
    the end, so the copy has media data but no index, like an interrupted upload."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: len(data) // 2])
    return Path(dst)


def top_level_atoms(path: str | Path) -> list[str]:
    """Names of the top-level boxes of an mp4, in file order."""
    data = Path(path).read_bytes()
    names, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset: offset + 4], "big")
        names.append(data[offset + 4: offset + 8].decode("latin-1"))
        if size == 1:  # 64-bit size follows the name
            size = int.from_bytes(data[offset + 8: offset + 16], "big")
        elif size == 0:  # box runs to the end of the file
            break
        offset += size
    return names
