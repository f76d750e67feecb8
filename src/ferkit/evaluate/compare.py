"""`compare_runs(cfg)`: several training runs side by side, as a Markdown and HTML table and one figure.

Each run's figures come from its newest evaluation (`eval-*/evaluation.json`, written by `ferkit evaluate`),
or, when it has none, from the best epoch in the run's own train_metrics.json (`RunDir` reads both, and the
`metrics.json` of older runs). Its curves, epochs and training
time come from history.csv. Runs measured on different data or splits are flagged: their accuracies are
not comparable (on FER2013, PublicTest and PrivateTest accuracies differ by a few points).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ferkit.config_fields import option, required
from ferkit.data import split_key
from ferkit.errors import ConfigError, DataError
from ferkit.evaluate import figures
from ferkit.files import FolderEntry, free_dir
from ferkit.models.checkpoint import load_model
from ferkit.models.flops import count_parameters
from ferkit.train.rundir import EVALUATION_FILE, RunDir, best_epoch, evaluation_file, read_json

log = logging.getLogger(__name__)

MARKDOWN_FILE, COMPARE_HTML, PNG_FILE = "compare.md", "compare.html", "compare.png"


@dataclass(frozen=True)
class CompareConfig:
    """Which runs to compare and where the comparison goes."""

    runs: tuple[Path, ...] = required("run directories (or evaluation folders) to compare")
    out: Path | None = option(None, "output folder; unset = runs/compare/<time> (numbered up, never overwritten)")
    split: str = option("", "use each run's evaluation of this split, e.g. test; empty = each run's newest "
                            "evaluation")


@dataclass(frozen=True)
class RunSummary:
    """The figures of one run that the comparison shows; None where the run does not record one."""

    name: str
    path: Path
    source: str  # the file the accuracy figures come from
    data: str
    split: str
    tta: str  # test-time augmentation of the evaluation ("none" for training metrics)
    accuracy: float | None
    macro_f1: float | None
    recall: dict[str, float | None]  # per class; empty without an evaluation
    num_params: int | None
    epochs: int | None
    train_time_s: float | None
    history: dict[str, np.ndarray] | None

    @property
    def measured_on(self) -> str:
        """Data set, split and TTA: runs differing in any of them are not comparable."""
        return f"{Path(self.data).name} [{self.split}]" + (f" tta={self.tta}" if self.tta != "none" else "")

    @property
    def comparable_as(self) -> tuple[str, str, str]:
        """Data set, split (`PublicTest` and `val` are one: `split_key`) and TTA: what must agree to compare."""
        return Path(self.data).name, split_key(self.split), self.tta


@dataclass(frozen=True)
class CompareResult:
    out_dir: Path
    runs: tuple[RunSummary, ...]
    mixed_splits: bool  # True when the runs were not all measured on the same data, split and TTA

    markdown_path = FolderEntry(MARKDOWN_FILE, folder="out_dir")
    html_path = FolderEntry(COMPARE_HTML, folder="out_dir")
    png_path = FolderEntry(PNG_FILE, folder="out_dir")


def compare_runs(cfg: CompareConfig) -> CompareResult:
    """Summarise every run of `cfg.runs` and write compare.md, compare.html and compare.png.

    Raises:
        ConfigError: no run given.
        DataError: a run folder is missing or records no metrics.

    Example:
        >>> compare_runs(CompareConfig(runs=(Path("runs/train/cnn"), Path("runs/train/dcnn")))).html_path
    """
    if not cfg.runs:
        raise ConfigError("compare needs at least one run directory")
    runs = _unique_names([load_run_summary(Path(r), cfg.split) for r in cfg.runs])
    mixed = len({r.comparable_as for r in runs}) > 1
    if mixed:
        log.warning("runs were measured on different data/splits/TTA (%s): their accuracies are not comparable",
                    ", ".join(sorted({r.measured_on for r in runs})))
    out_dir = free_dir(cfg.out or Path("runs/compare") / datetime.now().strftime("%Y%m%d-%H%M%S"),
                       (MARKDOWN_FILE, COMPARE_HTML, PNG_FILE))
    out_dir.mkdir(parents=True, exist_ok=True)
    result = CompareResult(out_dir, tuple(runs), mixed)
    png = figures.save_png(plot_comparison(result.runs), result.png_path)
    header, rows = _table(result.runs)
    result.markdown_path.write_text(_markdown(result, header, rows), encoding="utf-8")
    result.html_path.write_text(_html(result, header, rows, png), encoding="utf-8")
    log.info("wrote %s", result.html_path)
    return result


def load_run_summary(path: Path, split: str = "") -> RunSummary:
    """Summarise one run directory, or one evaluation folder (its parent then serves as the run)."""
    if not path.is_dir():
        raise DataError(f"{path}: no such run directory")
    eval_file = evaluation_file(path)
    if eval_file is not None:  # `path` is an evaluation folder; its parent serves as the run
        run = RunDir(path.parent)
    else:
        run = RunDir(path)
        eval_file = _newest_evaluation(run, split)
    run_dir = run.path
    evaluation = read_json(eval_file) if eval_file else {}
    trained_file = run.train_metrics_file()  # what `ferkit train` recorded (best epoch)
    trained = read_json(trained_file) if trained_file else {}
    history = run.read_history()
    if evaluation:
        source, data, split_name = str(eval_file), evaluation.get("data", "?"), evaluation.get("split", "?")
        tta = evaluation.get("tta", "none")
        accuracy, macro_f1 = evaluation.get("accuracy"), evaluation.get("macro_f1")
        recall = {name: pc.get("recall") for name, pc in evaluation["per_class"].items()}
    elif trained:
        if split and split != "val":
            raise DataError(f"{path}: no evaluation of split '{split}' (run `ferkit evaluate --split {split}`)")
        source, split_name, tta, recall = f"{trained_file} (best epoch)", "val", "none", {}
        data = str(run.read_config().get("data", "?"))
        accuracy, macro_f1 = trained.get("val_acc"), trained.get("val_macro_f1")
    elif history and (best := best_epoch(history.get("val_acc", ()))) is not None:
        # a run stopped before its end: its best epoch from history.csv
        if split and split != "val":
            raise DataError(f"{path}: no evaluation of split '{split}' (run `ferkit evaluate --split {split}`)")
        source, split_name, tta, recall = f"{run.history} (best epoch)", "val", "none", {}
        data = str(run.read_config().get("data", "?"))
        accuracy = float(history["val_acc"][best])
        macro_f1 = float(history["val_macro_f1"][best]) if "val_macro_f1" in history else None
    else:
        raise DataError(f"{path}: no {run.train_metrics.name}, no eval-*/{EVALUATION_FILE} and no history.csv; "
                        "is this a ferkit run directory?")
    return RunSummary(
        name=path.name if path == run_dir else f"{run_dir.name}/{path.name}",
        path=path,
        source=source,
        data=data,
        split=split_name,
        tta=tta,
        accuracy=accuracy,
        macro_f1=macro_f1,
        recall=recall,
        num_params=evaluation.get("num_params") or _count_params(run),
        epochs=len(history["epoch"]) if history else trained.get("epochs_run"),
        train_time_s=float(np.nansum(history["time_s"])) if history and "time_s" in history
        else trained.get("train_time_s_total"),
        history=history,
    )


def plot_comparison(runs: tuple[RunSummary, ...]) -> Figure:
    """Validation accuracy and loss of every run against epoch, and per-class recall as grouped bars."""
    fig = Figure(figsize=(16, 4.4), layout="constrained")
    ax_acc, ax_loss, ax_rec = fig.subplots(1, 3)
    for ax, column, title in ((ax_acc, "val_acc", "validation accuracy"), (ax_loss, "val_loss", "validation loss")):
        for run in runs:
            if run.history and column in run.history and np.isfinite(run.history[column]).any():
                ax.plot(run.history["epoch"], run.history[column], marker=".", label=run.name)
        ax.set(xlabel="epoch", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    classes = _all_classes(runs)
    with_recall = [r for r in runs if r.recall]
    width = 0.8 / max(len(with_recall), 1)
    for k, run in enumerate(with_recall):
        values = [run.recall.get(c) for c in classes]
        ax_rec.bar(np.arange(len(classes)) + (k - (len(with_recall) - 1) / 2) * width,
                   [np.nan if v is None else v for v in values], width=width, label=run.name)
    ax_rec.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax_rec.set(ylim=(0, 1), title="per-class recall")
    if with_recall:
        ax_rec.legend(fontsize=8)
    return fig


def _newest_evaluation(run: RunDir, split: str) -> Path | None:
    """The figures of the run's newest evaluation (of `split` only, when given)."""
    found = [p for p in run.evaluation_files() if not split or read_json(p).get("split") == split]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def _count_params(run: RunDir) -> int | None:
    if not run.model.is_file():
        return None
    model, _ = load_model(run.model)
    return count_parameters(model)


def _unique_names(runs: list[RunSummary]) -> list[RunSummary]:
    """Runs with equal folder names (e.g. two `eval-val`) get their full path as name instead."""
    names = [r.name for r in runs]
    return [r if names.count(r.name) == 1 else dataclasses.replace(r, name=str(r.path)) for r in runs]


def _all_classes(runs: tuple[RunSummary, ...]) -> list[str]:
    return list(dict.fromkeys(c for r in runs for c in r.recall))


def _table(runs: tuple[RunSummary, ...]) -> tuple[list[str], list[list[str]]]:
    classes = _all_classes(runs)
    header = ["run", "measured on", "accuracy", "macro-F1", *(f"recall {c}" for c in classes), "params", "epochs",
              "training time"]
    rows = [[r.name, r.measured_on, _num(r.accuracy), _num(r.macro_f1), *(_num(r.recall.get(c)) for c in classes),
             f"{r.num_params:,}" if r.num_params else "\u2013", str(r.epochs) if r.epochs else "\u2013",
             f"{r.train_time_s / 60:.1f} min" if r.train_time_s else "\u2013"]
            for r in runs]
    return header, rows


def _num(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.4f}"


def _warning(result: CompareResult) -> str:
    if not result.mixed_splits:
        return ""
    return ("Warning: these runs were measured on different data, splits or test-time augmentation "
            "(see 'measured on'); their accuracies are not directly comparable.")


def _markdown(result: CompareResult, header: list[str], rows: list[list[str]]) -> str:
    lines = ["# ferkit run comparison", ""]
    if result.mixed_splits:
        lines += [f"**{_warning(result)}**", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "Sources: " + "; ".join(f"{r.name}: {r.source}" for r in result.runs), "", f"![curves]({PNG_FILE})"]
    return "\n".join(lines) + "\n"


def _html(result: CompareResult, header: list[str], rows: list[list[str]], png: bytes) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    warning = f'<p class="warn">{html.escape(_warning(result))}</p>' if result.mixed_splits else ""
    sources = "".join(f"<li>{html.escape(r.name)}: {html.escape(r.source)}</li>" for r in result.runs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ferkit run comparison</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 0.3em 0.7em; }}
.warn {{ color: #a00; font-weight: bold; }} img {{ max-width: 100%; }}
</style></head>
<body>
<h1>ferkit run comparison</h1>
{warning}
<table><tr>{head}</tr>
{body}
</table>
<p>Sources:</p><ul>{sources}</ul>
<img alt="curves" src="data:image/png;base64,{base64.b64encode(png).decode()}">
</body></html>
"""
