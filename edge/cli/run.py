"""`smilebooth run`: wire config, models, camera, loop and signals together.

Order matters: the config is validated and the models are loaded (and checked against
their cards) before the camera is opened, so a broken install fails fast and leaves the
camera alone. SIGTERM/SIGINT set one stop event; the loop finishes its frame (and any
capture in progress), then everything closes in reverse order.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path
from typing import Any

from edge import exit_codes
from edge.compose import build_loop
from edge.config import AppConfig, ConfigError
from edge.config.command import Overrides, add_config_argument, config_with_flags
from edge.decide.control import Controls
from edge.io import events
from edge.io.capture import folder_problem
from edge.io.events import EventBus
from edge.io.signals import install_signal_handlers
from edge.loop import FrameLoop
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
    if board is not None:
        board.counters = loop.parts.store.counters
    try:
        publisher = start_publisher(
            config, loop.parts.bus, loop.parts.controls, loop.parts.store.folder
        )
    except OSError as exc:
        print(f"smilebooth run: mqtt.password_file: {exc.strerror or exc}", file=sys.stderr)
        return exit_codes.CONFIG
    try:
        printer = start_printer(config, loop)
    except ValueError as exc:  # the overlay PNG cannot be read
        print(f"smilebooth run: invalid configuration: {exc}", file=sys.stderr)
        if publisher is not None:
            publisher.stop()
        return exit_codes.CONFIG
    try:
        web = start_web(config, board, loop.parts.bus, loop.parts.controls, printer)
    except (ImportError, OSError, RuntimeError) as exc:
        print(f"smilebooth run: web: {exc}", file=sys.stderr)
        for part in (publisher, printer):
            if part is not None:
                part.stop()
        return exit_codes.CONFIG
    try:
        panel = start_panel(config, loop)
    except (ImportError, RuntimeError, ValueError) as exc:  # no GPIO here, a pin in use
        print(f"smilebooth run: gpio: {exc}", file=sys.stderr)
        for part in (publisher, printer, web):
            if part is not None:
                part.stop()
        return exit_codes.CONFIG
    install_signal_handlers(stop)
    notifier = loop.parts.notifier
    try:
        code = loop.run()  # closes the source on the way out, after flushing a pending burst
        if code == exit_codes.OK and not loop.parts.source.live:
            print(replay_summary(loop, config.capture.folder))
        return code
    finally:
        notifier.stopping()
        if panel is not None:
            panel.close()
        if web is not None:
            web.stop()
            board.close()
        if printer is not None:
            printer.stop()
        if publisher is not None:
            publisher.stop()
        notifier.close()


def replay_summary(loop: FrameLoop, folder: str) -> str:
    """One line at the end of a video or a folder, so that an operator trying a threshold on
    a recording sees why no photo was taken, not only that none was."""
    counters, controls, trigger = loop.counters, loop.parts.controls.peek(), loop.parts.trigger
    best, held = counters.best_score, counters.longest_hold_s
    line = (
        f"end of the input: {counters.frames} frames, best group score "
        f"{'-' if best is None else f'{best:.2f}'} (threshold {controls.threshold:.2f}), "
        f"{counters.captures} photo(s)"
    )
    if counters.captures:
        return f"{line} in {folder}"
    if counters.capture_failures:
        return f"{line}: {counters.capture_failures} failed to save (see the errors above)"
    if not controls.armed:
        return f"{line}: the trigger is disarmed (trigger.armed)"
    if best is None:
        return f"{line}: no face was seen"
    if best < controls.threshold:
        return f"{line}: the group score never reached the threshold"
    if counters.held_back:
        reason = max(counters.held_back, key=lambda r: counters.held_back[r])
        frames = counters.held_back[reason]
        why = f"{line}: at the threshold, but {HELD_BACK.get(reason, reason)} ({frames} frames)"
        if held is not None and held < trigger.hold_s:
            why += f"; held {held:.2f} s at most, trigger.hold_s asks {trigger.hold_s:g} s"
        return why
    if held is None:
        return f"{line}: the score reached it only with fewer than {trigger.min_faces} face(s)"
    if held < trigger.hold_s:
        return (
            f"{line}: the score stayed at or above the threshold for {held:.2f} s at most, "
            f"trigger.hold_s asks {trigger.hold_s:g} s"
        )
    eyes = "trigger.block_on_closed_eyes"
    return f"{line}: held long enough, but some face's eyes read closed ({eyes})"


# The rule's reasons (edge.decide.rule) in a replay's closing line, with the key to change.
HELD_BACK = {
    "not_smiling": "not everyone was smiling (trigger.rule: everyone; "
    "trigger.allow_not_smiling lets some off)",
    "eyes_closed": "some face's eyes read closed (trigger.block_on_closed_eyes)",
    "few_faces": "fewer faces than trigger.min_faces",
    "low_score": "the score fell short",
}


def now_board(config: AppConfig) -> Any:
    """What the web page watches of the loop (live view, now panel), when it is enabled."""
    if not config.web.enabled:
        return None
    from edge.web.live import LiveView
    from edge.web.mirror import MirrorView
    from edge.web.now import NowBoard

    mirror = MirrorView(fps=config.web.booth_fps) if config.web.guests else None
    return NowBoard(config.trigger, LiveView(fps=config.web.live_fps), mirror)


def start_printer(config: AppConfig, loop: Any) -> Any:
    """The print queue (its own thread), when printing.enabled; ValueError for an overlay
    that cannot be read. A printer that is off is not an error here: each job reports it."""
    if not config.printing.enabled:
        return None
    from edge.io.printer import PrintService

    store = loop.parts.store
    printer = PrintService(config.printing, store.folder, store.counters, loop.parts.bus)
    printer.start()
    return printer


def start_panel(config: AppConfig, loop: Any) -> Any:
    """The GPIO button and lights, when gpio.enabled (RuntimeError: no GPIO here)."""
    if not config.gpio.enabled:
        return None
    from edge.io.gpio import BoothPanel

    panel = BoothPanel(config.gpio, loop.parts.controls, loop.parts.bus)
    panel.start()
    return panel


def start_web(
    config: AppConfig, board: Any, bus: EventBus, controls: Controls, printer: Any = None
) -> Any:
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
    board.printer = printer
    link = LoopLink(board, controls, printer=printer)
    server = WebServer(build_web_app(config, link=link), config.web)
    server.start()
    port = server.wait_started()
    log.info("web page on http://%s:%d/", config.web.host, port)
    return server


def start_publisher(
    config: AppConfig, bus: EventBus, controls: Controls, photos: Path | None = None
) -> Any:
    """The MQTT feed, when enabled; a broker that is down only delays it (it retries). The
    newest photo in `photos` is its last capture until this run takes one."""
    if not config.mqtt.enabled:
        return None
    from edge.io.mqtt.discovery import page_url
    from edge.io.mqtt.publisher import MqttPublisher
    from edge.io.secrets import read_password

    url = config.mqtt.discovery.configuration_url
    publisher = MqttPublisher(
        config.mqtt,
        bus,
        controls,
        password=read_password(config.mqtt),
        configuration_url=(
            page_url(config.web.host, config.web.port, url)
            if config.web.enabled or url not in ("", "none")
            else None
        ),
        disk_path=config.capture.folder,
    )
    previous = events.last_capture(photos) if photos is not None else None
    if previous is not None:
        publisher.remember_capture(previous)
    publisher.start()
    return publisher
