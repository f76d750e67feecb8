"""`ferkit video IN`: emotions over time in a video, each face followed by a track id.

Writes an annotated video (`--out`), a per-frame, per-face timeline (`--csv`, written as it goes), a plot of
each face's emotions over time (`--plot`) and prints (or writes, `--summary`) the share of time each face
spent in each emotion. Output paths are checked before the first frame.

Exit status: 0 when every frame the file claims was analysed; 130 on Ctrl-C, after writing the outputs for
the frames analysed so far; 3 (`INCOMPLETE`) when decoding stopped before the frame count the container
claims, with a warning (the outputs cover the frames read); 2 for an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.config_fields import check_bounds, nested, option
from ferkit.errors import ConfigError
from ferkit.files import check_output_file
from ferkit.inference import IoUTracker
from ferkit.inference.config import RecognizerConfig
from ferkit.inference.timeline import TimelineRow, TimelineWriter, plot_timeline, summarize
from ferkit.inference.video import FpsMeter, VideoSink, VideoSource

INCOMPLETE = 3  # exit status: the video stopped decoding before its claimed end


@dataclass(frozen=True)
class VideoConfig:
    out: Path | None = option(None, "annotated video to write (.mp4)")
    csv: Path | None = option(None, "timeline CSV: one row per analysed frame and face (the columns of "
                                    "predict's table), written as it goes")
    plot: Path | None = option(None, "PNG plot of each face's emotions over time")
    summary: Path | None = option(None, "write the per-face summary JSON here, not stdout")
    every: int = option(1, "analyse every N-th frame (others reuse the last result)", "[1, inf)")
    smoothing: float = option(0.0, "weight of a face's past probabilities in their moving average, 0 = none",
                              "[0, 1)")
    iou_threshold: float = option(0.3, "box overlap that continues a face's track", "(0, 1]")
    max_missed: int = option(10, "analysed frames a face may vanish and keep its id", "[0, inf)")
    progress: bool = option(True, "show a progress line with frames/s on stderr")
    recognizer: RecognizerConfig = nested(RecognizerConfig(), "the model and the face detector")

    def __post_init__(self) -> None:
        check_bounds(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="video file")
    add_config_arguments(parser, VideoConfig)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(VideoConfig, args)
    outputs = {f"--{name}": getattr(cfg, name) for name in ("out", "csv", "plot", "summary")
               if getattr(cfg, name) is not None}
    for flag, path in outputs.items():
        check_output_file(path, flag, [args.input])
    if len({p.resolve() for p in outputs.values()}) < len(outputs):
        raise ConfigError(f"{', '.join(outputs)} must name different files")
    recognizer = cfg.recognizer.build()
    classes = recognizer.classes
    tracker = IoUTracker(cfg.iou_threshold, cfg.max_missed, cfg.smoothing)
    rows: list[TimelineRow] = []
    interrupted, done = False, 0
    with VideoSource(args.input) as source, \
            (VideoSink(cfg.out, source.fps) if cfg.out else nullcontext()) as sink, \
            (TimelineWriter(cfg.csv, classes) if cfg.csv else nullcontext()) as timeline:
        progress = _Progress(source.frame_count) if cfg.progress else None
        try:
            for step in recognizer.stream(source, tracker, cfg.every):
                if step.analyzed:
                    rows.extend(TimelineRow.of(step.result))
                    if timeline is not None:
                        timeline.write(replace(step.result, source=str(args.input)))
                if sink is not None:
                    sink.write(step.result.plot())
                done = step.frame.index + 1
                if progress is not None:
                    progress.update(done)
        except KeyboardInterrupt:
            interrupted = True
        if progress is not None:
            progress.close()
    _write_analysis(cfg, rows, classes, done, source.frame_count, timeline.rows if timeline is not None else 0)
    if interrupted:
        print(f"{args.input}: interrupted after {done} frame(s); the outputs cover those frames", file=sys.stderr)
        return 130
    if source.missing_frames:
        print(f"{args.input}: warning: decoding stopped after {source.frames_read} of the {source.frame_count} "
              "frames the file claims (truncated or damaged?); the outputs cover the frames read", file=sys.stderr)
        return INCOMPLETE
    return 0


def _write_analysis(cfg: VideoConfig, rows: list[TimelineRow], classes: tuple[str, ...], done: int,
                    claimed: int | None, csv_rows: int) -> None:
    """Report the timeline and annotated video, and write the plot and summary of the frames analysed."""
    if cfg.csv:
        print(f"timeline ({csv_rows} rows) written to {cfg.csv}", file=sys.stderr)
    if cfg.plot:
        print(f"plot written to {plot_timeline(rows, classes, cfg.plot)}", file=sys.stderr)
    if cfg.out:
        print(f"annotated video written to {cfg.out}", file=sys.stderr)
    summary = {**summarize(rows, classes), "frames_processed": done, "frames_claimed": claimed}
    text = json.dumps(summary, indent=2)
    if cfg.summary:
        cfg.summary.write_text(text + "\n")
    else:
        print(text)


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
