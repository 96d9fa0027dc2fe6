"""`smilebooth web`: the page without a camera (browse and manage photos, score a photo).

`smilebooth run` serves the same page when `web.enabled`; this command is for a device
whose loop is stopped, or a workstation holding a copy of the photos.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from edge import exit_codes
from edge.config import AppConfig, ConfigError
from edge.config.command import add_config_argument, config_from_argument

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from edge.web.server import LoopLink

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def build_web_app(
    config: AppConfig, environ: Mapping[str, str] | None = None, link: LoopLink | None = None
) -> Starlette:
    """The Starlette app for this config: gallery on capture.folder, its own pipeline; the
    token from web.token_file, then `environ` (default: the process's environment)."""
    from edge.io.secrets import read_token
    from edge.perception.pipeline import build_pipeline
    from edge.web.auth import Guard
    from edge.web.gallery import Gallery
    from edge.web.photo_scorer import PhotoScorer
    from edge.web.server import build_app

    guard = Guard(read_token(config.web, environ), config.web.protect_viewing)
    scorer = PhotoScorer(lambda: build_pipeline(config), config.images)
    return build_app(config.web, Gallery(Path(config.capture.event_folder)), scorer, guard, link)


def web_command(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print("smilebooth web needs the web extra: pip install 'smilebooth[web]'", file=sys.stderr)
        return exit_codes.CONFIG
    try:
        config = config_from_argument(args.config)
        app = build_web_app(config)
    except ConfigError as exc:
        print(f"smilebooth web: invalid configuration:\n{exc}", file=sys.stderr)
        return exit_codes.CONFIG
    except OSError as exc:
        print(f"smilebooth web: cannot read the web token: {exc}", file=sys.stderr)
        return exit_codes.CONFIG
    from edge.io.signals import install_signal_handlers
    from edge.web.server import WebServer

    stop = threading.Event()
    install_signal_handlers(stop)  # SIGTERM/Ctrl-C: stop serving, exit 0, as `run` does
    server = WebServer(app, config.web)
    server.start()
    try:
        port = server.wait_started()
    except RuntimeError as exc:
        print(f"smilebooth web: {exc}", file=sys.stderr)
        return exit_codes.CONFIG
    print(f"serving http://{config.web.host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    stop.wait()
    server.stop()
    return exit_codes.OK
