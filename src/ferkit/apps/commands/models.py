"""`ferkit models`: every registered architecture with its parameter count and cost per image."""

from __future__ import annotations

import argparse
import json

from ferkit.constants import FER_INPUT_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-size", type=int, default=FER_INPUT_SIZE,
                        help=f"side of the square input the FLOPs are counted at (default: {FER_INPUT_SIZE})")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    from ferkit.models.flops import model_table  # imports torch: only when this command runs

    rows = model_table(input_size=args.input_size)
    if args.json:
        keys = ("name", "params", "mflops")
        print(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
        return 0
    print(f"{'model':<16}{'params':>12}{'MFLOPs':>12}   (FLOPs = 2 x multiply-adds, one {args.input_size}x"
          f"{args.input_size} image)")
    for name, params, mflops in rows:
        print(f"{name:<16}{params:>12,}{mflops:>12.1f}")
    return 0
