"""Feeds training from uint8 tensors held in memory: loaders yield only indices and labels, and the
faces (and, when distilling, the teacher's soft labels) are gathered and augmented on the training device
(`on_after_batch_transfer`), so 2 CPU cores never limit a GPU.

Augmentation has one owner, this module, mixup and cutmix included: a training batch leaves
`on_after_batch_transfer` as the model trains on it, with the targets its mixing made, and `FerModule` only
computes the loss. It lives here, not in the LightningModule, because this hook is where each face's view is
drawn (with the teacher's outputs for it) and where the batch first sits on the device. `distill.py` makes the
views before training and says in `DistillData.online_augment` what is left to do here.

Targets are drawn here too. A training batch's target is each face's label, or, when FER+ votes train the model
(`label_mode` crossentropy or multi_target), its vote distribution `[B, C]`, or (`probability`) one label drawn
from that distribution at each step, as the reference FERPlus reader does. Mixup and cutmix mix distributions as
they mix labels, so soft targets, mixing, label smoothing and distillation all combine.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from ferkit.data.arrays import FaceArrays
from ferkit.data.config import LabelMode
from ferkit.train.augment import AugmentConfig, augment_batch, mix_batch
from ferkit.transforms.preprocess import to_model_input


class _Indices(Dataset):
    """Dataset of (index, label) pairs; the pixels stay in one tensor."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = torch.as_tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor]:
        return i, self.labels[i]

    def __getitems__(self, idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(idx, dtype=torch.long)
        return index, self.labels[index]


def _collate(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # __getitems__ already returned whole-batch tensors


def inverse_frequency_weights(labels: np.ndarray, num_classes: int, power: float = 1.0) -> np.ndarray:
    """Per-class weights proportional to count**-power, scaled so the average face weighs 1."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, np.maximum(counts, 1) ** -power, 0.0)
    return w * len(labels) / max((w * counts).sum(), 1e-12)


class FaceDataModule(L.LightningDataModule):
    """Train/val loaders over `FaceArrays`, with on-device gathering and augmentation."""

    def __init__(
        self,
        train: FaceArrays,
        val: FaceArrays,
        batch_size: int,
        augment: AugmentConfig,
        weighted_sampler: bool = False,
        teacher_log_probs: np.ndarray | None = None,
        train_views: np.ndarray | None = None,
        label_mode: LabelMode = "majority",
    ) -> None:
        """`train_views` (uint8 `[V, N, S, S]`, default: the training faces alone) are views of the training
        faces, one drawn per face per step; `teacher_log_probs` (`[N, C]` or `[V, N, C]`) are the teacher's
        outputs for those views, which travel with the drawn view; `label_mode` says what the training faces'
        `votes` become (see the module docstring; ignored for faces without votes)."""
        super().__init__()
        views = train.images[None] if train_views is None else train_views
        if views.shape[1:] != train.images.shape:
            raise ValueError(f"views {views.shape} do not match the {train.images.shape} training faces")
        if teacher_log_probs is not None:
            teacher_log_probs = teacher_log_probs if teacher_log_probs.ndim == 3 else teacher_log_probs[None]
            if teacher_log_probs.shape != (len(views), len(train), len(train.classes)):
                raise ValueError(f"teacher outputs {teacher_log_probs.shape} do not match {len(views)} view(s) x "
                                 f"{len(train)} faces x {len(train.classes)} classes")
            if augment.mixup or augment.cutmix:
                raise ValueError("a teacher's outputs describe unmixed faces: no mixup or cutmix with them")
        self.train_set, self.val_set, self.train_views = train, val, views
        self.batch_size, self.augment, self.weighted_sampler = batch_size, augment, weighted_sampler
        self.teacher_log_probs = teacher_log_probs
        self.label_mode = label_mode if train.votes is not None else "majority"
        self._on_device: dict[tuple[str, torch.device], torch.Tensor] = {}

    def train_dataloader(self) -> DataLoader:
        labels = self.train_set.labels
        sampler = None
        if self.weighted_sampler:
            per_class = inverse_frequency_weights(labels, len(self.train_set.classes))
            sampler = WeightedRandomSampler(torch.as_tensor(per_class[labels]), num_samples=len(labels))
        return DataLoader(_Indices(labels), batch_size=self.batch_size, shuffle=sampler is None, sampler=sampler,
                          drop_last=len(labels) > self.batch_size, collate_fn=_collate)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(_Indices(self.val_set.labels), batch_size=max(self.batch_size, 256), collate_fn=_collate)

    def _device_tensor(self, which: str, device: torch.device) -> torch.Tensor:
        """The training views, validation images or teacher's log-probabilities, on `device`, copied there once."""
        key = (which, device)
        if key not in self._on_device:
            array = {"train": self.train_views, "val": self.val_set.images, "teacher": self.teacher_log_probs,
                     "votes": self.train_set.votes}[which]
            self._on_device[key] = torch.from_numpy(array).to(device)
        return self._on_device[key]

    def _targets(self, index: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The training targets of the faces at `index`: labels (int `[B]`) or vote distributions (`[B, C]`)."""
        if self.label_mode not in ("probability", "crossentropy", "multi_target"):
            return labels
        votes = self._device_tensor("votes", index.device)[index]
        return torch.multinomial(votes, 1).squeeze(1) if self.label_mode == "probability" else votes

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        """(images, labels) for validation; (images, targets) for training (`_targets`), plus the teacher's
        log-probabilities of those faces when distilling, or the `MixedTargets` of its mixup or cutmix."""
        index, labels = batch
        if self.trainer is None or not self.trainer.training:
            return to_model_input(self._device_tensor("val", index.device)[index]), labels
        views = self._device_tensor("train", index.device)
        view = torch.randint(len(views), index.shape, device=index.device) if len(views) > 1 else 0
        x = augment_batch(views[view, index], self.augment)
        y = self._targets(index, labels)
        if self.teacher_log_probs is not None:
            return x, y, self._device_tensor("teacher", index.device)[view, index]
        x, mixed = mix_batch(x, y, self.augment)
        return (x, y) if mixed is None else (x, y, mixed)
