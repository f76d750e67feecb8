"""`EvalReport`: the result of one evaluation, and how it is written: evaluation.json, PNG figures and one
self-contained HTML page (figures embedded as base64, so the page can be mailed or archived alone).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ferkit.evaluate import figures
from ferkit.evaluate.figures import FaceExample
from ferkit.evaluate.metrics import Metrics
from ferkit.evaluate.votes import VoteMetrics
from ferkit.files import FolderEntry, atomic_write
from ferkit.train.rundir import EVALUATION_FILE, REPORT_FILE

log = logging.getLogger(__name__)

GRID_COLUMNS = 8  # faces per row of the mistakes grid


@dataclass(frozen=True)
class EvalReport:
    """What was evaluated (model, data, split, TTA), the metrics, and the material of the report's figures."""

    model_name: str
    checkpoint: Path
    data: Path
    split: str
    tta: str
    num_params: int | None  # None: not counted (an ONNX file read without the onnx package)
    metrics: Metrics
    out_dir: Path
    model_classes: tuple[str, ...] = ()  # the model's outputs (a superset of the evaluated classes)
    mistakes: tuple[FaceExample, ...] = ()  # most confident wrong predictions, most confident first
    saliency: tuple[FaceExample, ...] = ()  # Grad-CAM examples, grouped by true class
    history: dict[str, np.ndarray] | None = None  # the run's history.csv columns, when there is one
    votes: VoteMetrics | None = None  # agreement with FER+'s annotators, on FER+ data
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    html_path = FolderEntry(REPORT_FILE, folder="out_dir")
    metrics_path = FolderEntry(EVALUATION_FILE, folder="out_dir")

    @property
    def title(self) -> str:
        return f"{self.model_name} on {self.data.name} [{self.split}]"

    def to_dict(self) -> dict[str, Any]:
        """The content of evaluation.json: provenance first, then `Metrics.to_dict()`, then on FER+ data `votes`
        (`VoteMetrics.to_dict()`)."""
        return {
            "split": self.split,
            "data": str(self.data),
            "checkpoint": str(self.checkpoint),
            "model_name": self.model_name,
            "num_params": self.num_params,
            "model_classes": list(self.model_classes),
            "tta": self.tta,
            "created": self.created,
            **self.metrics.to_dict(),
            **({"votes": self.votes.to_dict()} if self.votes else {}),
        }


def write_report(report: EvalReport) -> Path:
    """Write evaluation.json, one PNG per figure and report.html into `report.out_dir`; returns the HTML path."""
    report.out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(report.metrics_path, json.dumps(report.to_dict(), indent=2))
    sections = []
    for name, heading, fig in _figures(report):
        png = figures.save_png(fig, report.out_dir / f"{name}.png")
        sections.append(f"<h2>{html.escape(heading)}</h2>\n"
                        f'<img alt="{name}" src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    report.html_path.write_text(_page(report, sections), encoding="utf-8")
    log.info("wrote %s", report.html_path)
    return report.html_path


def _figures(report: EvalReport) -> Iterator[tuple[str, str, Figure]]:
    """(file stem, heading, Figure) of each figure the report has material for."""
    m = report.metrics
    yield "confusion", "Confusion matrix", figures.plot_confusion(m)
    yield "pr_roc", "One-vs-rest precision-recall and ROC curves", figures.plot_pr_roc(m)
    yield "reliability", "Calibration", figures.plot_reliability(m)
    if report.history:
        yield "training_curves", "Training curves of the run", figures.plot_history(report.history)
    if report.mistakes:
        rows = [report.mistakes[i:i + GRID_COLUMNS] for i in range(0, len(report.mistakes), GRID_COLUMNS)]
        yield "mistakes", f"The {len(report.mistakes)} most confident mistakes", figures.plot_faces(rows)
    if report.saliency:
        rows = [[ex for ex in report.saliency if ex.true == c] for c in m.classes]
        yield "gradcam", "Grad-CAM of the true class: where the model looks (one row per class)", figures.plot_faces(
            [row for row in rows if row])


def _page(report: EvalReport, sections: list[str]) -> str:
    m = report.metrics
    summary = [
        ("split", report.split),
        ("data", str(report.data)),
        ("model", report.model_name + (f" ({report.num_params:,} parameters)" if report.num_params else "")),
        ("checkpoint", str(report.checkpoint)),
        ("test-time augmentation", report.tta),
        ("faces", f"{m.num_faces:,}: " + ", ".join(f"{c} {n:,}" for c, n in zip(m.classes, m.support, strict=True))),
        ("accuracy", _fmt(m.accuracy)),
        ("balanced accuracy", _fmt(m.balanced_accuracy)),
        ("macro-F1", _fmt(m.macro_f1)),
        ("macro ROC AUC", _fmt(m.macro_auc)),
        ("expected calibration error", _fmt(m.ece)),
    ]
    per_class = [
        (name, _fmt(m.precision[i]), _fmt(m.recall[i]), _fmt(m.f1[i]), str(int(m.support[i])),
         _fmt(m.pr_curves[i].area if m.pr_curves[i] else math.nan),
         _fmt(m.roc_curves[i].area if m.roc_curves[i] else math.nan))
        for i, name in enumerate(m.classes)
    ]
    title = html.escape(f"ferkit evaluation: {report.title}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
img {{ max-width: 100%; }}
</style></head>
<body>
<h1>{title}</h1>
<p>Created {html.escape(report.created)}. Undefined values (a class never predicted or absent from the split)
are shown as &ndash;.</p>
{_key_values(summary)}
<h2>Per class</h2>
{_table(("class", "precision", "recall", "F1", "support", "average precision", "ROC AUC"), per_class)}
{_votes_section(report.votes) if report.votes else ""}
{chr(10).join(sections)}
</body></html>
"""


def _votes_section(v: VoteMetrics) -> str:
    """FER+: the accuracy above and the confusion matrix are against the majority vote; this adds the rest."""
    summary = [
        ("majority accuracy (the paper's metric)", f"{_fmt(v.majority_accuracy)} on {v.majority_faces:,} faces"),
        ("plurality accuracy", f"{_fmt(v.plurality_accuracy)} on {v.plurality_faces:,} faces"),
        ("mean probability given to the votes", _fmt(v.vote_probability)),
        ("mean share of annotators agreeing", _fmt(v.vote_agreement)),
        ("cross-entropy to the votes", _fmt(v.vote_cross_entropy)),
        ("left out: label not among the classes scored", f"{v.left_out_majority:,} majority faces, "
                                                          f"{v.left_out_plurality:,} plurality faces"),
    ]
    rows = [(name, str(int(v.class_majority_faces[i])), _fmt(v.class_majority_accuracy[i]),
             str(int(v.class_plurality_faces[i])), _fmt(v.class_plurality_accuracy[i]),
             _fmt(v.class_vote_probability[i]), _fmt(v.class_vote_cross_entropy[i]))
            for i, name in enumerate(v.classes)]
    return ("<h2>Agreement with the annotators (FER+ votes)</h2>\n<p>Accuracy, the per-class table above and the "
            "confusion matrix count the faces with a majority vote. The vote figures use every face whose plurality "
            "is an emotion, each with its votes after single votes are dropped.</p>\n" + _key_values(summary)
            + _table(("class (by majority / plurality)", "majority faces", "majority accuracy", "plurality faces",
                      "plurality accuracy", "probability to votes", "cross-entropy"), rows))


def _key_values(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>\n" for k, v in rows)
    return f"<table>\n{body}</table>"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + f"<th>{html.escape(row[0])}</th>" + "".join(f'<td class="num">{html.escape(v)}</td>'
                                                             for v in row[1:]) + "</tr>\n"
        for row in rows)
    return f"<table><tr>{head}</tr>\n{body}</table>"


def _fmt(value: float) -> str:
    return "\u2013" if math.isnan(value) else f"{value:.4f}"
