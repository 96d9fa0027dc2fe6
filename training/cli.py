"""`smilebooth train` wiring: train, then write the float report beside the model."""

from __future__ import annotations

import argparse

from training.train import add_arguments as _add_train_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_train_arguments(parser)
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="skip training; rewrite the report of OUT/best.keras",
    )


def run(args: argparse.Namespace) -> int:
    from training.report import write_report
    from training.train import train

    best = args.out / "best.keras" if args.report_only else train(args)
    write_report(best, args)
    return 0
