"""Composition root: the one place services get their adapters from.

Each adapter is built on first use from the memoised clients and the config, and kept for
the process (a warm Lambda container, the local stack). The heavy ones (ffmpeg, Whisper,
the embedder, the face detector) import their libraries inside these functions, so the API
function, which never calls them, never loads them. Tests swap an adapter by replacing the
function (``monkeypatch.setattr(wiring, "records", ...)``) and call ``reset()`` between cases.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib import clients
from chalicelib.config import settings

if TYPE_CHECKING:
    from chalicelib.adapters.embeddings import Embedder
    from chalicelib.adapters.ffmpeg import Ffmpeg
    from chalicelib.adapters.records import Records
    from chalicelib.adapters.s3 import Blobs
    from chalicelib.adapters.secretbox import SecretBox
    from chalicelib.adapters.stepfunctions import Workflow
    from chalicelib.adapters.transcribe import AwsTranscriber
    from chalicelib.adapters.whisper import WhisperTranscriber


@lru_cache(maxsize=1)
def records() -> Records:
    from chalicelib.adapters.dynamo import Table
    from chalicelib.adapters.records import Records

    return Records(Table(clients.dynamodb(), settings().table_name))


@lru_cache(maxsize=1)
def blobs() -> Blobs:
    from chalicelib.adapters.s3 import Blobs

    return Blobs(clients.s3(), settings().bucket)


@lru_cache(maxsize=1)
def workflow() -> Workflow:
    from chalicelib.adapters.stepfunctions import Workflow

    return Workflow(clients.stepfunctions(), settings().state_machine_arn)


@lru_cache(maxsize=1)
def ffmpeg() -> Ffmpeg:
    from chalicelib.adapters.ffmpeg import Ffmpeg

    return Ffmpeg()


@lru_cache(maxsize=1)
def whisper() -> WhisperTranscriber:
    from chalicelib.adapters.whisper import WhisperTranscriber

    cfg = settings()
    return WhisperTranscriber(cfg.whisper_model, cfg.whisper_compute_type, cfg.whisper_threads,
                              multilingual_model=cfg.whisper_multilingual_model, model_cache=cfg.model_cache_dir)


@lru_cache(maxsize=1)
def aws_transcriber() -> AwsTranscriber:
    from chalicelib.adapters.transcribe import AwsTranscriber

    cfg = settings()
    return AwsTranscriber(clients.transcribe(), clients.s3(), cfg.bucket, cfg.transcribe_language_options)


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    from chalicelib.adapters.embeddings import Embedder

    return Embedder()


@lru_cache(maxsize=1)
def llm_selector() -> Any:
    """The Bedrock selector (``KLYPH_SELECTOR=bedrock``)."""
    from chalicelib.adapters.bedrock import BedrockSelector

    return BedrockSelector(clients.client("bedrock-runtime"), settings().bedrock_model_id)


def face_detector() -> Any:
    """The module whose ``detect_faces`` samples a clip's range (OpenCV is loaded on first call)."""
    from chalicelib.adapters import faces

    return faces


@lru_cache(maxsize=1)
def secret_box() -> SecretBox:
    """What seals webhook secrets: the stack's KMS key on AWS, the local stack's key file otherwise."""
    from chalicelib.adapters.secretbox import FileSecretBox, KmsSecretBox

    cfg = settings()
    return KmsSecretBox(clients.client("kms"), cfg.webhook_kms_key_id) if cfg.webhook_kms_key_id \
        else FileSecretBox(cfg.webhook_key_file)


def resolver() -> Any:
    """host, port -> addresses, for the webhook target checks (tests replace it: no DNS there)."""
    import socket

    return lambda host, port: [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


_MEMOS = (records, blobs, workflow, ffmpeg, whisper, aws_transcriber, embedder, llm_selector, secret_box)


def reset() -> None:
    """Forget every adapter and client (tests switch moto and env between cases)."""
    for memo in _MEMOS:
        memo.cache_clear()
    clients.reset()
