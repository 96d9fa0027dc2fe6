"""The `smilebooth` command: one entry point, one subcommand per job.

Subcommand modules are imported only when their subcommand runs, so `smilebooth run` on a
Pi never imports the training side, and `train`/`convert` say which extra to install when
TensorFlow is missing instead of failing with an ImportError.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from edge import exit_codes

# subcommand -> (module, function adding its arguments, function running it, help)
SUBCOMMANDS: dict[str, tuple[str, str, str, str]] = {
    "run": ("edge.cli.run", "add_run_arguments", "run_command", "run the live loop"),
    "score": (
        "edge.cli.score",
        "add_arguments",
        "score_command",
        "score photos or folders: one JSON line per image",
    ),
    "bench": (
        "edge.cli.bench",
        "add_bench_arguments",
        "bench_command",
        "measure per-stage latency, fps and memory on a source",
    ),
    "crops": (
        "edge.cli.crops",
        "add_arguments",
        "crops_command",
        "cut eye and face crops from photos or video with the device's detector",
    ),
    "web": (
        "edge.web.cli",
        "add_arguments",
        "web_command",
        "serve the web page without a camera: photos, score a photo (needs [web])",
    ),
    "validate-config": (
        "edge.config.command",
        "add_validate_arguments",
        "validate_command",
        "check a config file; exit 0 when valid, 2 otherwise (as run)",
    ),
    "train": (
        "training.cli",
        "add_arguments",
        "run",
        "train the smile (default) or eye-state model (needs [train])",
    ),
    "convert": (
        "convert.cli",
        "add_arguments",
        "run",
        "convert models to full int8 + cards (needs [train])",
    ),
}
NEEDS_TENSORFLOW = {"train", "convert"}
# Subcommands that take a model name first, and the one assumed without it: `smilebooth
# train --out X` still trains the smile model, as before the eye-state model existed.
MODEL_NAMES = {"train": ("smile", "eyes")}


def with_default_model(argv: list[str]) -> list[str]:
    """Insert the default model name after `train` when none is given."""
    for index, arg in enumerate(argv):
        if arg not in SUBCOMMANDS:
            continue
        names = MODEL_NAMES.get(arg)
        following = argv[index + 1] if index + 1 < len(argv) else None
        if names and following not in (*names, "-h", "--help"):
            return [*argv[: index + 1], names[0], *argv[index + 1 :]]
        return argv
    return argv


DESCRIPTION = """\
smilebooth: a photo booth that takes the picture when everyone smiles.

It reads a camera (or a video file, or a folder of photos), scores each face for smiling
and open eyes, and saves the best frame once the whole group smiles. Start with
`smilebooth run` (a camera) or `smilebooth score photo.jpg` (one photo)."""

EPILOG = """\
examples:
  smilebooth run                          the camera in ./config.yaml (else camera 0)
  smilebooth run --source party.mp4       replay a video as if it were the camera
  smilebooth score photos/ --annotate out/  score every photo, draw the boxes
  smilebooth validate-config /etc/smilebooth/config.yaml

exit status:
  0  done (or stopped by a signal)
  1  finished, but some inputs failed (unreadable photos in `score`)
  2  invalid configuration or command line
  3  the models cannot be loaded (missing file, card mismatch)
  4  the video file or image folder cannot be opened, or gave `bench` no frame
     to measure (a camera is waited for instead)

`smilebooth COMMAND --help` lists a command's options."""


def _function(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(module), name)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smilebooth")
    except PackageNotFoundError:  # a checkout that was never installed
        return "0+unknown"


class _VersionAction(argparse.Action):
    """--version, looked up only when given: importlib.metadata brings email, zipfile, csv
    and tempfile along (3 MB resident), which `run` and `bench` would carry all along."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS) -> None:
        help_text = "show program's version number and exit"
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help_text)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"smilebooth {package_version()}")
        parser.exit()


def _add_verbosity(parser: argparse.ArgumentParser, default: Any) -> None:
    """-v/-q, on the main parser and on every subcommand (`smilebooth run -v` works too).
    Subcommands default to SUPPRESS so they never overwrite a flag given before them."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="debug logging"
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="warnings and errors only"
    )


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smilebooth",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    _add_verbosity(parser, False)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title="commands"
    )
    chosen = next((arg for arg in argv if arg in SUBCOMMANDS), None)
    for name, (module, add, _run, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,  # every default shown
        )
        _add_verbosity(sub, argparse.SUPPRESS)
        if name == chosen:  # import only the module of the subcommand that will run
            _function(module, add)(sub)
    return parser


def configure_logging(verbose: bool, quiet: bool = False) -> None:
    """journald adds its own timestamps: leave them out when running under systemd."""
    under_journald = "JOURNAL_STREAM" in os.environ or "INVOCATION_ID" in os.environ
    fmt = (
        "%(levelname)s %(name)s: %(message)s"
        if under_journald
        else ("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format=fmt,
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    argv = with_default_model(list(sys.argv[1:] if argv is None else argv))
    args = build_parser(argv).parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    if args.command in NEEDS_TENSORFLOW and importlib.util.find_spec("tensorflow") is None:
        print(
            f"smilebooth {args.command} needs TensorFlow, which the edge install leaves out: "
            "pip install 'smilebooth[train]'",
            file=sys.stderr,
        )
        return exit_codes.CONFIG
    module, _add, run, _help = SUBCOMMANDS[args.command]
    return int(_function(module, run)(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
