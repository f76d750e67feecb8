"""Knowledge distillation (Hinton et al. 2015): a small student learns from a trained teacher's soft labels.

The teacher (a bundled model name, an `.onnx` file or a ferkit model file) runs once over the training
faces, before training, and its log-probabilities are cached on disk next to the data cache: an ensemble
such as `base` classifies only ~25 faces/s on 2 CPU cores, far too slow to run inside every training step.
The soft labels therefore describe the un-augmented face; the geometric and photometric augmentations keep
the expression, so they remain a good target (random erasing may hide part of it, which the hard label
shares).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ferkit.data.arrays import FaceArrays
from ferkit.errors import ConfigError
from ferkit.inference.classify import Classifier, load_classifier
from ferkit.inference.download import sha256_of

log = logging.getLogger(__name__)

CHUNK = 256  # faces per teacher call: large enough to amortise the call, small enough to log progress


def distillation_loss(student_logits: torch.Tensor, teacher_log_probs: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """KL(teacher || student) at `temperature`, scaled by T^2 so its gradients keep their size as T changes."""
    t = temperature
    teacher = F.log_softmax(teacher_log_probs.float() / t, dim=1)
    student = F.log_softmax(student_logits.float() / t, dim=1)
    return F.kl_div(student, teacher, reduction="batchmean", log_target=True) * t * t


def _class_columns(teacher: Classifier, classes: tuple[str, ...], name: str) -> list[int]:
    """Which teacher outputs give the student's classes, in the student's order."""
    missing = [c for c in classes if c not in teacher.classes]
    if missing:
        raise ConfigError(f"teacher '{name}' has no output for classes {missing} (it knows {list(teacher.classes)})")
    return [teacher.classes.index(c) for c in classes]


def teacher_log_probs(teacher: str | Path, faces: FaceArrays, clahe: bool, cache_dir: Path | None) -> np.ndarray:
    """Log-probabilities `[N, C]` of `teacher` on `faces`, over `faces.classes` (renormalised when the
    teacher knows more classes). Cached under `cache_dir/teacher/` by teacher file and face pixels.

    Raises:
        ConfigError: the teacher lacks one of the classes or prepares faces differently (size, CLAHE).
    """
    model = load_classifier(teacher)
    if model.preprocess.input_size != faces.input_size or model.preprocess.clahe != clahe:
        raise ConfigError(f"teacher '{teacher}' expects {model.preprocess.input_size}px faces with clahe="
                          f"{model.preprocess.clahe}, but training uses {faces.input_size}px with clahe={clahe}")
    columns = _class_columns(model, faces.classes, str(teacher))
    source = Path(model.info()["source"])
    key = hashlib.sha256(f"{sha256_of(source)}:{columns}".encode() + faces.images.tobytes()).hexdigest()[:20]
    cached = cache_dir / "teacher" / f"{source.stem}-{key}.npy" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        log.info("teacher soft labels from cache %s", cached)
        return np.load(cached)

    start, probs = time.perf_counter(), []
    for i in range(0, len(faces), CHUNK):
        probs.append(model.predict(faces.images[i:i + CHUNK])[:, columns])
        done = min(i + CHUNK, len(faces))
        if len(probs) % 10 == 0 or done == len(faces):
            log.info("teacher %s: %d/%d faces (%.0f faces/s)", source.name, done, len(faces),
                     done / (time.perf_counter() - start))
    p = np.concatenate(probs).astype(np.float64)
    out = np.log(np.clip(p / p.sum(axis=1, keepdims=True), 1e-8, None)).astype(np.float32)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.npy")  # unique: DDP ranks may write at once
        np.save(tmp, out)
        tmp.replace(cached)
    return out
