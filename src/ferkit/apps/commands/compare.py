"""`ferkit compare RUN...`: CompareConfig from the command line, then `ferkit.evaluate.compare.compare_runs`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ferkit.apps.config_args import add_config_arguments, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ferkit.evaluate.compare import CompareConfig

    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                        help=CompareConfig.__dataclass_fields__["runs"].metadata["help"])
    add_config_arguments(parser, CompareConfig, skip=("runs",))


def run(args: argparse.Namespace) -> int:
    from ferkit.evaluate.compare import CompareConfig, compare_runs

    result = compare_runs(config_from_args(CompareConfig, args, runs=tuple(args.runs)))
    width = max(len(r.name) for r in result.runs)
    for r in result.runs:
        acc = "-" if r.accuracy is None else f"{r.accuracy:.4f}"
        f1 = "-" if r.macro_f1 is None else f"{r.macro_f1:.4f}"
        print(f"{r.name:<{width}}  {r.measured_on}  accuracy {acc}  macro-F1 {f1}")
    if result.mixed_splits:
        print("warning: the runs were measured on different data, splits or TTA; accuracies are not comparable")
    print(f"comparison: {result.html_path}")
    return 0
