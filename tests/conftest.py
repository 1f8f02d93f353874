"""Shared fixtures: a fresh moto AWS per test with the real state machine, functions and app."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

# Tests never reach AWS or a model hub.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "HF_HUB_OFFLINE": "1",
        "KLYPH_TABLE": "klyph-test",
        "KLYPH_BUCKET": "klyph-test-media",
        "KLYPH_WHISPER_THREADS": "2",
        "POWERTOOLS_METRICS_DISABLED": "true",
        # Off unless a test turns it on: every upload would otherwise start a transcription in
        # the background, in tests that never submit (tests/integration/test_pipeline.py covers it).
        "KLYPH_PREPARE_ON_UPLOAD": "0",
        # The in-process moto has no address ffmpeg could fetch a presigned URL from: renders read
        # downloaded sources here. tests/integration/test_ranged_reads.py reads in place from a
        # moto server, and the end-to-end stack runs with the default (on).
        "KLYPH_RANGED_READS": "0",
    }
)
os.environ.pop("KLYPH_AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from support import FIXTURES, Api  # noqa: E402 - needs the path set above


class _SearchPaths(list):
    """A shared loader's search paths: boto3 appends its data folder once per Session."""

    def append(self, path):
        if path not in self:
            super().append(path)


def _share_botocore_loader() -> None:
    """One botocore data loader for the run, so each service's JSON model is parsed once.

    ``chalicelib.clients`` makes a fresh boto3 Session per client and ``wiring.reset()`` drops
    the clients between tests, so every test parsed the models of the six services its moto
    stack provisions again (~0.5 s a test). The loader caches what it read (botocore's own cache,
    per loader); the clients, their config and credentials are still made per test.
    """
    import botocore.session

    real, loaders = botocore.session.create_loader, {}

    def shared(search_path_string=None):
        if search_path_string not in loaders:
            loader = real(search_path_string)
            loader._search_paths = _SearchPaths(loader._search_paths)
            loaders[search_path_string] = loader
        return loaders[search_path_string]

    botocore.session.create_loader = shared


def _validate_each_definition_once() -> None:
    """moto's CreateStateMachine parses the definition with its ANTLR grammar only to validate
    it, and every test creates the same one (~0.5 s each time): a definition that passed is
    let through unparsed. Executions still parse it themselves, as before."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate, valid = StepFunctionsParserBackend._validate_definition, set()

    def once(definition: str):
        if definition not in valid:
            validate(definition=definition)  # raises InvalidDefinition as before
            valid.add(definition)

    StepFunctionsParserBackend._validate_definition = staticmethod(once)


_share_botocore_loader()
_validate_each_definition_once()


@pytest.fixture
def aws(monkeypatch):
    """moto with Step Functions executing for real and Lambda dispatching to app.py's handlers."""
    from moto import mock_aws

    from chalicelib.services import sources, wiring
    from devstack import stack

    monkeypatch.setenv("KLYPH_STATE_MACHINE_ARN", stack.state_machine_arn("us-east-1"))
    wiring.reset()
    sources.clear()
    stack.serialize_dynamodb()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        from app import app

        # Retries of S3-notified invocations after 0.05 s and 0.1 s instead of 1 s and 2 s.
        stack.install_lambda_dispatch(app, async_retry_delays=(0.05, 0.1))
        stack.provision(app, render_concurrency=2, retry_interval_seconds=1)
        yield app
        # A retry still waiting must not run against the next test's AWS, or real AWS.
        stack.stop_async_retries()
    wiring.reset()
    sources.clear()


@pytest.fixture
def workspace(aws):
    from chalicelib.services import auth

    return auth.create_workspace(name="test")


@pytest.fixture
def client(aws):
    from chalice.test import Client

    with Client(aws) as c:
        yield c


@pytest.fixture
def api(client, workspace):
    account_id, key = workspace
    a = Api(client, key)
    a.account_id = account_id
    return a


@pytest.fixture
def project(api):
    status, body = api.post("/dev/create-project", {"name": "Test Project", "accountId": api.account_id})
    assert status == 200, body
    return body


@pytest.fixture(scope="session")
def speech_video(tmp_path_factory):
    """~48 s of real speech (espeak-ng) over a moving test pattern, 640x360 mp4."""
    from media_fixtures import make_video

    path = tmp_path_factory.mktemp("media") / "speech.mp4"
    make_video(path, seconds=60, width=640, height=360, audio=FIXTURES / "speech_short.ogg")
    return path


@pytest.fixture(scope="session")
def short_speech_video(tmp_path_factory):
    """The first 20 s of the same speech over the same pattern, 640x360 mp4: for jobs where how
    much is said is not what the test is about (Whisper hears 20 s instead of 47 s)."""
    from media_fixtures import make_video

    path = tmp_path_factory.mktemp("media") / "speech-20s.mp4"
    make_video(path, seconds=20, width=640, height=360, audio=FIXTURES / "speech_short.ogg")
    return path
