"""`ferkit webcam`: live emotions from a camera, in a window with boxes, labels and frames/s.

Without a display (or with `--headless`) it prints one JSON line per frame instead. Quit with q or Esc
in the window, or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import dataclass

import cv2

from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.config_fields import check_bounds, nested, option
from ferkit.inference import IoUTracker
from ferkit.inference.config import RecognizerConfig
from ferkit.inference.video import FpsMeter, VideoSource

log = logging.getLogger(__name__)

WINDOW = "ferkit webcam (q to quit)"
_QUIT_KEYS = (ord("q"), 27)  # q, Esc


@dataclass(frozen=True)
class WebcamConfig:
    device: str = option("0", "camera index, or a video file to replay as if live")
    headless: bool = option(False, "print JSON lines instead of opening a window")
    max_frames: int = option(0, "stop after this many frames; 0 = run until quit", "[0, inf)")
    smoothing: float = option(0.6, "weight of a face's past probabilities in their moving average (steadier labels)",
                              "[0, 1)")
    recognizer: RecognizerConfig = nested(RecognizerConfig(), "the model and the face detector")

    def __post_init__(self) -> None:
        check_bounds(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, WebcamConfig)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(WebcamConfig, args)
    recognizer = cfg.recognizer.build()
    show = not cfg.headless and _open_window()
    if not cfg.headless and not show:
        log.warning("no display available; printing JSON lines instead (pass --headless to say so)")
    meter = FpsMeter()
    source = VideoSource(int(cfg.device) if cfg.device.isdigit() else cfg.device)
    try:
        for step in recognizer.stream(source, IoUTracker(smoothing=cfg.smoothing)):
            result, fps = step.result, meter.tick()
            if show:
                cv2.imshow(WINDOW, result.plot(caption=f"{fps:.1f} frames/s"))
                if cv2.waitKey(1) & 0xFF in _QUIT_KEYS:
                    break
            else:
                sys.stdout.write(json.dumps({**result.to_dict(), "fps": round(fps, 1)}) + "\n")
                sys.stdout.flush()
            if cfg.max_frames and step.frame.index + 1 >= cfg.max_frames:
                break
    finally:
        source.close()
        if show:
            cv2.destroyAllWindows()
    return 0


def _open_window() -> bool:
    """Open the preview window; False where there is no display or OpenCV was built without a GUI."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error:  # opencv-python-headless: "The function is not implemented"
        return False
    return True
