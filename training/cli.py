"""`smilebooth train [smile|eyes]` wiring: train, then write the float report beside the model.

`smilebooth train ARGS` without a model name trains the smile model, as it always has.
"""

from __future__ import annotations

import argparse
import logging
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from training.train import add_arguments as add_smile_arguments
    from training.train_eyes import add_arguments as add_eye_arguments

    models = parser.add_subparsers(dest="model", metavar="MODEL")
    for name, add, help_text in (
        ("smile", add_smile_arguments, "the smile model, on FER+ (the default)"),
        ("eyes", add_eye_arguments, "the eye-state model, on a folder with open/ and closed/"),
    ):
        sub = models.add_parser(name, help=help_text, description=help_text)
        add(sub)
        sub.add_argument(
            "--report-only",
            action="store_true",
            help="skip training; rewrite the report of OUT/best.keras",
        )


def run(args: argparse.Namespace) -> int:
    """Train (then report); bad data or arguments end in one line naming them, status 2."""
    from edge.exit_codes import CONFIG
    from training.ferplus import FerPlusError
    from training.folders import FolderDataError
    from training.train import TrainArgumentError

    try:
        return _run(args)
    except (FolderDataError, FerPlusError, TrainArgumentError) as exc:
        print(f"smilebooth train: {exc}", file=sys.stderr)
        return CONFIG


def _run(args: argparse.Namespace) -> int:
    if args.model == "eyes":
        from training.eyes_report import write_eyes_report
        from training.train_eyes import train_eyes

        best = args.out / "best.keras" if args.report_only else train_eyes(args)
        write_eyes_report(best, args)
        return 0
    from training.report import write_report
    from training.train import train

    best = args.out / "best.keras" if args.report_only else train(args)
    write_report(best, args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m training [smile|eyes] ARGS`: the same as `smilebooth train`."""
    from edge.cli import with_default_model

    parser = argparse.ArgumentParser(prog="smilebooth train", description=__doc__)
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    return run(parser.parse_args(with_default_model(["train", *argv])[1:]))
