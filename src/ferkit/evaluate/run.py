"""`evaluate(cfg)`: score a saved model on one split of a data set and write its report.

The split is loaded with the data settings the model was trained with (preprocessing, class list,
validation fraction and seed), so "val" is exactly the held-out set of training, never faces it trained on.
FER+ faces are labelled by their majority vote whatever the model trained on (the paper's protocol), and the
report adds the model's agreement with the annotators' votes (`evaluate.votes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from ferkit.config_fields import check_bounds, option, required
from ferkit.data import DataConfig, FaceArrays, load_split
from ferkit.data.ferplus import FERPLUS_CLASSES
from ferkit.data.labels import normalise_label
from ferkit.data.split import select_classes
from ferkit.errors import ConfigError, DataError, ModelError
from ferkit.evaluate.figures import FaceExample
from ferkit.evaluate.metrics import compute_metrics
from ferkit.evaluate.predict import Scorer, Tta, predict_probs
from ferkit.evaluate.report import EvalReport, write_report
from ferkit.evaluate.votes import VoteMetrics, vote_metrics
from ferkit.files import free_dir
from ferkit.inference.classify import OnnxClassifier
from ferkit.models.bundled import bundled_model_path, bundled_names
from ferkit.models.meta import ModelMeta
from ferkit.train.rundir import EVALUATION_FILE, REPORT_FILE, RunDir

if TYPE_CHECKING:
    from ferkit.evaluate.torch_model import TorchScorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation: which model, on which faces, with which test-time augmentation, written where."""

    model: str = required(f"the model: a bundled name ({', '.join(bundled_names())}), an exported .onnx file, a "
                          "ferkit model file, or a run directory holding model.pt", aliases=("--checkpoint",))
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
    cache_dir: Path | None = option(None, "folder of cached decoded faces, shared with training; unset = "
                                    "$FERKIT_CACHE/data on the command line (default ~/.cache/ferkit/data), no cache "
                                    "in the Python API")

    def __post_init__(self) -> None:
        check_bounds(self)


def evaluate(cfg: EvalConfig) -> EvalReport:
    """Evaluate `cfg.model` on `cfg.split` of `cfg.data`; writes evaluation.json, PNGs and report.html. An ONNX
    model (a bundled name or an .onnx file) is scored as inference runs it, without torch; its report has no
    Grad-CAM.

    Raises:
        ModelError: unreadable model file, or an evaluated class the model does not know.
        DataError / ConfigError: missing or malformed data, unknown split.

    Example:
        >>> report = evaluate(EvalConfig(model="runs/train/cnn", split="val", tta="flip"))
        >>> report = evaluate(EvalConfig(model="small", data=Path("ck_plus/"), split="all"))
        >>> report.metrics.accuracy, report.html_path
    """
    model = _load(cfg.model, cfg.device)
    meta = model.meta
    data_path = _data_path(cfg, meta)
    faces = _load_faces(cfg, meta, data_path)
    columns = _model_columns(faces.classes, meta.classes)
    log.info("evaluating %s on %s [%s]: %d faces, classes %s, tta=%s", meta.model_name, data_path, cfg.split,
             len(faces), ",".join(faces.classes), cfg.tta)

    probs = predict_probs(model.score, faces.images, cfg.batch_size, cfg.tta, columns,
                          what=f"scoring {meta.model_name}")
    metrics = compute_metrics(faces.labels, probs, faces.classes)
    votes = _vote_metrics(cfg, model, data_path, faces, probs, columns) if faces.votes is not None else None
    run = None if model.onnx else RunDir.of(model.source)
    if model.onnx and cfg.gradcam_per_class:
        log.info("Grad-CAM left out of the report: it needs the PyTorch model, and %s is an ONNX file",
                 model.source.name)
    report = EvalReport(
        model_name=meta.model_name,
        checkpoint=model.source.resolve(),
        data=data_path.resolve(),
        split=cfg.split,
        tta=cfg.tta,
        num_params=model.num_params(),
        metrics=metrics,
        out_dir=free_dir(cfg.out_dir or _default_out_dir(cfg, run, model.source, model.onnx),
                         (EVALUATION_FILE, REPORT_FILE)),
        model_classes=meta.classes,
        mistakes=_confident_mistakes(faces, probs, cfg.mistakes),
        saliency=() if model.onnx else _saliency_examples(model.score, faces, probs, columns,
                                                          cfg.gradcam_per_class, cfg.batch_size),
        history=run.read_history() if run else None,
        votes=votes,
    )
    write_report(report)
    return report


@dataclass(frozen=True)
class _Model:
    """A model to evaluate: its `Scorer`, metadata and file; an ONNX one is scored without torch."""

    score: Scorer
    meta: ModelMeta
    source: Path
    onnx: bool

    def num_params(self) -> int | None:
        """Its weights: the PyTorch model's parameters, or the numbers stored in an ONNX file (BatchNorm folded
        into the layers before it; None where the `onnx` package to read them is not installed)."""
        if not self.onnx:
            from ferkit.evaluate.torch_model import count_parameters

            return count_parameters(self.score.model)  # type: ignore[attr-defined]
        try:
            import onnx
        except ModuleNotFoundError:
            return None
        return int(sum(np.prod(t.dims) for t in onnx.load(str(self.source)).graph.initializer))


def _load(name: str, device: str) -> _Model:
    """The model of a bundled name, an .onnx file, or a ferkit model file / run directory (which needs torch)."""
    path = bundled_model_path(name) or Path(name)
    if path.suffix == ".onnx":
        classifier = OnnxClassifier(path)
        return _Model(classifier.outputs, classifier.meta, path, True)
    from ferkit.evaluate.torch_model import TorchScorer, select_device
    from ferkit.models.checkpoint import load_model, resolve_model_path

    torch_device = select_device(device)
    model, meta = load_model(path, map_location=torch_device)
    return _Model(TorchScorer(model, torch_device), meta, resolve_model_path(path), False)


def _data_path(cfg: EvalConfig, meta: ModelMeta) -> Path:
    if cfg.data is not None:
        return Path(cfg.data)
    trained_on = meta.train_config.get("data")
    if not trained_on:
        raise ConfigError(f"{cfg.model}: the model file does not say which data it was trained on; pass --data")
    return Path(trained_on)


def _data_config(cfg: EvalConfig, meta: ModelMeta, data_path: Path) -> DataConfig:
    """The data settings training used (FER+ labels by majority, the default, whatever it trained on)."""
    train_cfg, defaults = meta.train_config, DataConfig(path=data_path)
    return DataConfig.for_model(data_path, meta.classes, meta.preprocess,
                                val_fraction=train_cfg.get("val_fraction", defaults.val_fraction),
                                seed=train_cfg.get("seed", defaults.seed), cache_dir=cfg.cache_dir)


def _load_faces(cfg: EvalConfig, meta: ModelMeta, data_path: Path) -> FaceArrays:
    """The split, loaded exactly as training loaded it, then restricted to the classes to evaluate."""
    data_cfg = _data_config(cfg, meta, data_path)
    faces = load_split(data_cfg, cfg.split, unknown="leave_out")  # a class the model lacks: counted, left out
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


def _vote_metrics(cfg: EvalConfig, model: _Model, data_path: Path, faces: FaceArrays, probs: np.ndarray,
                  columns: np.ndarray) -> VoteMetrics:
    """Agreement with FER+'s annotators. `faces` are the split's majority faces, scored as `probs`; the faces of
    the plurality set without a majority are scored here, and the faces of classes not evaluated are counted."""
    every = replace(_data_config(cfg, model.meta, data_path), classes=FERPLUS_CLASSES, extra_classes=("contempt",))
    plurality_all = load_split(replace(every, label_mode="plurality", eval_label_mode="plurality"), cfg.split)
    plurality = select_classes(plurality_all, faces.classes)
    scored = {source: i for i, source in enumerate(faces.sources)}
    seen = [j for j, source in enumerate(plurality.sources) if source in scored]
    unseen = np.array([j for j, source in enumerate(plurality.sources) if source not in scored], dtype=np.int64)
    plurality_probs = np.empty((len(plurality), len(faces.classes)), dtype=np.float32)
    plurality_probs[seen] = probs[[scored[plurality.sources[j]] for j in seen]]
    if len(unseen):
        plurality_probs[unseen] = predict_probs(model.score, plurality.images[unseen], cfg.batch_size, cfg.tta,
                                                columns, what=f"scoring {model.meta.model_name} (no majority)")
    left_out = (len(load_split(every, cfg.split)) - len(faces), len(plurality_all) - len(plurality))
    return vote_metrics(faces.labels, probs, plurality.votes, plurality_probs, faces.classes, left_out)


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


def _saliency_examples(scorer: TorchScorer, faces: FaceArrays, probs: np.ndarray, columns: np.ndarray, per_class: int,
                       batch_size: int) -> tuple[FaceExample, ...]:
    """Grad-CAM for the true class of the `per_class` faces of each class the model is surest of."""
    from ferkit.evaluate.torch_model import gradcam_maps

    chosen = []
    for label in range(len(faces.classes)):
        members = np.flatnonzero(faces.labels == label)
        chosen.extend(members[np.argsort(-probs[members, label], kind="stable")][:per_class])
    if not chosen:
        return ()
    index = np.array(chosen)
    heatmaps = gradcam_maps(scorer, faces.images[index], columns[faces.labels[index]], batch_size)
    return tuple(_example(faces, probs, i, heatmap) for i, heatmap in zip(index, heatmaps, strict=True))


def _example(faces: FaceArrays, probs: np.ndarray, i: int, heatmap: np.ndarray | None = None) -> FaceExample:
    pred = int(probs[i].argmax())
    return FaceExample(image=faces.images[i], true=faces.classes[faces.labels[i]], predicted=faces.classes[pred],
                       confidence=float(probs[i, pred]), heatmap=heatmap,
                       source=faces.sources[i] if faces.sources else "")
