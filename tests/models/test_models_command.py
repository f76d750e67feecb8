"""`ferkit models` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ferkit.apps.cli import main
from ferkit.models import list_models


def test_table_lists_every_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines[1:]]
    assert listed == list_models()
    assert "test_tiny" not in listed


def test_json_rows_match_the_table_at_the_requested_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json", "--input-size", "64"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list_models()
    assert main(["models", "--json"]) == 0
    at_48 = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    for row in rows:
        assert row["params"] == at_48[row["name"]]["params"]
        assert row["mflops"] > at_48[row["name"]]["mflops"]


def test_too_small_input_size_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--input-size", "4"]) == 2
    assert "input_size 4" in capsys.readouterr().err


def test_a_fresh_process_lists_every_model() -> None:
    """As a user runs it: no test import has registered the architectures beforehand."""
    out = subprocess.run([sys.executable, "-m", "ferkit.apps.cli", "models", "--json"], capture_output=True,
                         text=True, check=True).stdout
    assert [row["name"] for row in json.loads(out)] == list_models()
