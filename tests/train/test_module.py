"""The training loss against FER+ vote distributions: cross-entropy to a distribution (with label smoothing and
mixing), the reference multi-target loss, and distillation on top; and a whole run on the tiny FER+ set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ferkit.config_fields import from_flat
from ferkit.models import create_model
from ferkit.models.checkpoint import load_model
from ferkit.train.augment import MixedTargets
from ferkit.train.config import TrainConfig
from ferkit.train.distill import distillation_loss
from ferkit.train.loss import LossConfig
from ferkit.train.module import MULTI_TARGET_EPSILON, FerModule
from ferkit.train.optim import OptimConfig
from ferkit.train.run import train

OPTIM = OptimConfig("adam", 1e-3, 0.0, 0.9, "none", 0, 1)


def _module(**loss) -> FerModule:
    settings = {"label_smoothing": 0.0, "class_weights": None, "distill_weight": 0.5, "distill_temperature": 2.0,
                **loss}
    return FerModule(create_model("test_tiny", num_classes=4), LossConfig(**settings), OPTIM)


LOGITS = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.0, 1.0, 0.0, 3.0]])
VOTES = torch.tensor([[0.6, 0.4, 0.0, 0.0], [0.0, 0.3, 0.0, 0.7]])


def test_cross_entropy_to_a_distribution_weighs_each_class_by_its_votes() -> None:
    expected = -(VOTES * LOGITS.log_softmax(1)).sum(1).mean()
    assert torch.isclose(_module()._training_loss(LOGITS, VOTES, None), expected)


def test_label_smoothing_applies_to_distributions_too() -> None:
    smoothed = VOTES * 0.9 + 0.1 / 4
    expected = -(smoothed * LOGITS.log_softmax(1)).sum(1).mean()
    assert torch.isclose(_module(label_smoothing=0.1)._training_loss(LOGITS, VOTES, None), expected)


def test_mixed_distributions_mix_their_losses() -> None:
    mixed = MixedTargets(VOTES, VOTES.flip(0), 0.3)
    module = _module()
    expected = 0.3 * module._cross_entropy(LOGITS, VOTES) + 0.7 * module._cross_entropy(LOGITS, VOTES.flip(0))
    assert torch.isclose(module._training_loss(LOGITS, VOTES, mixed), expected)


def test_multi_target_loss_rewards_the_likeliest_voted_class() -> None:
    p = LOGITS.softmax(1)
    t = (1 - MULTI_TARGET_EPSILON) * (VOTES > 0).float() + MULTI_TARGET_EPSILON
    expected = -torch.log((t * p).max(1).values).mean()  # the reference cost_func, written plainly
    assert torch.isclose(_module(multi_target=True)._training_loss(LOGITS, VOTES, None), expected, atol=1e-6)


def test_distillation_mixes_with_the_vote_loss() -> None:
    teacher = F.log_softmax(torch.randn(2, 4), dim=1)
    module = _module(distill_weight=0.25)
    plain = module._training_loss(LOGITS, VOTES, None)
    combined = module._training_loss(LOGITS, VOTES, teacher)
    expected = 0.75 * plain + 0.25 * distillation_loss(LOGITS, teacher, module.loss.distill_temperature)
    assert torch.isclose(combined, expected) and not torch.isclose(plain, combined)


@pytest.mark.parametrize("mode", ["crossentropy", "probability", "multi_target"])
def test_a_run_trains_on_ferplus_votes_with_mixup_and_smoothing(ferplus_data, tmp_path: Path, mode: str) -> None:
    cfg = from_flat(TrainConfig, {
        "data": ferplus_data.root, "label_mode": mode, "model": "test_tiny", "epochs": 1, "batch_size": 8,
        "accelerator": "cpu", "run_dir": tmp_path / "run", "progress": False, "aug_mixup": 0.4,
        "label_smoothing": 0.1, "early_stop_patience": 0})
    result = train(cfg)
    _, meta = load_model(result.run_dir)
    assert meta.classes[-1] == "contempt" and len(meta.classes) == 8
    assert json.loads((result.run_dir / "config.json").read_text())["label_mode"] == mode
    assert result.metrics["train_faces"] == 17  # crossentropy's faces: the clear ones and the split vote
