"""Lambda's hard limit: a function's code plus its layers, unzipped, must stay under 250 MB.

Sizes come from what would be uploaded: the ``chalice package`` deployment zip and the
layer zips, as the synthesised template attaches them to each function.
"""
from __future__ import annotations

import zipfile
from functools import cache
from pathlib import Path

import pytest

from chalicelib.statemachine import TASK_FUNCTIONS

pytestmark = pytest.mark.slow

LIMIT_BYTES = 250 * 1024 * 1024  # Lambda counts MiB
MB = 1e6


@cache
def unzipped(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def function_sizes(synth) -> dict[str, tuple[int, dict[str, int]]]:
    """FunctionName -> (code bytes, {layer description: bytes})."""
    resources = synth.template["Resources"]
    sizes = {}
    for props in (r["Properties"] for r in synth.resources("AWS::Serverless::Function").values()):
        code = unzipped(synth.asset(props["CodeUri"]["Key"]))
        layers = {}
        for ref in props.get("Layers", []):
            layer = resources[ref["Ref"]]["Properties"]
            layers[layer["Description"].split()[0]] = unzipped(synth.asset(layer["Content"]["S3Key"]))
        sizes[props["FunctionName"]] = (code, layers)
    return sizes


def test_every_function_fits_lambdas_unzipped_limit(synth):
    sizes = function_sizes(synth)
    assert len(sizes) == 2 + len(TASK_FUNCTIONS)  # the API, the upload trigger, the tasks
    report = []
    for name, (code, layers) in sorted(sizes.items()):
        total = code + sum(layers.values())
        report.append(f"{name:40s} code {code / MB:6.1f} MB + layers {sum(layers.values()) / MB:6.1f} MB "
                      f"({', '.join(layers) or 'none'}) = {total / MB:6.1f} MB")
        assert total < LIMIT_BYTES, report[-1]
    print("\n" + "\n".join(report))


def test_the_reframe_planner_fits_with_opencv(synth):
    """The largest layer set after ffmpeg's: OpenCV with its FFmpeg libraries, and numpy."""
    code, layers = function_sizes(synth)["klyph-prod-pipeline_reframe"]
    assert set(layers) == {"opencv-python-headless", "aws-xray-sdk"}
    total = code + sum(layers.values())
    print(f"\npipeline_reframe: code {code / MB:.1f} MB + OpenCV/numpy {layers['opencv-python-headless'] / MB:.1f} MB "
          f"+ X-Ray {layers['aws-xray-sdk'] / MB:.1f} MB = {total / MB:.1f} MB of {LIMIT_BYTES / MB:.1f} MB")
    assert total < LIMIT_BYTES


def test_the_shared_package_stays_light(synth):
    """requirements.txt rides in every function: heavy packages belong in layers."""
    code = {c for c, _ in function_sizes(synth).values()}
    assert len(code) == 1  # one package for all functions
    assert code.pop() < 30 * MB
