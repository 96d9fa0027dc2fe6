"""`smilebooth run`: wire config, models, camera, loop and signals together.

Order matters: the config is validated and the models are loaded (and checked against
their cards) before the camera is opened, so a broken install fails fast and leaves the
camera alone. SIGTERM/SIGINT set one stop event; the loop finishes its frame (and any
capture in progress), then everything closes in reverse order.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from edge import exit_codes
from edge.compose import build_loop
from edge.config import AppConfig, ConfigError
from edge.config.command import Overrides, add_config_argument, config_with_flags
from edge.decide.control import Controls
from edge.io.capture import folder_problem
from edge.io.events import EventBus
from edge.perception.model_card import ModelCardError

log = logging.getLogger(__name__)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument(
        "--source",
        help="override the source: a device index, a video file, "
        "an image folder, a URL or a GStreamer pipeline",
    )
    parser.add_argument(
        "--threshold", help="override trigger.threshold (checked like the file's value)"
    )
    parser.add_argument("--captures", type=Path, help="override capture.folder")


def resolve_config(args: argparse.Namespace) -> AppConfig:
    """The config `run` uses: --config, then --source, --threshold and --captures, each
    checked exactly as the same key in the file (range and the rearm_threshold rule)."""
    flags: Overrides = {}
    if getattr(args, "threshold", None) is not None:
        flags["trigger.threshold"] = (args.threshold, "--threshold")
    if getattr(args, "captures", None):
        flags["capture.folder"] = (str(args.captures), "--captures")
    return config_with_flags(args, flags)


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, _frame: Any) -> None:
        log.info("%s: stopping after this frame", signal.Signals(signum).name)
        stop.set()
        # A second signal ends the process at once; atomic writes still leave no half photo.
        signal.signal(signum, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def run_command(args: argparse.Namespace) -> int:
    try:
        config = resolve_config(args)
    except ConfigError as exc:
        print(f"smilebooth run: invalid configuration:\n{exc}", file=sys.stderr)
        return exit_codes.CONFIG
    problem = folder_problem(config.capture.folder)
    if problem:  # a file where the folder should be: no restart will fix it
        print(
            f"smilebooth run: invalid configuration: capture.folder "
            f"{config.capture.folder!r}: {problem}",
            file=sys.stderr,
        )
        return exit_codes.CONFIG
    from edge.config.checks import tls_problems, web_problems

    problems = tls_problems(config.mqtt) + web_problems(config)
    if problems:  # named by key before the models load (a bad CA is not the password)
        print("smilebooth run: invalid configuration:\n" + "\n".join(problems), file=sys.stderr)
        return exit_codes.CONFIG
    from edge.io.disk_floor import floor_warning

    if warning := floor_warning(config.capture.folder, config.capture.min_free_mb):
        log.warning("%s", warning)
    stop = threading.Event()
    board = now_board(config)
    try:
        loop = build_loop(config, stop=stop, observer=board.observe if board else None)
    except (ModelCardError, FileNotFoundError, RuntimeError) as exc:
        print(f"smilebooth run: cannot load the models: {exc}", file=sys.stderr)
        return exit_codes.MODELS
    except ValueError as exc:  # a section's cross-field check (e.g. lores larger than main)
        print(f"smilebooth run: invalid configuration: {exc}", file=sys.stderr)
        return exit_codes.CONFIG
    try:
        publisher = start_publisher(config, loop.parts.bus, loop.parts.controls)
    except OSError as exc:
        print(f"smilebooth run: mqtt.password_file: {exc.strerror or exc}", file=sys.stderr)
        return exit_codes.CONFIG
    try:
        web = start_web(config, board, loop.parts.bus, loop.parts.controls)
    except (ImportError, OSError, RuntimeError) as exc:
        print(f"smilebooth run: web: {exc}", file=sys.stderr)
        if publisher is not None:
            publisher.stop()
        return exit_codes.CONFIG
    install_signal_handlers(stop)
    notifier = loop.parts.notifier
    try:
        return loop.run()  # closes the source on the way out, after flushing a pending burst
    finally:
        notifier.stopping()
        if web is not None:
            web.stop()
            board.live.close()
        if publisher is not None:
            publisher.stop()
        notifier.close()


def now_board(config: AppConfig) -> Any:
    """What the web page watches of the loop (live view, now panel), when it is enabled."""
    if not config.web.enabled:
        return None
    from edge.web.live import LiveView
    from edge.web.now import NowBoard

    return NowBoard(config.trigger, config.scoring, LiveView(fps=config.web.live_fps))


def start_web(config: AppConfig, board: Any, bus: EventBus, controls: Controls) -> Any:
    """The web page on its own thread, when enabled; started before the camera opens, so a
    port in use or a missing extra stops start-up with the reason."""
    if board is None:
        return None
    try:
        from edge.web.cli import build_web_app
        from edge.web.server import LoopLink, WebServer
    except ImportError as exc:
        raise ImportError(f"needs the web extra: pip install 'smilebooth[web]' ({exc})") from exc
    board.attach(bus)
    server = WebServer(build_web_app(config, link=LoopLink(board, controls)), config.web)
    server.start()
    port = server.wait_started()
    log.info("web page on http://%s:%d/", config.web.host, port)
    return server


def start_publisher(config: AppConfig, bus: EventBus, controls: Controls) -> Any:
    """The MQTT feed, when enabled; a broker that is down only delays it (it retries)."""
    if not config.mqtt.enabled:
        return None
    from edge.io.mqtt.publisher import MqttPublisher
    from edge.io.secrets import read_password

    publisher = MqttPublisher(
        config.mqtt,
        bus,
        controls,
        password=read_password(config.mqtt),
    )
    publisher.start()
    return publisher
