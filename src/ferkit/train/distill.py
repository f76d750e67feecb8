"""Knowledge distillation (Hinton et al. 2015): a small student learns from a trained teacher's soft labels.

The teacher (a bundled model name, an `.onnx` file or a ferkit model file) runs once over the training
faces, before training, and its log-probabilities are cached on disk next to the data cache: an ensemble
such as `large` classifies only ~25 faces/s on 2 CPU cores, far too slow to run inside every training step.

With one view, the soft labels describe the un-augmented face while the student sees it augmented. With
`views > 1` (`--distill-views`), the rotations, zooms, shifts and lighting changes are drawn once per view
before training, and the teacher labels each view: the student's input and its target then show the same
face, as Beyer et al. (2022, "a good teacher is patient and consistent") found distillation needs. Each view
costs one teacher pass, and is cached, so the views of a long CPU run survive its restarts; a view being
labelled is saved every few calls too, and a restarted run labels only the faces it had not reached.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ferkit.data.arrays import FaceArrays
from ferkit.errors import ConfigError, ModelError
from ferkit.files import atomic_path
from ferkit.inference.classify import Classifier, load_classifier
from ferkit.inference.download import sha256_of
from ferkit.models.pretrained import load_pretrained
from ferkit.progress import Progress
from ferkit.train.augment import AugmentConfig, augment_batch
from ferkit.transforms.preprocess import to_model_input

log = logging.getLogger(__name__)

CHUNK = 256  # faces per teacher call: large enough to amortise the call, small enough for progress every few s
SAVE_EVERY = 8  # teacher calls between saves of a view's labels so far (an ensemble on 2 cores: ~5 minutes)


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


@dataclass(frozen=True)
class _Teacher:
    """A loaded, checked teacher: what gives its probabilities for uint8 faces, the output columns of the
    student's classes, and the digest of what computes its outputs (part of every cache key)."""

    predict: Callable[[np.ndarray], np.ndarray]
    columns: list[int]
    source: Path
    digest: str


def _load_teacher(teacher: str | Path, faces: FaceArrays, clahe: bool, device: torch.device | None) -> _Teacher:
    model = load_classifier(teacher)
    if model.preprocess.input_size != faces.input_size or model.preprocess.clahe != clahe:
        raise ConfigError(f"teacher '{teacher}' expects {model.preprocess.input_size}px faces with clahe="
                          f"{model.preprocess.clahe}, but training uses {faces.input_size}px with clahe={clahe}")
    source = model.path
    predict = model.predict if device is None else _rebuilt_on(device, model)
    return _Teacher(predict, _class_columns(model, faces.classes, str(teacher)), source, _outputs_digest(source))


def _rebuilt_on(device: torch.device, model: Classifier) -> Callable[[np.ndarray], np.ndarray]:
    """`model`'s predict, rebuilt in PyTorch on `device` (`models.pretrained`): on a GPU an ensemble labels the
    views of FER2013 in seconds, where ONNX Runtime on the CPUs beside it would take many minutes. A file that
    cannot be rebuilt (int8) keeps ONNX Runtime."""
    try:
        network = load_pretrained(model.path).model.to(device).eval()
    except ModelError as exc:
        log.info("teacher %s stays on ONNX Runtime: %s", model.path.name, exc)
        return model.predict

    @torch.inference_mode()
    def predict(faces: np.ndarray) -> np.ndarray:
        outputs = network(torch.from_numpy(to_model_input(faces)).to(device))
        return model.meta.probabilities(outputs.float().cpu().numpy())

    log.info("teacher %s rebuilt in PyTorch on %s", model.path.name, device)
    return predict


def _outputs_digest(path: Path) -> str:
    """sha256 of an ONNX file without its metadata, of any other file whole: scoring a shipped model again
    rewrites the metrics in its metadata, and must not throw away hours of its cached soft labels."""
    if path.suffix.lower() != ".onnx":
        return sha256_of(path)
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    return hashlib.sha256(model.SerializeToString(deterministic=True)).hexdigest()


def _label(teacher: _Teacher, images: np.ndarray, cache_dir: Path | None) -> np.ndarray:
    """The teacher's log-probabilities `[N, C]` on uint8 `images`, from the cache when it has them."""
    key = _cache_key(teacher, images)
    cached = cache_dir / "teacher" / f"{teacher.source.stem}-{key}.npy" if cache_dir is not None else None
    # Found by key alone: the key hashes the teacher file's content, and the name before it is only for people
    # reading the folder, so labels cached as base-KEY.npy are still found after base.onnx became large.onnx.
    found = sorted(cached.parent.glob(f"*-{key}.npy")) if cached is not None and cached.parent.is_dir() else []
    if found:
        log.info("teacher soft labels from cache %s", found[0])
        return np.load(found[0])

    p = _predict_resumable(teacher, images, cached.with_suffix(".partial.npy") if cached is not None else None)
    out = np.log(np.clip(p / p.sum(axis=1, keepdims=True), 1e-8, None)).astype(np.float32)
    if cached is not None:
        with atomic_path(cached) as tmp:  # DDP ranks may write at once: each has its own temporary file
            np.save(tmp, out)
        cached.with_suffix(".partial.npy").unlink(missing_ok=True)
    return out


def _predict_resumable(teacher: _Teacher, images: np.ndarray, partial: Path | None) -> np.ndarray:
    """The teacher's probabilities `[N, C]` (float64), saved to `partial` every few calls and resumed from it:
    one view of FER2013 takes an ensemble hours on 2 CPU cores, longer than a process may live."""
    probs = [np.load(partial)] if partial is not None and partial.is_file() else []
    done = len(probs[0]) if probs else 0
    if done:
        log.info("teacher soft labels: resuming after face %d from %s", done, partial)
    progress = Progress(log, f"teacher {teacher.source.name}" + (f" (from face {done})" if done else ""),
                        len(images) - done)
    for call, i in enumerate(range(done, len(images), CHUNK), start=1):
        probs.append(teacher.predict(images[i:i + CHUNK])[:, teacher.columns].astype(np.float64))
        progress.add(len(probs[-1]))
        if partial is not None and call % SAVE_EVERY == 0 and i + CHUNK < len(images):
            with atomic_path(partial) as tmp:
                np.save(tmp, np.concatenate(probs))
    return np.concatenate(probs)


def _cache_key(teacher: _Teacher, images: np.ndarray) -> str:
    return hashlib.sha256(f"{teacher.digest}:{teacher.columns}".encode() + images.tobytes()).hexdigest()[:20]


def teacher_log_probs(teacher: str | Path, faces: FaceArrays, clahe: bool, cache_dir: Path | None) -> np.ndarray:
    """Log-probabilities `[N, C]` of `teacher` on `faces`, over `faces.classes` (renormalised when the
    teacher knows more classes). Cached under `cache_dir/teacher/` by teacher file and face pixels.

    Raises:
        ConfigError: the teacher lacks one of the classes or prepares faces differently (size, CLAHE).
    """
    return _label(_load_teacher(teacher, faces, clahe, None), faces.images, cache_dir)


@dataclass(frozen=True)
class DistillData:
    """What training needs from the teacher: the faces' views, the teacher's outputs per view, and the
    augmentation left to run at each step."""

    images: np.ndarray  # uint8 [V, N, S, S]; view 0 is the faces themselves
    log_probs: np.ndarray  # float32 [V, N, C]
    online_augment: AugmentConfig


def augmented_views(faces: FaceArrays, views: int, augment: AugmentConfig, seed: int) -> np.ndarray:
    """uint8 `[views, N, S, S]`: the faces, then `views - 1` copies augmented with `augment`, each drawn from a
    generator seeded by `seed` and the view number, so a rerun draws the same pixels and finds their teacher
    outputs in the cache."""
    images = torch.from_numpy(faces.images)
    out = [faces.images]
    for view in range(1, views):
        generator = torch.Generator().manual_seed(seed * 1_000 + view)
        x = augment_batch(images, augment, generator)
        out.append(x[:, 0].mul(255.0).round_().to(torch.uint8).numpy())
    return np.stack(out)


def distillation_data(teacher: str | Path, faces: FaceArrays, clahe: bool, cache_dir: Path | None,
                      views: int, augment: AugmentConfig, seed: int, device: torch.device | None = None) -> DistillData:
    """The teacher's log-probabilities on `views` views of `faces`, computed on `device` (a GPU; None: ONNX Runtime
    on the CPU). With more than one view, the geometric and photometric parts of `augment` make the views, and
    only flipping and erasing stay for each step."""
    online = augment
    if views > 1:
        offline = replace(augment, flip=0.0, erase=0.0, mixup=0.0, cutmix=0.0)
        online = replace(AugmentConfig.none(), flip=augment.flip, erase=augment.erase, erase_area=augment.erase_area)
        images = augmented_views(faces, views, offline, seed)
    else:
        images = faces.images[None]
    loaded = _load_teacher(teacher, faces, clahe, device)  # once: loading and hashing it is the same for all views
    log_probs = np.stack([_label(loaded, view, cache_dir) for view in images])
    return DistillData(images, log_probs, online)
