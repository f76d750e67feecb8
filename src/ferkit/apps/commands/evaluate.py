"""`ferkit evaluate`: EvalConfig from the command line, then `ferkit.evaluate.run.evaluate`."""

from __future__ import annotations

import argparse

from ferkit import env
from ferkit.apps.config_args import add_config_arguments, config_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ferkit.evaluate.run import EvalConfig

    add_config_arguments(parser, EvalConfig)


def run(args: argparse.Namespace) -> int:
    from ferkit.evaluate.run import EvalConfig, evaluate

    report = evaluate(config_from_args(EvalConfig, args, defaults={"cache_dir": env.data_cache_dir()}))
    m = report.metrics
    print(f"{report.title}: {m.num_faces:,} faces, tta={report.tta}")
    print(f"  accuracy {m.accuracy:.4f}  balanced accuracy {m.balanced_accuracy:.4f}  macro-F1 {m.macro_f1:.4f}  "
          f"ECE {m.ece:.4f}")
    print(f"  report: {report.html_path}")
    return 0
