"""`ferkit tune`: TuneConfig from the command line, then `ferkit.train.tune.tune`; prints the best trial."""

from __future__ import annotations

import argparse

from ferkit import env
from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.train.tune import BEST_JSON, TuneConfig, tune


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, TuneConfig)


def run(args: argparse.Namespace) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # ferkit logs one line per trial itself
    result = tune(config_from_args(TuneConfig, args, defaults={"cache_dir": env.data_cache_dir()}))
    counts = ", ".join(f"{n} {state.lower()}" for state, n in result.counts.items())
    print(f"study: {result.study_dir} ({counts})")
    if result.best_config is None:
        print("no trial completed, so there is no best trial")
    else:
        params = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.best_params.items())
        print(f"best val_acc={result.best_val_acc:.4f}: {params}")
        print(f"best config: {result.study_dir / BEST_JSON}")
    print(f"summary: {result.summary_path}")
    return 0
