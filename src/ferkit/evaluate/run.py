"""`evaluate(cfg)`: score a saved model on one split of a data set and write its report.

The split is loaded with the data settings the model was trained with (preprocessing, class list,
validation fraction and seed), so "val" is exactly the held-out set of training, never faces it trained on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from ferkit.config_fields import check_bounds, option, required
from ferkit.data import DataConfig, FaceArrays, load_split
from ferkit.data.labels import is_canonical, normalise_label
from ferkit.data.split import select_classes
from ferkit.errors import ConfigError, DataError, ModelError
from ferkit.evaluate.figures import FaceExample
from ferkit.evaluate.gradcam import gradcam
from ferkit.evaluate.metrics import compute_metrics
from ferkit.evaluate.predict import OnnxModule, Tta, predict_probs, select_device
from ferkit.evaluate.report import EvalReport, write_report
from ferkit.inference.classify import OnnxClassifier, bundled_model_path
from ferkit.models.checkpoint import load_model, resolve_model_path
from ferkit.models.flops import count_parameters
from ferkit.models.meta import ModelMeta
from ferkit.train.outdir import free_dir
from ferkit.train.rundir import EVALUATION_FILE, REPORT_FILE, RunDir
from ferkit.transforms.preprocess import to_model_input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation: which model, on which faces, with which test-time augmentation, written where."""

    model: str = required("the model: a bundled name (base, large, small), an exported .onnx file, a ferkit model "
                          "file, or a run directory holding model.pt", aliases=("--checkpoint",))
    data: Path | None = option(None, "data set to evaluate on; unset = the one the model was trained on")
    split: str = option("val", "split: train, val, test, FER2013's Training, PublicTest, PrivateTest, or all (every "
                           "face: a folder of labelled faces with no split of its own)")
    classes: tuple[str, ...] = option((), "evaluate on these classes only, model probabilities renormalised over "
                                      "them; empty = the model's classes that have faces in the split")
    tta: Tta = option("none", "test-time augmentation: none, flip, or tencrop")
    out_dir: Path | None = option(None, "report folder; unset = <run dir>/eval-<split>, or beside the model file "
                                    "(numbered up, never overwritten)")
    batch_size: int = option(256, "faces per forward pass", "[1, inf)")
    device: Literal["auto", "cpu", "cuda"] = option("auto", "where the model runs; auto = CUDA if available")
    gradcam_per_class: int = option(3, "Grad-CAM examples per class in the report (0 = none)", "[0, inf)")
    mistakes: int = option(24, "most confident mistakes shown in the report (0 = none)", "[0, inf)")
    cache_dir: Path | None = option(None, "folder of cached decoded faces (as for training); unset = read the source")

    def __post_init__(self) -> None:
        check_bounds(self)


def evaluate(cfg: EvalConfig) -> EvalReport:
    """Evaluate `cfg.model` on `cfg.split` of `cfg.data`; writes evaluation.json, PNGs and report.html. An ONNX
    model (a bundled name or an .onnx file) is scored as inference runs it; its report has no Grad-CAM.

    Raises:
        ModelError: unreadable model file, or an evaluated class the model does not know.
        DataError / ConfigError: missing or malformed data, unknown split.

    Example:
        >>> report = evaluate(EvalConfig(model="runs/train/cnn", split="val", tta="flip"))
        >>> report = evaluate(EvalConfig(model="small", data=Path("ck_plus/"), split="all"))
        >>> report.metrics.accuracy, report.html_path
    """
    device = select_device(cfg.device)
    model, meta, source, onnx = _load(cfg.model, device)
    data_path = _data_path(cfg, meta)
    faces = _load_faces(cfg, meta, data_path)
    columns = _model_columns(faces.classes, meta.classes)
    log.info("evaluating %s on %s [%s]: %d faces, classes %s, tta=%s", meta.model_name, data_path, cfg.split,
             len(faces), ",".join(faces.classes), cfg.tta)

    probs = predict_probs(model, faces.images, cfg.batch_size, "cpu" if onnx else device, cfg.tta, columns)
    metrics = compute_metrics(faces.labels, probs, faces.classes)
    run = None if onnx else RunDir.of(source)
    if onnx and cfg.gradcam_per_class:
        log.info("Grad-CAM skipped: it needs the PyTorch model, and %s is an ONNX file", source)
    report = EvalReport(
        model_name=meta.model_name,
        checkpoint=source.resolve(),
        data=data_path.resolve(),
        split=cfg.split,
        tta=cfg.tta,
        num_params=_onnx_weights(source) if onnx else count_parameters(model),
        metrics=metrics,
        out_dir=free_dir(cfg.out_dir or _default_out_dir(cfg, run, source, onnx), (EVALUATION_FILE, REPORT_FILE)),
        model_classes=meta.classes,
        mistakes=_confident_mistakes(faces, probs, cfg.mistakes),
        saliency=() if onnx else _saliency_examples(model, faces, probs, columns, cfg.gradcam_per_class, device,
                                                    cfg.batch_size),
        history=run.read_history() if run else None,
    )
    write_report(report)
    return report


def _load(name: str, device: torch.device) -> tuple[nn.Module, ModelMeta, Path, bool]:
    """(model, its metadata, its file, whether it is ONNX) for a bundled name, an .onnx file or a ferkit
    model file / run directory."""
    path = bundled_model_path(name) or Path(name)
    if path.suffix == ".onnx":
        classifier = OnnxClassifier(path)
        return OnnxModule(classifier), classifier.meta, path, True
    model, meta = load_model(path, map_location=device)
    return model, meta, resolve_model_path(path), False


def _onnx_weights(path: Path) -> int:
    """Number of weights stored in an ONNX file (BatchNorm folded into the layers before it)."""
    import onnx

    return int(sum(np.prod(t.dims) for t in onnx.load(str(path)).graph.initializer))


def _data_path(cfg: EvalConfig, meta: ModelMeta) -> Path:
    if cfg.data is not None:
        return Path(cfg.data)
    trained_on = meta.train_config.get("data")
    if not trained_on:
        raise ConfigError(f"{cfg.model}: the model file does not say which data it was trained on; pass --data")
    return Path(trained_on)


def _load_faces(cfg: EvalConfig, meta: ModelMeta, data_path: Path) -> FaceArrays:
    """The split, loaded exactly as training loaded it, then restricted to the classes to evaluate."""
    train_cfg, defaults = meta.train_config, DataConfig(path=data_path)
    data_cfg = DataConfig(
        path=data_path,
        classes=meta.classes,
        extra_classes=tuple(c for c in meta.classes if not is_canonical(c)),
        input_size=meta.preprocess.input_size,
        clahe=meta.preprocess.clahe,
        denoise=meta.preprocess.denoise,
        val_fraction=train_cfg.get("val_fraction", defaults.val_fraction),
        seed=train_cfg.get("seed", defaults.seed),
        cache_dir=cfg.cache_dir,
    )
    faces = load_split(data_cfg, cfg.split)
    if cfg.classes:
        wanted = tuple(normalise_label(c) for c in cfg.classes)
        unknown = [c for c in wanted if c not in meta.classes]
        if unknown:
            raise ModelError(f"{cfg.model}: class(es) {', '.join(unknown)} of --classes are unknown to model "
                             f"'{meta.model_name}' (its classes: {', '.join(meta.classes)})")
    else:
        counts = faces.class_counts()
        wanted = tuple(c for c, n in zip(faces.classes, counts, strict=True) if n > 0)
        if len(wanted) < len(faces.classes):
            log.warning("%s [%s] has no faces of %s: evaluating over the %d classes present, with the model's "
                        "probabilities renormalised over them", data_path, cfg.split,
                        ", ".join(c for c, n in zip(faces.classes, counts, strict=True) if n == 0), len(wanted))
    faces = select_classes(faces, wanted)
    if len(faces) == 0:
        raise DataError(f"{data_path}: split '{cfg.split}' has no faces of the classes {', '.join(wanted)}")
    return faces


def _model_columns(data_classes: tuple[str, ...], model_classes: tuple[str, ...]) -> np.ndarray:
    """Index of each evaluated class among the model's outputs, matched by name (`_load_faces` only keeps
    classes the model knows)."""
    return np.array([model_classes.index(c) for c in data_classes])


def _default_out_dir(cfg: EvalConfig, run: RunDir | None, source: Path, onnx: bool) -> Path:
    if run is not None:
        return run.path / f"eval-{cfg.split}"
    if onnx:  # never beside the file: a bundled model's folder is the installed package
        return Path("runs") / "evaluate" / f"{source.stem}-{cfg.split}"
    return source.parent / f"{source.stem}-eval-{cfg.split}"


def _confident_mistakes(faces: FaceArrays, probs: np.ndarray, count: int) -> tuple[FaceExample, ...]:
    """The `count` wrong predictions made with the highest confidence, most confident first."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != faces.labels)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:count]
    return tuple(_example(faces, probs, i) for i in wrong)


def _saliency_examples(model: nn.Module, faces: FaceArrays, probs: np.ndarray, columns: np.ndarray, per_class: int,
                       device: torch.device, batch_size: int) -> tuple[FaceExample, ...]:
    """Grad-CAM for the true class of the `per_class` faces of each class the model is surest of."""
    chosen = []
    for label in range(len(faces.classes)):
        members = np.flatnonzero(faces.labels == label)
        chosen.extend(members[np.argsort(-probs[members, label], kind="stable")][:per_class])
    if not chosen:
        return ()
    index = np.array(chosen)
    maps = []
    for start in range(0, len(index), batch_size):
        batch = index[start:start + batch_size]
        x = to_model_input(torch.from_numpy(faces.images[batch]).to(device))
        target = torch.from_numpy(columns[faces.labels[batch]]).to(device)
        maps.append(gradcam(model, x, target).cpu().numpy())
    heatmaps = np.concatenate(maps)
    return tuple(_example(faces, probs, i, heatmap) for i, heatmap in zip(index, heatmaps, strict=True))


def _example(faces: FaceArrays, probs: np.ndarray, i: int, heatmap: np.ndarray | None = None) -> FaceExample:
    pred = int(probs[i].argmax())
    return FaceExample(image=faces.images[i], true=faces.classes[faces.labels[i]], predicted=faces.classes[pred],
                       confidence=float(probs[i, pred]), heatmap=heatmap,
                       source=faces.sources[i] if faces.sources else "")
