"""The one place boto3 clients come from: created lazily, memoised per process.

Lazy creation keeps the API function's cold start small and lets tests activate
moto before any client exists (``reset()`` drops the memo between tests).
"""
from __future__ import annotations

import logging
from functools import cache
from typing import Any

from chalicelib.config import settings


def _not_signing_details(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


# botocore logs each request's canonical form, string to sign and signature at DEBUG: for a
# presigned URL (a render's source) that is the credential itself, so those lines never leave.
logging.getLogger("botocore.auth").addFilter(_not_signing_details)


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    # "standard" retries throttling, 5xx and dropped connections with backoff (3 attempts);
    # what still fails the adapters raise as TransientError (adapters/aws_errors.py).
    config = Config(retries={"mode": "standard"})
    if service == "s3":
        # S3 presigned URLs must name the regional virtual host or the local endpoint;
        # path style keeps them valid against the moto server too.
        config = config.merge(Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    return boto3.session.Session().client(service, region_name=cfg.region, endpoint_url=cfg.endpoint_url, config=config)


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def stepfunctions() -> Any:
    return client("stepfunctions")


def transcribe() -> Any:
    return client("transcribe")


def reset() -> None:
    client.cache_clear()
    settings.cache_clear()
