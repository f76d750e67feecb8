"""`ferkit video IN`: emotions over time in a video, each face followed by a track id.

Writes an annotated video (`--out`), a per-frame, per-face timeline (`--csv`), a plot of each face's
emotions over time (`--plot`) and prints (or writes, `--summary`) the share of time each face spent in
each emotion.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from ferkit.apps.commands.predict import add_recognizer_arguments, create_recognizer
from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.config_fields import check_bounds, option
from ferkit.inference import IoUTracker
from ferkit.inference.draw import annotate
from ferkit.inference.timeline import TimelineRow, plot_timeline, summarize, write_csv
from ferkit.inference.video import FpsMeter, VideoSink, VideoSource


@dataclass(frozen=True)
class VideoConfig:
    out: Path | None = option(None, "annotated video to write (.mp4)")
    csv: Path | None = option(None, "timeline CSV: one row per analysed frame and face, written as it goes")
    plot: Path | None = option(None, "PNG plot of each face's emotions over time")
    summary: Path | None = option(None, "write the per-face summary JSON here, not stdout")
    every: int = option(1, "analyse every N-th frame (others reuse the last result)", "[1, inf)")
    smoothing: float = option(0.0, "weight of a face's past probabilities in their moving average, 0 = none",
                              "[0, 1)")
    iou_threshold: float = option(0.3, "box overlap that continues a face's track", "(0, 1]")
    max_missed: int = option(10, "analysed frames a face may vanish and keep its id", "[0, inf)")
    progress: bool = option(True, "show a progress line with frames/s on stderr")

    def __post_init__(self) -> None:
        check_bounds(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="video file")
    add_config_arguments(parser, VideoConfig)
    add_recognizer_arguments(parser)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(VideoConfig, args)
    recognizer = create_recognizer(args)
    tracker = IoUTracker(cfg.iou_threshold, cfg.max_missed, cfg.smoothing)
    rows: list[TimelineRow] = []
    with VideoSource(args.input) as source, (VideoSink(cfg.out, source.fps) if cfg.out else nullcontext()) as sink:
        progress = _Progress(source.frame_count) if cfg.progress else None
        for result in recognizer.stream(source, tracker, cfg.every):
            frame = result.frame
            if result.analyzed:
                rows.extend(TimelineRow(frame.index, frame.time_s, face) for face in result.faces)
            if sink is not None:
                sink.write(annotate(frame.image, result.faces))
            if progress is not None:
                progress.update(frame.index + 1)
        if progress is not None:
            progress.close()
    classes = recognizer.classes
    if cfg.csv:
        print(f"timeline ({len(rows)} rows) written to {write_csv(rows, cfg.csv, classes)}", file=sys.stderr)
    if cfg.plot:
        print(f"plot written to {plot_timeline(rows, classes, cfg.plot)}", file=sys.stderr)
    if cfg.out:
        print(f"annotated video written to {cfg.out}", file=sys.stderr)
    summary = json.dumps(summarize(rows, classes), indent=2)
    if cfg.summary:
        cfg.summary.parent.mkdir(parents=True, exist_ok=True)
        cfg.summary.write_text(summary + "\n")
    else:
        print(summary)
    return 0


class _Progress:
    """A one-line progress bar on stderr: frames done, share of the video and frames/s."""

    def __init__(self, total: int | None, width: int = 30) -> None:
        self.total = total
        self.width = width
        self._fps = FpsMeter()
        self._shown = 0.0

    def update(self, done: int) -> None:
        fps = self._fps.tick()
        now = time.monotonic()
        if now - self._shown < 0.25 and done != self.total:
            return
        self._shown = now
        if self.total:
            filled = round(self.width * done / self.total)
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}"
        else:
            bar = f"{done} frames"
        sys.stderr.write(f"\r{bar} {fps:5.1f} frames/s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
