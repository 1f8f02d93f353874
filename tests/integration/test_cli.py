"""Operator CLI against "the deployed table": KLYPH_TABLE and AWS credentials from the environment (moto here)."""
from __future__ import annotations

import io
import re

import pytest
from moto import mock_aws

from chalicelib.errors import Unauthorized
from chalicelib.services import auth, wiring
from tools import cli


@pytest.fixture
def deployed_table(monkeypatch):
    monkeypatch.setenv("KLYPH_TABLE", "klyph-prod-Table-ABC")
    wiring.reset()
    with mock_aws():
        wiring.records().table.create()
        yield
    wiring.reset()


def test_create_a_key_then_rotate_it(deployed_table, capsys, monkeypatch):
    assert cli.main(["api-key", "--stage", "aws", "--account", "acc_ops", "--name", "Ops"]) == 0
    old = re.search(r"API key:\s+(\S+)", capsys.readouterr().out).group(1)
    assert auth.authenticate({"Authorization": f"Bearer {old}"}) == "acc_ops"

    assert cli.main(["api-key", "--stage", "aws", "--account", "acc_ops"]) == 0
    new = re.search(r"API key:\s+(\S+)", capsys.readouterr().out).group(1)
    monkeypatch.setattr("sys.stdin", io.StringIO(old + "\n"))
    assert cli.main(["revoke-key", "--stage", "aws", "--key", "-"]) == 0
    assert "revoked" in capsys.readouterr().out
    with pytest.raises(Unauthorized):
        auth.authenticate({"Authorization": f"Bearer {old}"})
    assert auth.authenticate({"x-api-key": new}) == "acc_ops"


def test_revoking_an_unknown_key_says_so(deployed_table, capsys):
    assert cli.main(["revoke-key", "--stage", "aws", "--key", "klyph_sk_nope"]) == 1
    assert "no such key" in capsys.readouterr().err


def test_aws_stage_needs_the_table_name(monkeypatch, capsys):
    monkeypatch.delenv("KLYPH_TABLE", raising=False)
    assert cli.main(["api-key", "--stage", "aws"]) == 2
    assert "KLYPH_TABLE" in capsys.readouterr().err


@pytest.mark.parametrize("account", ["acc_x#KEY", "a" * 300, "acc x"])
def test_an_account_id_the_api_would_reject_gets_no_key(deployed_table, capsys, account):
    assert cli.main(["api-key", "--stage", "aws", "--account", account]) == 2
    assert "account id:" in capsys.readouterr().err
    assert wiring.records().get_account(account) is None, "nothing was written"
