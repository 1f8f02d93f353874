"""Runs the ffmpeg binary on local files: probe an upload, extract speech audio, render a clip.

The argument lists and the reading of ffmpeg's output live in ``chalicelib.domain.media``; this
module adds the process: binary choice, timeouts, and turning failures into MediaError with a
short message (one stderr line, never the whole log).
"""
from __future__ import annotations

import os
import re
import subprocess

from chalicelib.config import settings
from chalicelib.domain import media
from chalicelib.domain.media import MediaInfo
from chalicelib.errors import MediaError

# Lines ffmpeg prints after the real error while it shuts down; they never say what went wrong.
_AFTERMATH = re.compile(
    r"^(Task finished|Terminating thread|Conversion failed|Error opening (input|output) files?"
    r"|Error reinitializing filters|Failed to configure|Could not open encoder before EOF"
    r"|Nothing was written|To ignore this|Error parsing options|Failed to set value|Exiting"
    r"|Error sending frames to consumers|Error while opening encoder|Error while filtering)"
)
_CONTEXT_PREFIX = re.compile(r"^(\[[^\]]* @ 0x[0-9a-f]+\] )+")


class Ffmpeg:
    def __init__(self, binary: str | None = None, timeout_seconds: float | None = None):
        config = settings()
        binary = config.ffmpeg_binary if binary is None else binary
        if not binary:
            import imageio_ffmpeg

            binary = imageio_ffmpeg.get_ffmpeg_exe()
        self.binary = binary
        self.timeout_seconds = config.ffmpeg_timeout_seconds if timeout_seconds is None else timeout_seconds

    def probe(self, path: str) -> MediaInfo:
        """Describe an upload, rejecting anything we won't process (format, streams, limits)."""
        info = self._probe(path)
        config = settings()
        media.check_limits(
            info,
            max_seconds=config.max_video_seconds,
            max_pixels=config.max_video_pixels,
            max_bytes=config.max_upload_bytes,
        )
        return info

    def extract_audio(self, src: str, dst_wav: str) -> None:
        result = self._run(media.extract_audio_args(src, dst_wav))
        if result.returncode != 0:
            if "matches no streams" in result.stderr:
                raise MediaError(
                    "no_audio_stream", "The video has no audio track, so there is no speech to transcribe."
                )
            raise self._failure(result.stderr, src, dst_wav)

    def render_clip(
        self,
        src: str,
        dst: str,
        *,
        start: float,
        end: float,
        aspect: str,
        info: MediaInfo,
        preset: str = "veryfast",
        crf: int = 23,
    ) -> MediaInfo:
        """Render [start, end) of ``src`` to an mp4 at ``dst``; returns the probe of the clip."""
        if info.width is None or info.height is None:
            raise MediaError("no_video_stream", "The source has no video stream to cut a clip from.")
        if start >= info.duration_seconds:
            raise MediaError(
                "invalid_range",
                f"The clip starts at {start:.2f} s but the video is only {info.duration_seconds:.2f} s long.",
            )
        args = media.render_args(
            src, dst, start=start, end=end, aspect=aspect, width=info.width, height=info.height, preset=preset, crf=crf
        )
        result = self._run(args)
        if result.returncode != 0:
            raise self._failure(result.stderr, src, dst)
        clip = self._probe(dst)
        # ffmpeg stops at the -fs bound and still exits 0, leaving a clip cut short.
        if clip.size_bytes >= media.max_render_bytes(end - start):
            raise MediaError("output_too_large", "The rendered clip exceeded the output size bound and was cut short.")
        return clip

    def _probe(self, path: str) -> MediaInfo:
        size = os.stat(path).st_size
        if size == 0:
            return media.parse_probe("", 0)
        # Without an output file ffmpeg exits 1 after printing the input description: expected.
        return media.parse_probe(self._run(media.probe_args(path)).stderr, size)

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.binary, *args],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",  # metadata in uploads need not be UTF-8
                timeout=self.timeout_seconds,
            )
        except subprocess.TimeoutExpired:
            raise MediaError("timeout", f"ffmpeg did not finish within {self.timeout_seconds} s.") from None

    @staticmethod
    def _failure(stderr: str, *paths: str) -> MediaError:
        lines = [_CONTEXT_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
        lines = [line for line in lines if line]
        meaningful = [line for line in lines if not _AFTERMATH.match(line)]
        message = (meaningful or lines or ["ffmpeg failed without a message"])[-1]
        # Local working paths mean nothing to the user.
        for path in paths:
            message = message.replace(path, os.path.basename(path))
        return MediaError("ffmpeg_failed", f"ffmpeg failed: {message[:300]}")
