"""benchmarks/accuracy_speed.py, issue #12's accuracy-speed figure: a short run on a tiny exported model writes
the JSON with every point and its source, and the PNG; accuracies come from the models' own evaluations."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

from ferkit.models.bundled import bundled_metadata

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def accuracy_speed(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The script as a module; its sibling imports (machine, timing) resolve as when it runs."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("accuracy_speed")


def test_a_short_run_writes_every_point_with_its_source_and_the_figure(accuracy_speed: ModuleType, tiny_onnx: Path,
                                                                       tmp_path: Path) -> None:
    tiny = accuracy_speed.measure("tiny", "candidate", tiny_onnx, 0.5, "a test", min_time_s=0.01, min_runs=2)
    out = tmp_path / "accuracy_speed.json"
    accuracy_speed.write_results([tiny, accuracy_speed.FER_REFERENCE], out, "pytest", [0.0, 0.0, 0.0])
    results = json.loads(out.read_text())
    points = {p["name"]: p for p in results["points"]}
    assert points["tiny"]["accuracy"] == 0.5 and points["tiny"]["faces_per_s"] > 0
    assert points["tiny"]["accuracy_source"] == "a test" and "measured by this script" in points["tiny"]["speed_source"]
    reference = points["fer mini-Xception (reference)"]
    assert (reference["accuracy"], reference["faces_per_s"]) == (0.652, 1100.0)
    assert "issue #12" in reference["speed_source"] and "not measured" in reference["speed_source"]
    assert {"date", "command", "hardware", "load_average_1_5_15min_at_end"} <= set(results)
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_bundled_models_accuracy_is_the_publictest_figure_of_its_metadata(accuracy_speed: ModuleType) -> None:
    small = accuracy_speed.bundled_point("small", min_time_s=0.01, min_runs=2)
    assert small.accuracy == bundled_metadata("small")["metrics"]["accuracy"]  # re-measured in test_bundled.py
    assert small.accuracy_source.startswith("src/ferkit/weights/small.json metrics")


def test_a_candidate_is_named_with_its_file_and_its_accuracy_as_a_fraction(accuracy_speed: ModuleType,
                                                                           tiny_onnx: Path) -> None:
    assert accuracy_speed.parse_candidate(f"tiny={tiny_onnx}:0.731") == ("tiny", tiny_onnx, 0.731)
    with pytest.raises(argparse.ArgumentTypeError, match="as a fraction"):
        accuracy_speed.parse_candidate(f"tiny={tiny_onnx}:73.1")
    with pytest.raises(argparse.ArgumentTypeError, match=r"NAME=PATH\.onnx:ACCURACY"):
        accuracy_speed.parse_candidate(f"{tiny_onnx}:0.731")
