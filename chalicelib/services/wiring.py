"""Composition root: builds adapters from the memoised clients and the config, once per process."""
from __future__ import annotations

from functools import lru_cache

from chalicelib import clients
from chalicelib.adapters.dynamo import Table
from chalicelib.adapters.records import Records
from chalicelib.adapters.s3 import Blobs
from chalicelib.adapters.stepfunctions import Workflow
from chalicelib.config import settings


@lru_cache(maxsize=1)
def records() -> Records:
    return Records(Table(clients.dynamodb(), settings().table_name))


@lru_cache(maxsize=1)
def blobs() -> Blobs:
    return Blobs(clients.s3(), settings().bucket)


@lru_cache(maxsize=1)
def workflow() -> Workflow:
    return Workflow(clients.stepfunctions(), settings().state_machine_arn)


def reset() -> None:
    """Forget every adapter and client (tests switch moto and env between cases)."""
    for memo in (records, blobs, workflow):
        memo.cache_clear()
    clients.reset()
