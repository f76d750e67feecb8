"""`ferkit models` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ferkit.apps.cli import main
from ferkit.models import list_models
from ferkit.models.bundled import bundled_names

NO_TORCH = "import sys; sys.modules['torch'] = None; from ferkit.apps.cli import main; sys.exit(main(sys.argv[1:]))"


def test_table_lists_the_shipped_models_then_every_architecture(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    blank = lines.index("")
    assert [line.split()[0] for line in lines[1:blank] if not line.startswith("(")] == bundled_names()
    listed = [line.split()[0] for line in lines[blank + 2:]]
    assert listed == list_models()
    assert "test_tiny" not in listed


def test_json_rows_match_the_table_at_the_requested_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json", "--input-size", "64"]) == 0
    rows = json.loads(capsys.readouterr().out)["architectures"]
    assert [r["name"] for r in rows] == list_models()
    assert main(["models", "--json"]) == 0
    at_48 = {r["name"]: r for r in json.loads(capsys.readouterr().out)["architectures"]}
    for row in rows:
        assert row["params"] == at_48[row["name"]]["params"]
        assert row["mflops"] > at_48[row["name"]]["mflops"]


def test_a_shipped_model_shows_its_classes_accuracy_split_and_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    small = next(m for m in json.loads(capsys.readouterr().out)["shipped"] if m["name"] == "small")
    assert len(small["classes"]) == 7 and 0.5 < small["accuracy"] < 1
    assert "PublicTest" in small["split"] and small["file_bytes"] > 100_000
    assert 0.5 < small["ferplus_majority_accuracy"] < 1  # the crowd's label set too (issue #21)


def test_too_small_input_size_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--input-size", "4"]) == 2
    assert "input_size 4" in capsys.readouterr().err


def test_a_fresh_process_lists_every_model() -> None:
    """As a user runs it: no test import has registered the architectures beforehand."""
    out = subprocess.run([sys.executable, "-m", "ferkit.apps.cli", "models", "--json"], capture_output=True,
                         text=True, check=True).stdout
    assert [row["name"] for row in json.loads(out)["architectures"]] == list_models()


def test_without_torch_the_shipped_models_are_listed_and_the_architectures_explained() -> None:
    done = subprocess.run([sys.executable, "-c", NO_TORCH, "models"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in bundled_names())
    assert "architectures: listing them needs torch: pip install 'ferkit[train]'" in done.stdout
