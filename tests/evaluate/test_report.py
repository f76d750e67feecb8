"""The report: evaluation.json, one PNG per figure, and an HTML page that embeds them all."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ferkit.evaluate.figures import FaceExample
from ferkit.evaluate.metrics import compute_metrics
from ferkit.evaluate.report import EvalReport, write_report
from ferkit.train.rundir import RunDir

from .conftest import write_history

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLASSES = ("happy", "sad", "neutral")


def _report(out_dir: Path, history: dict | None = None) -> EvalReport:
    rng = np.random.default_rng(0)
    y_true = np.arange(30) % 3
    probs = rng.dirichlet(np.ones(3), size=30)
    face = rng.integers(0, 256, size=(48, 48), dtype=np.uint8)
    mistakes = tuple(FaceExample(face, "happy", "sad", 0.9 - i / 100) for i in range(10))
    saliency = tuple(FaceExample(face, c, c, 0.8, heatmap=rng.uniform(0, 1, (48, 48))) for c in CLASSES for _ in "ab")
    return EvalReport(model_name="test_tiny", checkpoint=Path("tiny.pt"), data=Path("faces.npz"), split="PrivateTest",
                      tta="flip", num_params=1234, metrics=compute_metrics(y_true, probs, CLASSES), out_dir=out_dir,
                      model_classes=("angry", *CLASSES), mistakes=mistakes, saliency=saliency, history=history)


def test_writes_metrics_pngs_and_a_self_contained_page(tmp_path):
    history = RunDir(write_history(tmp_path / "run", [0.3, 0.4, 0.5]).parent).read_history()
    report = _report(tmp_path / "eval", history)
    html_path = write_report(report)

    assert html_path == tmp_path / "eval" / "report.html"
    pngs = sorted(p.stem for p in (tmp_path / "eval").glob("*.png"))
    assert pngs == ["confusion", "gradcam", "mistakes", "pr_roc", "reliability", "training_curves"]
    for name in pngs:
        assert (tmp_path / "eval" / f"{name}.png").read_bytes().startswith(PNG_MAGIC)

    page = html_path.read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == len(pngs)
    assert all(base64.b64decode(b).startswith(PNG_MAGIC) for b in embedded)
    assert "<title>ferkit evaluation: test_tiny on faces.npz [PrivateTest]</title>" in page
    assert "src=\"http" not in page and "<script" not in page  # nothing fetched from elsewhere

    saved = json.loads(report.metrics_path.read_text())
    assert saved["split"] == "PrivateTest" and saved["tta"] == "flip" and saved["num_params"] == 1234
    assert saved["model_classes"] == ["angry", *CLASSES]
    assert saved["accuracy"] == pytest.approx(report.metrics.accuracy)
    assert set(saved["per_class"]) == set(CLASSES)


def test_sections_without_material_are_left_out(tmp_path):
    report = _report(tmp_path / "eval")
    report = EvalReport(**{**report.__dict__, "mistakes": (), "saliency": ()})
    page = write_report(report).read_text()
    assert sorted(p.stem for p in (tmp_path / "eval").glob("*.png")) == ["confusion", "pr_roc", "reliability"]
    assert "Training curves" not in page and "Grad-CAM" not in page
