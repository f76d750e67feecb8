"""Fine-tuning surgery (`models.finetune`): a new head keeps the rows of the classes both lists share, the
backbone freezes, weights rebuilt from ONNX are calibrated, and the result trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ferkit.constants import EMOTIONS
from ferkit.models import create_model
from ferkit.models.checkpoint import save_model
from ferkit.models.finetune import fine_tune_start, swap_head
from ferkit.models.meta import ModelMeta
from ferkit.models.pretrained import load_pretrained

FACES = np.random.default_rng(0).integers(0, 256, (16, 48, 48), dtype=np.uint8)


def test_a_new_head_keeps_the_rows_of_shared_classes_and_starts_new_ones_fresh() -> None:
    torch.manual_seed(0)
    model = create_model("test_tiny", num_classes=3)
    before = model.head.fc.weight.detach().clone(), model.head.fc.bias.detach().clone()
    swap_head(model, ("happy", "sad", "angry"), ("sad", "contempt", "happy"))
    assert model.head.fc.out_features == 3 and model.model_args["num_classes"] == 3
    torch.testing.assert_close(model.head.fc.weight[[0, 2]], before[0][[1, 0]])
    torch.testing.assert_close(model.head.fc.bias[[0, 2]], before[1][[1, 0]])
    assert not torch.equal(model.head.fc.weight[1], before[0][2])  # contempt: no trained row to keep
    assert model.head.fc.weight.requires_grad


def test_a_model_file_fine_tunes_to_fewer_classes_with_a_frozen_backbone(tmp_path: Path) -> None:
    source = create_model("test_tiny").eval()
    path = save_model(tmp_path / "model.pt", source, ModelMeta("test_tiny", source.model_args, EMOTIONS))
    model = fine_tune_start(path, ("happy", "neutral"), FACES, freeze_backbone=True)
    assert model.training and model.head.fc.out_features == 2
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"head.fc.weight", "head.fc.bias"}


def test_weights_rebuilt_from_onnx_are_calibrated_on_the_faces() -> None:
    model = fine_tune_start("small", EMOTIONS, FACES)  # the shipped ONNX file: BatchNorms folded, then rebuilt
    uncalibrated = load_pretrained("small").model
    moved = [not torch.equal(a.running_var, b.running_var) for a, b in zip(_norms(model), _norms(uncalibrated),
                                                                          strict=True)]
    assert moved and all(moved)
    assert model.training and model.head.fc.out_features == len(EMOTIONS)  # the same classes: the head is kept


def _norms(model: torch.nn.Module) -> list[torch.nn.BatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
