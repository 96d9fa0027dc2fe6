"""The fuzz suites, full size: `python -m tests.reliability.fuzz` (from the repo root).

Three suites, each in a child process of its own so a crash (a signal, a kill for memory)
is counted and its peak RSS (VmHWM) is its own: >= 1,000 image files of every format
(bombs included) through `smilebooth score` and the image-folder source; >= 1,000 configs
through `validate-config`; >= 1,000 raw web requests against a real server, with and
without the token. Printed per suite and in total: cases, crashes, tracebacks, 5xx, peak
RSS. Exit status 0 only for 0, 0, 0 and a peak under 400 MB. `tests/reliability/
test_fuzz_sample.py` runs a bounded sample of each in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import subprocess
import sys
import tempfile
import threading
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.paths import ROOT

RSS_LIMIT_MB = 400
SUITES = {"images": 1200, "configs": 1200, "web": 1500}


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


class TracebackCounter(logging.Handler):
    """Counts log records that carry a traceback (what a user would see as one)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.tracebacks.append(self.format(record)[-1500:])


def run_images(count: int, folder: Path) -> dict[str, Any]:
    """`smilebooth score FOLDER` in this process, then the image-folder source over it."""
    from edge.cli import main
    from edge.config.source import SourceConfig
    from edge.io.sources.images_source import ImageFolderSource
    from tests.reliability.fuzz_images import image_cases

    kinds: Counter[str] = Counter()
    for name, data in image_cases(count):
        (folder / name).write_bytes(data)
        kinds[name.rsplit(".", 1)[1]] += 1
    out, err = io.StringIO(), io.StringIO()
    tracebacks = []
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["score", "--quiet", str(folder)])
        except BaseException:
            tracebacks.append(traceback.format_exc())
            code = -1
    text = err.getvalue()
    tracebacks += ["score stderr"] * text.count("Traceback")
    scored = out.getvalue().count("\n")
    skipped = text.count(": skipped: ")
    none_reasons = text.count("skipped: None")
    source = ImageFolderSource(SourceConfig(type="images", folder=str(folder), fps=0))
    source.open()
    frames = 0
    try:
        while source.read() is not None:
            frames += 1
    except BaseException:
        tracebacks.append(traceback.format_exc())
    return {
        "cases": count,
        "tracebacks": tracebacks,
        "5xx": 0,
        "detail": {
            "exit": code,
            "scored": scored,
            "skipped": skipped,
            "unaccounted": count - scored - skipped,
            "reason None": none_reasons,
            "replayed frames": frames,
            "formats": dict(kinds),
        },
    }


def run_configs(count: int, folder: Path) -> dict[str, Any]:
    """Each config through the real `validate-config` command, in this process; each one it
    passes then through what `run` does before its loop (a config valid for one and not
    the other is counted: `run fails`)."""
    from edge.cli import main
    from tests.reliability.fuzz_configs import config_cases

    codes: Counter[int] = Counter()
    tracebacks, run_fails = [], []
    for name, data in config_cases(count, folder):
        path = folder / name
        path.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = main(["validate-config", str(path)])
                codes[code] += 1
                if code == 0 and (problem := run_startup_problem(path)):
                    run_fails.append(f"{name}: {problem}")
            except BaseException:
                tracebacks.append(f"{name}: {traceback.format_exc()}")
        if "Traceback" in err.getvalue():
            tracebacks.append(f"{name}: {err.getvalue()[-1500:]}")
    detail = {"exit codes": codes, "run fails": len(run_fails), "run failures": run_fails[:5]}
    return {"cases": count, "tracebacks": tracebacks, "5xx": 0, "detail": detail}


def run_startup_problem(path: Path) -> str | None:
    """What `run` does before its loop, short of serving and connecting: load, models,
    secrets, a file or folder source opened. The exception's text, or None."""
    from edge.config import load_config
    from edge.io.secrets import read_password, read_token
    from edge.io.sources import make_source
    from edge.perception.pipeline import build_pipeline

    try:
        config = load_config(path)
        build_pipeline(config, live=True)
        if config.mqtt.enabled:
            read_password(config.mqtt)
        if config.web.enabled:
            read_token(config.web)
        source = make_source(config.source, config.images)
        if not source.live:
            source.open()
            source.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def run_web(count: int, folder: Path) -> dict[str, Any]:
    """A real server (uvicorn, a token, the loop's controls and live view joined) over a
    real capture folder, with `web.protect_viewing` on for half the requests and off for
    the other half; raw requests from four clients at once."""
    from tests.web.conftest import save_photos

    photos = save_photos(folder, 5)
    statuses: Counter[str] = Counter()
    tracebacks: list[str] = []
    routes: list[tuple[str, list[str]]] = []
    for protect, share, seed in ((True, count - count // 2, 30), (False, count // 2, 31)):
        found, routes = _fuzz_server(folder, photos, protect, share, seed, statuses)
        tracebacks += found
    fives = sum(n for s, n in statuses.items() if s.isdigit() and int(s) >= 500)
    return {
        "cases": count,
        "tracebacks": tracebacks,
        "5xx": fives,
        "detail": {"statuses": dict(sorted(statuses.items())), "routes": routes},
    }


def _fuzz_server(
    folder: Path, photos: list[str], protect: bool, count: int, seed: int, statuses: Counter[str]
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """One server, `count` requests; (tracebacks logged, the routes fuzzed)."""
    from edge.cli.run import now_board
    from edge.config import default_config
    from edge.decide.control import Controls
    from edge.web.auth import Guard
    from edge.web.cli import build_web_app
    from edge.web.server import LoopLink, WebServer
    from tests.reliability.fuzz_web import send, web_cases
    from tests.web.conftest import TOKEN

    config = default_config()
    config = dataclasses.replace(
        config,
        capture=dataclasses.replace(config.capture, folder=str(folder)),
        web=dataclasses.replace(config.web, port=0, enabled=True, protect_viewing=protect),
    )
    board = now_board(config)
    app = build_web_app(
        config, {"SMILEBOOTH_WEB_TOKEN": TOKEN}, LoopLink(board, Controls(True, 0.7))
    )
    routes = sorted(
        (route.path, sorted(route.methods or {"GET"}))
        for route in app.routes
        if hasattr(route, "path") and hasattr(route, "methods")
    )
    server = WebServer(app, config.web)  # configures uvicorn's loggers: count after it
    counter = TracebackCounter()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn")]  # uvicorn: no propagation
    for logger in loggers:
        logger.addHandler(counter)
    server.start()
    port = server.wait_started()
    cookie = "smilebooth_view=" + Guard(TOKEN, True).view_cookie()
    lock = threading.Lock()

    def one(request: Any) -> None:
        try:
            status: int | str | None = send(port, request)
        except OSError as exc:
            status = f"client {type(exc).__name__}"
        with lock:
            statuses[str(status)] += 1

    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, web_cases(count, routes, photos, TOKEN, cookie, seed)))
    finally:
        server.stop()
        board.live.close()
        for logger in loggers:
            logger.removeHandler(counter)
    return counter.tracebacks, routes


RUNNERS = {"images": run_images, "configs": run_configs, "web": run_web}


def child(suite: str, count: int) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{suite}-") as folder:
        result = RUNNERS[suite](count, Path(folder))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print("RESULT " + json.dumps(result, default=str))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for suite, default in SUITES.items():
        parser.add_argument(f"--{suite}", type=int, default=default, help=f"cases ({default})")
    parser.add_argument("--child", nargs=2, metavar=("SUITE", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="print each suite's details")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    totals = Counter[str]()
    peak = 0.0
    for suite in SUITES:
        count = getattr(args, suite)
        if count <= 0:
            continue
        done = subprocess.run(
            [sys.executable, "-m", "tests.reliability.fuzz", "--child", suite, str(count)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            errors="replace",
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        crashed = done.returncode != 0 or not lines
        result = json.loads(lines[-1][7:]) if lines else {"cases": count, "tracebacks": []}
        tracebacks = result["tracebacks"]
        fives, rss = result.get("5xx", 0), result.get("peak_rss_mb", 0.0)
        print(
            f"{suite:8} cases {result['cases']:5}  crashes {int(crashed)}  tracebacks "
            f"{len(tracebacks)}  5xx {fives}  peak RSS {rss:.0f} MB"
        )
        if args.verbose or crashed or tracebacks:
            print(f"  details: {json.dumps(result.get('detail'), default=str)}")
            for text in tracebacks[:3]:
                print("  " + text.replace("\n", "\n  "))
        if crashed:
            print(f"  exit {done.returncode}: {done.stderr[-2000:]}")
        totals["cases"] += result["cases"]
        totals["crashes"] += int(crashed)
        totals["tracebacks"] += len(tracebacks)
        totals["5xx"] += fives
        peak = max(peak, rss)
    print(
        f"{'total':8} cases {totals['cases']:5}  crashes {totals['crashes']}  tracebacks "
        f"{totals['tracebacks']}  5xx {totals['5xx']}  peak RSS {peak:.0f} MB "
        f"(limit {RSS_LIMIT_MB} MB)"
    )
    bad = totals["crashes"] or totals["tracebacks"] or totals["5xx"] or peak >= RSS_LIMIT_MB
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
