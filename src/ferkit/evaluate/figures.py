"""The evaluation figures, each a function from data to a matplotlib `Figure`.

Figures are built on `matplotlib.figure.Figure` directly, never through pyplot: no backend is selected,
no global figure list grows, and nothing changes for a caller who uses pyplot interactively.
`save_png` renders with the Agg canvas.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ferkit.evaluate.metrics import Metrics

DPI = 110


@dataclass(frozen=True)
class FaceExample:
    """One face shown in a report grid, with what the model made of it."""

    image: np.ndarray  # uint8 [S, S]
    true: str
    predicted: str
    confidence: float  # probability of `predicted`
    heatmap: np.ndarray | None = None  # Grad-CAM, float [S, S] in 0..1
    source: str = ""  # file or CSV row it came from


def save_png(fig: Figure, path: Path | None = None) -> bytes:
    """Render `fig` as PNG bytes (and write them to `path` if given)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    data = buf.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def plot_confusion(metrics: Metrics) -> Figure:
    """Confusion matrix as counts and row-normalised (each row: how the faces of one true class were labelled)."""
    n = len(metrics.classes)
    fig = Figure(figsize=(2 * (2.2 + 0.55 * n), 1.6 + 0.55 * n), layout="constrained")
    for ax, matrix, title, fmt in zip(
        fig.subplots(1, 2),
        (metrics.confusion, metrics.confusion_normalized),
        ("counts", "row-normalised (recall on the diagonal)"),
        ("{:d}", "{:.2f}"),
        strict=True,
    ):
        im = ax.imshow(matrix, cmap="Blues", vmin=0)
        peak = matrix.max() if matrix.max() > 0 else 1
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, fmt.format(value.item()), ha="center", va="center", fontsize=8,
                    color="white" if value > 0.6 * peak else "black")
        ax.set_xticks(range(n), metrics.classes, rotation=45, ha="right")
        ax.set_yticks(range(n), metrics.classes)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def plot_pr_roc(metrics: Metrics) -> Figure:
    """One-vs-rest precision-recall and ROC curves of every class that has them."""
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    ax_pr, ax_roc = fig.subplots(1, 2)
    for name, pr, roc in zip(metrics.classes, metrics.pr_curves, metrics.roc_curves, strict=True):
        if pr is not None:
            ax_pr.plot(pr.x, pr.y, label=f"{name} (AP {pr.area:.3f})")
        if roc is not None:
            ax_roc.plot(roc.x, roc.y, label=f"{name} (AUC {roc.area:.3f})")
    ax_roc.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    for ax, xlabel, ylabel, title in (
        (ax_pr, "recall", "precision", f"precision-recall (macro AP {metrics.macro_average_precision:.3f})"),
        (ax_roc, "false positive rate", "true positive rate", f"ROC (macro AUC {metrics.macro_auc:.3f})"),
    ):
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left" if ax is ax_pr else "lower right")
    return fig


def plot_reliability(metrics: Metrics) -> Figure:
    """Reliability diagram (accuracy per confidence bin against the diagonal) over a confidence histogram."""
    bins = metrics.reliability
    centers, width = (bins.edges[:-1] + bins.edges[1:]) / 2, np.diff(bins.edges)
    fig = Figure(figsize=(5.5, 6), layout="constrained")
    ax, ax_hist = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    ax.bar(centers, np.nan_to_num(bins.accuracy), width=width, edgecolor="black", label="accuracy")
    gap = np.nan_to_num(bins.confidence) - np.nan_to_num(bins.accuracy)
    ax.bar(centers, gap, bottom=np.nan_to_num(bins.accuracy), width=width, color="red", alpha=0.3,
           edgecolor="red", label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8, label="perfect calibration")
    ax.set(xlim=(0, 1), ylim=(0, 1), ylabel="accuracy", title=f"reliability (ECE {metrics.ece:.3f})")
    ax.legend(fontsize=8, loc="upper left")
    ax_hist.bar(centers, bins.count, width=width, edgecolor="black", color="gray")
    ax_hist.set(xlabel="confidence (top-1 probability)", ylabel="faces")
    return fig


def plot_history(history: dict[str, np.ndarray], title: str = "") -> Figure:
    """Training curves of a run: loss, accuracy / macro-F1 and learning rate against epoch."""
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    panels = (("loss", ("train_loss", "val_loss")), ("accuracy", ("train_acc", "val_acc", "val_macro_f1")),
              ("learning rate", ("lr",)))
    epoch = history["epoch"]
    for ax, (name, columns) in zip(fig.subplots(1, 3), panels, strict=True):
        for col in columns:
            if col in history and np.isfinite(history[col]).any():
                ax.plot(epoch, history[col], marker=".", label=col)
        lr = history.get("lr")
        if name == "learning rate" and lr is not None and np.isfinite(lr).any() and np.nanmin(lr) > 0:
            ax.set_yscale("log")
        ax.set(xlabel="epoch", title=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_faces(rows: Sequence[Sequence[FaceExample]], title: str = "") -> Figure:
    """A grid of faces, one list per row, titled with true and predicted label and confidence (green when
    right, red when wrong); a Grad-CAM heatmap is laid over a face that has one."""
    nrows, ncols = max(1, len(rows)), max([1, *(len(r) for r in rows)])
    fig = Figure(figsize=(1.45 * ncols, 1.75 * nrows + 0.3), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for row_axes, row in zip(axes, rows, strict=False):
        for ax, ex in zip(row_axes, row, strict=False):
            ax.imshow(ex.image, cmap="gray", vmin=0, vmax=255)
            if ex.heatmap is not None:
                ax.imshow(ex.heatmap, cmap="jet", alpha=0.45, vmin=0, vmax=1)
            color = "green" if ex.true == ex.predicted else "red"
            ax.set_title(f"true {ex.true}\npred {ex.predicted} {ex.confidence:.0%}", fontsize=7, color=color)
    if title:
        fig.suptitle(title)
    return fig
