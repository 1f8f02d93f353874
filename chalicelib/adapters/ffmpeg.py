"""Runs the ffmpeg binary on local files (or a source read in place over HTTP(S), the renders'
``RemoteInput``): probe an upload, extract speech audio with its
loudness profile, render a clip (captions, loudness, reframing), take its thumbnail.

The argument lists and the reading of ffmpeg's output live in ``chalicelib.domain.media``; this
module adds the process: binary choice, timeouts, the shipped caption font, and turning
failures into MediaError with a short message (one stderr line, never the whole log).
"""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chalicelib.adapters.audio import parse_levels
from chalicelib.config import settings
from chalicelib.domain import loudness, media
from chalicelib.domain.media import MediaInfo, RemoteInput, Source
from chalicelib.errors import MediaError

_ASSETS = Path(__file__).resolve().parent.parent / "assets"
# libass loads every font in this folder (the `ass` filter's fontsdir); captions need no
# system font, which Lambda does not have.
FONTS_DIR = str(_ASSETS / "fonts")
# The static ffmpeg is built with fontconfig, which would look for /etc/fonts (absent on
# Lambda: an error line on every run) or, on a workstation, scan and match the system's
# fonts. This config knows no font at all, so renders look the same everywhere and come
# only from FONTS_DIR.
FONTCONFIG_FILE = str(_ASSETS / "fontconfig.conf")
# A thumbnail above this is recompressed harder: it is a preview image, not a frame grab.
MAX_THUMBNAIL_BYTES = 300 * 1024
_THUMBNAIL_QUALITIES = (3, 5, 8, 12)
_LOUDNESS_PASSES = 4
# Work nobody waits for yet runs beside work someone does (the loudness table beside Whisper):
# the scheduler gives it what the other leaves idle.
BACKGROUND_NICENESS = 10

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

    def extract_audio(self, src: str, dst_wav: str, audio_copy: str | None = None) -> list[float]:
        """Write the speech WAV and return its loudness profile (dBFS per second, floored at
        -100), both from one decoding pass; with ``audio_copy``, also the source's audio stream
        as it is (``media.extract_audio_args``), when Matroska can hold its codec."""
        levels_txt = dst_wav + ".levels.txt"
        try:
            result = self._run(media.extract_audio_args(src, dst_wav, levels_txt, audio_copy=audio_copy))
            if result.returncode != 0 and audio_copy and "matches no streams" not in result.stderr:
                # A codec Matroska cannot carry: without the copy (a later pass reads the source).
                Path(audio_copy).unlink(missing_ok=True)
                result = self._run(media.extract_audio_args(src, dst_wav, levels_txt))
            if result.returncode != 0:
                if "matches no streams" in result.stderr:
                    raise MediaError(
                        "no_audio_stream", "The video has no audio track, so there is no speech to transcribe."
                    )
                raise self._failure(result.stderr, src, dst_wav)
            try:
                return parse_levels(Path(levels_txt).read_text())
            except FileNotFoundError:  # no audio frame at all
                return []
        finally:
            Path(levels_txt).unlink(missing_ok=True)

    def gain_table(self, src: str, levels: list[float], *, background: bool = False) -> dict[str, Any] | None:
        """One audio-only pass measuring the clip audio chain's output over the whole of ``src``
        at a few gains (``domain.loudness``), from which each clip's gain is computed without a
        pass of its own; None for silence (nothing to normalise). ``levels``: the per-second
        levels ``extract_audio`` returned, which place the gains. ``background``: at a low CPU
        priority, beside work someone waits for (Whisper)."""
        estimate = loudness.estimate_lufs(levels)
        if estimate is None or estimate <= media.SILENT_LUFS:
            return None
        estimate = round(estimate, 2)  # as stored: the render's compressor gets the same threshold
        nominal = media.TARGET_LUFS - estimate
        gains = [round(nominal + offset, 2) for offset in loudness.GAIN_OFFSETS_DB]
        with tempfile.TemporaryDirectory() as tmp:
            files = [os.path.join(tmp, f"blocks{i}.txt") for i in range(len(gains))]
            result = self._run(media.gain_table_args(src, estimate, gains, files),
                               niceness=BACKGROUND_NICENESS if background else 0)
            if result.returncode != 0:
                raise self._failure(result.stderr, src)
            blocks = [media.parse_blocks(Path(f).read_text()) if os.path.exists(f) else [] for f in files]
        return {"v": loudness.TABLE_VERSION, "sourceLufs": estimate, "gains": gains, "blocks": blocks}

    def measure_loudness(
        self, path: Source, *, start: float | None = None, end: float | None = None, audio_filter: str = media.DOWNMIX
    ) -> float | None:
        """Integrated loudness (LUFS, EBU R128) of the first audio stream of ``path`` (or of
        its [start, end) range) after ``audio_filter``; None when there is no audio stream."""
        result = self._run(media.loudness_args(path, start=start, end=end, audio_filter=audio_filter))
        loudness = media.parse_loudness(result.stderr)
        if loudness is None and result.returncode != 0 and "matches no streams" not in result.stderr:
            raise self._failure(result.stderr, path)
        return loudness

    def loudness_filter(self, src: Source, *, start: float, end: float) -> str:
        """The audio chain that brings [start, end) of ``src`` to TARGET_LUFS.

        The compressor and limiter make loudness a non-linear function of the gain, so the
        gain is found by measuring the chain's output (audio only, a fraction of the video
        encode) and correcting it by the secant method: two or three passes get within 0.3 LU.
        """
        source = self.measure_loudness(src, start=start, end=end)
        if source is None or source <= media.SILENT_LUFS:
            return media.DOWNMIX
        gain = media.TARGET_LUFS - source
        tried: list[tuple[float, float]] = []  # (gain, measured loudness)
        for _ in range(_LOUDNESS_PASSES):
            measured = self.measure_loudness(
                src, start=start, end=end, audio_filter=media.speech_audio_filter(source, gain)
            )
            if measured is None:
                break
            tried.append((gain, measured))
            error = media.TARGET_LUFS - measured
            if abs(error) <= media.LOUDNESS_TOLERANCE_LU:
                break
            slope = 0.5  # measured: about 0.5 LU per dB of gain once the limiter works
            if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
                slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
            gain = min(media.MAX_GAIN_DB, max(-media.MAX_GAIN_DB, gain + error / min(1.0, max(0.25, slope))))
        if not tried:
            return media.DOWNMIX
        best_gain, _ = min(tried, key=lambda t: abs(media.TARGET_LUFS - t[1]))
        return media.speech_audio_filter(source, best_gain)

    def render_clip(
        self,
        src: Source,
        dst: str,
        *,
        start: float,
        end: float,
        aspect: str,
        info: MediaInfo,
        preset: str = "veryfast",
        crf: int = 22,
        captions: str | None = None,
        crop_commands: str | None = None,
        panels: Sequence[tuple[int, int, int, int]] | None = None,
        normalize_loudness: bool = True,
        gain_table: dict[str, Any] | None = None,
        upscale: bool = False,
    ) -> MediaInfo:
        """Render [start, end) of ``src`` to an mp4 at ``dst``; returns the probe of the clip.

        ``captions``: an ASS script (clip time, output size) burned in with the shipped font.
        ``crop_commands``: a sendcmd script moving the crop (see ``media.video_filter``).
        ``panels``: the split layout's two source boxes, stacked (see ``media.video_filter``).
        ``normalize_loudness``: bring the audio to -14 LUFS: with the gain computed from
        ``gain_table`` (``gain_table()`` of the same source), else found by a few audio-only passes.
        """
        if info.width is None or info.height is None:
            raise MediaError("no_video_stream", "The source has no video stream to cut a clip from.")
        if start >= info.duration_seconds:
            raise MediaError(
                "invalid_range",
                f"The clip starts at {start:.2f} s but the video is only {info.duration_seconds:.2f} s long.",
            )
        audio_filter = media.DOWNMIX
        if normalize_loudness and info.has_audio and start < end:
            gain = loudness.gain_for_range(gain_table, start, end, media.TARGET_LUFS) if gain_table else None
            if gain is not None and gain_table is not None:
                silent = gain.silent or gain_table["sourceLufs"] <= media.SILENT_LUFS
                audio_filter = media.DOWNMIX if silent else media.speech_audio_filter(gain_table["sourceLufs"], gain.db)
            else:
                audio_filter = self.loudness_filter(src, start=start, end=end)
        args = media.render_args(
            src, dst, start=start, end=end, aspect=aspect, width=info.width, height=info.height, preset=preset, crf=crf,
            crop_commands=crop_commands, panels=panels, captions=captions, fonts_dir=FONTS_DIR if captions else None,
            audio_filter=audio_filter, upscale=upscale,
        )
        result = self._run(args)
        if result.returncode != 0:
            raise self._failure(result.stderr, src, dst)
        clip = self._probe(dst)
        # ffmpeg stops at the -fs bound and still exits 0, leaving a clip cut short.
        if clip.size_bytes >= media.max_render_bytes(end - start):
            raise MediaError("output_too_large", "The rendered clip exceeded the output size bound and was cut short.")
        return clip

    def thumbnail(self, clip: str, dst_jpg: str, *, duration: float) -> int:
        """A JPEG of a representative frame about a third into a rendered clip, at the clip's
        size and under MAX_THUMBNAIL_BYTES; returns its size in bytes."""
        return self._jpeg(clip, dst_jpg, lambda q: media.thumbnail_args(clip, dst_jpg, at=duration / 3, quality=q))

    def frame(self, src: Source, dst_jpg: str, *, at: float, vf: str, representative: bool) -> int:
        """A JPEG thumbnail of ``src`` at ``at`` through ``vf`` (see ``media.frame_args``), under
        MAX_THUMBNAIL_BYTES; returns its size in bytes."""
        return self._jpeg(src, dst_jpg, lambda q: media.frame_args(src, dst_jpg, at=at, vf=vf,
                                                                  representative=representative, quality=q))

    def _jpeg(self, src: Source, dst_jpg: str, args_at: Callable[[int], list[str]]) -> int:
        """Run ``args_at(quality)`` at falling JPEG qualities until the file is under
        MAX_THUMBNAIL_BYTES; its size in bytes."""
        size = 0
        for quality in _THUMBNAIL_QUALITIES:
            result = self._run(args_at(quality))
            if result.returncode != 0:
                raise self._failure(result.stderr, src, dst_jpg)
            size = os.stat(dst_jpg).st_size if os.path.exists(dst_jpg) else 0
            if size == 0:
                raise MediaError("ffmpeg_failed", "ffmpeg failed: no frame could be taken for the thumbnail.")
            if size <= MAX_THUMBNAIL_BYTES:
                break
        return size

    def _probe(self, path: str) -> MediaInfo:
        size = os.stat(path).st_size
        if size == 0:
            return media.parse_probe("", 0)
        # Without an output file ffmpeg exits 1 after printing the input description: expected.
        return media.parse_probe(self._run(media.probe_args(path)).stderr, size)

    def _run(self, args: list[str], niceness: int = 0) -> subprocess.CompletedProcess[str]:
        command = [self.binary, *args]
        with subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "FONTCONFIG_FILE": FONTCONFIG_FILE},
            errors="replace",  # metadata in uploads need not be UTF-8
        ) as process:
            if niceness:
                # Set from here, not in the child (preexec_fn is unsafe beside threads); the
                # process has done nothing heavy in the microseconds before.
                with contextlib.suppress(OSError):  # it has already exited
                    os.setpriority(os.PRIO_PROCESS, process.pid, niceness)
            try:
                stdout, stderr = process.communicate(timeout=self.timeout_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise MediaError("timeout", f"ffmpeg did not finish within {self.timeout_seconds} s.") from None
        # Callers read the exit code; a probe exits 1 by design. ffmpeg echoes a presigned input
        # URL (a credential) in its errors: gone before anything reads, logs or stores its output.
        return subprocess.CompletedProcess(command, process.returncode, stdout, media.redact_urls(stderr))

    @staticmethod
    def _failure(stderr: str, *paths: Source) -> MediaError:
        lines = [_CONTEXT_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
        lines = [line for line in lines if line]
        meaningful = [line for line in lines if not _AFTERMATH.match(line)]
        message = media.redact_urls((meaningful or lines or ["ffmpeg failed without a message"])[-1])
        # Local working paths mean nothing to the user.
        for path in paths:
            if isinstance(path, RemoteInput):
                message = message.replace(media.redact_urls(path.url), path.name)
            else:
                message = message.replace(path, os.path.basename(path))
        return MediaError("ffmpeg_failed", f"ffmpeg failed: {message[:300]}")
