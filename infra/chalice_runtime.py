"""Make ``chalice package`` build for Lambda's python3.12 while the venv runs Python 3.11.

Why: Chalice picks the Lambda runtime from the interpreter running it (3.11 here), and
Lambda's python3.11 runs on Amazon Linux 2 with glibc 2.26. imageio-ffmpeg's ffmpeg needs
glibc 2.28 and numpy 2.4's wheels need 2.27, so neither would load there. python3.12 runs on
Amazon Linux 2023 (glibc 2.34), where both do.

How: two small patches to Chalice 1.34 (pinned in tests/requirements.txt; tests/infra checks
the package really holds cp312 binaries):
- ``Config.lambda_python_version`` answers the target runtime, so the template says
  python3.12 and the packager looks for cp312 wheels;
- the packager's manylinux download passes ``--python-version``, without which pip only
  considers wheels for the interpreter running it and finds no cp312 binary.
Only binary wheels can be cross-built this way; every runtime requirement has one.
"""
from __future__ import annotations

from typing import Any

LAMBDA_RUNTIME = "python3.12"


def target_python_version(runtime: str = LAMBDA_RUNTIME) -> str:
    return runtime.removeprefix("python")


def patch_chalice(runtime: str = LAMBDA_RUNTIME) -> None:
    from chalice.config import Config
    from chalice.deploy import packager

    Config.lambda_python_version = property(lambda self: runtime)  # type: ignore[assignment]

    original = packager.PipRunner.download_manylinux_wheels
    if getattr(original, "_klyph_patched", False):
        return
    version = target_python_version(runtime)

    def download_manylinux_wheels(self: Any, abi: str, packages: list[str], directory: str,
                                  platforms: list[str] | None = None) -> None:
        for package in packages:
            arguments = ["--only-binary=:all:", "--no-deps", "--python-version", version]
            for platform in platforms or ["manylinux2014_x86_64"]:
                arguments.extend(["--platform", platform])
            arguments.extend(["--implementation", "cp", "--abi", abi, "--dest", directory, package])
            self._execute("download", arguments)

    download_manylinux_wheels._klyph_patched = True  # type: ignore[attr-defined]
    packager.PipRunner.download_manylinux_wheels = download_manylinux_wheels
