"""SIGTERM and SIGINT -> one stop event, for every command that runs until stopped
(`run`, `web`): its own module so that neither command imports the other for it."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

log = logging.getLogger(__name__)


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, _frame: Any) -> None:
        log.info("%s: stopping after this frame", signal.Signals(signum).name)
        stop.set()
        # A second signal ends the process at once; atomic writes still leave no half photo.
        signal.signal(signum, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
