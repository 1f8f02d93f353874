"""Assembling a model from pieces shipped in separate wheels: checked, once, safe to race."""
import hashlib
import json
import threading

import pytest

from chalicelib.adapters import whisper_models
from chalicelib.adapters.whisper_models import MARKER, ModelIntegrityError, assemble


@pytest.fixture
def pieces(tmp_path):
    a, b = tmp_path / "wheel1", tmp_path / "wheel2"
    a.mkdir()
    b.mkdir()
    (a / "model.bin.part1").write_bytes(b"A" * 1000)
    (b / "model.bin.part2").write_bytes(b"B" * 500)
    (a / "config.json").write_text('{"lang_ids": [1, 2]}')
    whole = b"A" * 1000 + b"B" * 500
    files = {
        "model.bin": (hashlib.sha256(whole).hexdigest(), len(whole)),
        "config.json": (hashlib.sha256(b'{"lang_ids": [1, 2]}').hexdigest(), 20),
    }
    layout = {"model.bin": ("model.bin.part1", "model.bin.part2"), "config.json": ("config.json",)}
    return [a, b], files, layout


def test_parts_are_joined_checked_and_marked(tmp_path, pieces):
    sources, files, layout = pieces
    target = assemble(tmp_path / "out", sources, files, layout)
    assert (target / "model.bin").read_bytes() == b"A" * 1000 + b"B" * 500
    assert json.loads((target / MARKER).read_text()) == {name: sha for name, (sha, _) in files.items()}
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "config.json", "model.bin"], "no temporary left"


def test_a_verified_model_is_not_assembled_again(tmp_path, pieces, monkeypatch):
    sources, files, layout = pieces
    target = assemble(tmp_path / "out", sources, files, layout)
    monkeypatch.setattr(whisper_models, "_write_verified", lambda *a: pytest.fail("assembled twice"))
    assert assemble(tmp_path / "out", sources, files, layout) == target


def test_a_piece_that_does_not_match_its_checksum_is_refused(tmp_path, pieces):
    sources, files, layout = pieces
    (sources[1] / "model.bin.part2").write_bytes(b"B" * 499 + b"X")
    with pytest.raises(ModelIntegrityError, match="not the pinned ones"):
        assemble(tmp_path / "out", sources, files, layout)
    assert not (tmp_path / "out" / "model.bin").exists() and not (tmp_path / "out" / MARKER).exists()


def test_a_truncated_model_is_assembled_anew(tmp_path, pieces):
    sources, files, layout = pieces
    target = assemble(tmp_path / "out", sources, files, layout)
    (target / "model.bin").write_bytes(b"A" * 10)
    assemble(tmp_path / "out", sources, files, layout)
    assert (target / "model.bin").stat().st_size == 1500


def test_racing_assemblers_all_get_a_whole_model(tmp_path, pieces):
    sources, files, layout = pieces
    errors = []

    def run():
        try:
            assemble(tmp_path / "out", sources, files, layout)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert (tmp_path / "out" / "model.bin").read_bytes() == b"A" * 1000 + b"B" * 500


def test_a_missing_package_is_named(monkeypatch):
    monkeypatch.setattr(whisper_models, "BASE_PACKAGES", ("no_such_package_klyph",))
    with pytest.raises(ModelIntegrityError, match="no-such-package-klyph"):
        whisper_models._source_dirs()


@pytest.mark.parametrize("model, multilingual", [("tiny.en", False), ("", False), ("base", True),
                                                 ("/models/small.en", False)])
def test_english_only_models_are_told_apart(model, multilingual):
    assert whisper_models.is_multilingual(model) is multilingual


def test_a_model_directory_is_judged_by_its_language_list(tmp_path):
    (tmp_path / "config.json").write_text('{"lang_ids": [50259, 50260]}')
    assert whisper_models.is_multilingual(str(tmp_path))
    (tmp_path / "config.json").write_text('{"lang_ids": [50259]}')
    assert not whisper_models.is_multilingual(str(tmp_path))
