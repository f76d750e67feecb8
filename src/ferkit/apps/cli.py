"""The `ferkit` command: parses argv, builds the command's config dataclass and calls the library.

Subcommands live in `ferkit.apps.commands.<name>` and are imported only when used, so that
`ferkit predict` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from ferkit import __version__
from ferkit.errors import FerkitError

# name -> (module, one-line help). Order is the order `ferkit --help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "predict": ("ferkit.apps.commands.predict", "emotions of every face in images, folders or globs"),
    "video": ("ferkit.apps.commands.video", "emotions over time in a video file, with face tracks"),
    "webcam": ("ferkit.apps.commands.webcam", "live emotions from a camera"),
    "serve": ("ferkit.apps.commands.serve", "REST API and web page"),
    "train": ("ferkit.apps.commands.train", "train a model on FER2013, a CSV or a folder of labelled faces"),
    "evaluate": ("ferkit.apps.commands.evaluate", "evaluation.json and an HTML report for a model on any data set"),
    "compare": ("ferkit.apps.commands.compare", "several runs side by side"),
    "tune": ("ferkit.apps.commands.tune", "hyperparameter search with Optuna"),
    "export": ("ferkit.apps.commands.export", "export a checkpoint to ONNX (optionally int8)"),
    "models": ("ferkit.apps.commands.models", "list model architectures with parameters and FLOPs"),
}

# The extra of pyproject.toml that installs each optional top-level module. The quickstart installs none of them,
# so a command that needs one exits 1 with a line naming its extra instead of an ImportError's traceback.
EXTRAS: dict[str, str] = {
    **dict.fromkeys(("torch", "lightning", "torchmetrics", "sklearn", "onnx", "onnxscript", "optuna"), "train"),
    **dict.fromkeys(("fastapi", "uvicorn", "multipart", "starlette"), "api"),
    "ray": "ray",
}

log = logging.getLogger("ferkit")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ferkit` console script; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        return _run(argv, command)
    except ModuleNotFoundError as exc:  # raised by the command's imports, while parsing or running
        extra = EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"ferkit {command}: error: this command needs {exc.name}, which is not installed: "
              f"pip install 'ferkit[{extra}]'", file=sys.stderr)
        return 1


def _run(argv: list[str], command: str | None) -> int:
    args = build_parser(command).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except FerkitError as exc:
        print(f"ferkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ferkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the system refused a read or write the checks could not foresee (disk full, ...)
        if args.verbose:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ferkit {args.command}: error: {where}{exc.strerror or exc} (run with -v for the traceback)",
              file=sys.stderr)
        return 1


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Parser with the options of `command` only (or of all commands for top-level --help)."""
    parser = argparse.ArgumentParser(
        prog="ferkit",
        description="Facial expression recognition: train, evaluate and run FER models.",
        epilog="Run 'ferkit COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"ferkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        if name == command:
            importlib.import_module(module_name).add_arguments(p)
    return parser


if __name__ == "__main__":
    sys.exit(main())
