"""`ferkit train`: TrainConfig from a recipe and the command line, then `ferkit.train.run.train`.

The data path is stored absolute in the run's config.json and model file, so `ferkit evaluate --model RUN`
finds the data from any folder (its `--data` overrides it)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from ferkit import env
from ferkit.apps.config_args import add_config_arguments, config_from_args, given_options
from ferkit.errors import ConfigError
from ferkit.train.config import TrainConfig
from ferkit.train.recipes import RECIPES, get_recipe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", choices=sorted(RECIPES), help="start from a named recipe (options override it)")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    add_config_arguments(parser, TrainConfig)


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """Dataclass defaults < recipe < command line; decoded faces are cached unless --cache-dir says where.

    With --resume the run's own saved config is the base instead, with the recipe and options given over it;
    `train` then refuses any that would change more than where and how it runs (`ferkit.train.resume`)."""
    recipe = get_recipe(args.recipe) if args.recipe else {}
    if args.resume:
        from ferkit.train.resume import resume_config

        if args.run_dir is None:
            raise ConfigError("--resume needs --run-dir (the folder to continue)")
        return resume_config(args.run_dir, {**recipe, **given_options(TrainConfig, args)})
    cfg = config_from_args(TrainConfig, args, defaults={"cache_dir": env.data_cache_dir(), **recipe})
    return replace(cfg, data=replace(cfg.data, path=cfg.data.path.resolve()))


def run(args: argparse.Namespace) -> int:
    cfg = resolve_config(args)
    if args.print_config:
        print(json.dumps(cfg.to_dict(), indent=2))
        return 0
    from ferkit.train.run import train  # heavy imports only when training

    result = train(cfg)
    m = result.metrics
    print(f"run: {result.run_dir}")
    print(f"best epoch {m['best_epoch']}: val_acc={m['val_acc']:.4f} val_macro_f1={m['val_macro_f1']:.4f} "
          f"({m['val_split']})")
    print(f"model: {Path(result.model_path)}")
    return 0
