"""Scoring against FER+'s annotators: each figure of `vote_metrics` by hand, and `ferkit evaluate` on the tiny FER+
set with an eight-class ONNX model (the torch-free path) and a seven-class model (contempt faces left out)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.constants import EMOTIONS
from ferkit.data.ferplus import FERPLUS_CLASSES
from ferkit.evaluate.run import EvalConfig, evaluate
from ferkit.evaluate.votes import vote_metrics
from ferkit.export.onnx import export_onnx
from ferkit.models import create_model
from ferkit.models.checkpoint import save_model
from ferkit.models.meta import ModelMeta


def test_vote_figures_match_a_hand_computation() -> None:
    votes = np.array([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8], [1.0, 0.0, 0.0]])
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    m = vote_metrics(np.array([2, 0]), probs[1:], votes, probs, ("a", "b", "c"), left_out=(3, 1))
    assert m.majority_faces == 2 and m.majority_accuracy == 1.0
    assert m.plurality_accuracy == pytest.approx(2 / 3)  # face 0's plurality (a, tied with b) is missed
    assert m.vote_probability == pytest.approx((0.45 + 0.66 + 0.6) / 3)
    assert m.vote_agreement == pytest.approx((0.5 + 0.8 + 1.0) / 3)
    assert m.vote_cross_entropy == pytest.approx(-(0.5 * np.log(0.2) + 0.5 * np.log(0.7) + 0.2 * np.log(0.1)
                                                   + 0.8 * np.log(0.8) + np.log(0.6)) / 3)
    assert m.class_plurality_faces.tolist() == [2, 0, 1] and np.isnan(m.class_plurality_accuracy[1])
    assert m.to_dict()["left_out_majority"] == 3 and m.to_dict()["per_class"]["b"]["plurality_accuracy"] is None


def _model(path: Path, classes: tuple[str, ...], data: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("test_tiny", num_classes=len(classes))
    return save_model(path, model, ModelMeta("test_tiny", model.model_args, classes,
                                             train_config={"data": str(data), "label_mode": "crossentropy"}))


def test_an_eight_class_onnx_model_is_scored_against_the_votes(ferplus_data, tmp_path: Path) -> None:
    onnx = export_onnx(_model(tmp_path / "m.pt", FERPLUS_CLASSES, ferplus_data.root), tmp_path / "m.onnx").onnx_path
    report = evaluate(EvalConfig(model=str(onnx), data=ferplus_data.root, split="val", out_dir=tmp_path / "eval",
                                 mistakes=0, gradcam_per_class=0))
    saved = json.loads(report.metrics_path.read_text())
    assert saved["num_faces"] == 8 and saved["classes"] == list(FERPLUS_CLASSES)  # faces with a majority
    votes = saved["votes"]
    assert votes["majority_faces"] == 8 and votes["plurality_faces"] == 9  # + the face without a majority
    assert votes["majority_accuracy"] == pytest.approx(saved["accuracy"])
    assert votes["left_out_majority"] == 0 and 0 < votes["vote_probability"] < 1 and votes["vote_cross_entropy"] > 0
    assert "Agreement with the annotators" in report.html_path.read_text()


def test_a_seven_class_model_is_scored_on_faces_of_its_classes(ferplus_data, tmp_path: Path) -> None:
    model = _model(tmp_path / "m.pt", EMOTIONS, ferplus_data.root)
    report = evaluate(EvalConfig(model=str(model), data=ferplus_data.root, split="val", out_dir=tmp_path / "eval",
                                 mistakes=0, gradcam_per_class=0))
    votes = report.votes.to_dict()
    assert report.metrics.num_faces == 7 and votes["majority_faces"] == 7
    assert votes["left_out_majority"] == 1 and votes["left_out_plurality"] == 1  # the contempt face
    assert "1 majority faces, 1 plurality faces" in report.html_path.read_text()
