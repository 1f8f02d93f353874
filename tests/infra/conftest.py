"""One ``cdk synth`` per test session: the CDK app run offline into a temporary cdk.out.

The layer zips it needs come from ``make layer``; when they are missing they are built
here (about a minute, the package index must be reachable).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
sys.path.append(str(INFRA))  # after the project root: infra/ must not shadow app.py


@dataclass
class Synth:
    out: Path
    template: dict
    seconds: float

    @property
    def template_path(self) -> Path:
        return self.out / "prod.template.json"

    def resources(self, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def asset(self, key: str) -> Path:
        """The cdk.out file behind an asset's S3 key (``<hash>.zip``)."""
        return self.out / f"asset.{key}"


def _ensure_layers() -> None:
    import layers

    missing = [name for name, path in (("ffmpeg", layers.FFMPEG_LAYER), ("ml", layers.ML_LAYER),
                                       ("vision", layers.VISION_LAYER), ("tracing", layers.TRACING_LAYER))
               if not path.exists()]
    if missing:
        layers.main(missing)


def run_synth(work: Path, context: dict | None = None) -> Synth:
    _ensure_layers()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    env.update(CDK_OUTDIR=str(work / "cdk.out"), AWS_DEFAULT_REGION="us-east-1",
               JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="1")
    if context:
        env["CDK_CONTEXT_JSON"] = json.dumps(context)  # what `cdk -c key=value` hands the app
    started = time.monotonic()
    # cwd: chalice.cdk writes its chalice.out/ into the working directory.
    proc = subprocess.run([sys.executable, str(INFRA / "cdk_app.py")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, f"synth failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    out = work / "cdk.out"
    return Synth(out=out, template=json.loads((out / "prod.template.json").read_text()), seconds=seconds)


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synth:
    """The default deployment: ``make synth``."""
    return run_synth(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def synth_with_options(tmp_path_factory) -> Synth:
    """The optional parts switched on (alarm email, Bedrock selector, CORS origins) and preparing
    at upload switched off."""
    return run_synth(tmp_path_factory.mktemp("synth-options"), {
        "alarmEmail": "ops@example.com", "selector": "bedrock", "corsOrigins": "https://app.example.com",
        "renderConcurrency": "4", "prepareOnUpload": "false"})
