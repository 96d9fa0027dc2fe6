"""The composition root: the one place that turns an AppConfig into a running FrameLoop.

`smilebooth run`, `smilebooth bench`, the soak and the tests all build their loop here, so
the loop they exercise is wired the same way. Each stage is made from its own config
section; a caller hands in only what it replaces (a scripted pipeline, a timed photo store,
a fake camera, a test's notify socket) and nothing is patched after the loop is built.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from edge.config import AppConfig, config_digest
from edge.decide.control import Controls
from edge.decide.tracking import Tracker
from edge.io.capture import PhotoStore
from edge.io.events import EventBus
from edge.io.notify import Notifier
from edge.io.sources.base import FrameSource
from edge.io.status import StatusReporter
from edge.loop import FrameLoop, FrameProcessor, LoopParts, LoopView


def build_loop(
    config: AppConfig,
    *,
    source: FrameSource | None = None,
    pipeline: FrameProcessor | None = None,
    store: PhotoStore | None = None,
    clock: Callable[[], float] = time.monotonic,
    stop: threading.Event | None = None,
    notifier: Notifier | None = None,
    on_frame: Callable[[], None] | None = None,
    observer: Callable[[LoopView], None] | None = None,
    wait: Callable[[float], bool] | None = None,
) -> FrameLoop:
    """The live loop for `config`; each keyword replaces the part the config would build.

    The bus, the operator controls (seeded from trigger.armed / trigger.threshold) and the
    systemd notifier are always built here: `loop.parts.bus` and `loop.parts.controls` are
    what a publisher subscribes to and commands change.
    """
    if pipeline is None:
        from edge.perception.pipeline import build_pipeline  # loads the models: only when needed

        pipeline = build_pipeline(config, live=True)
    if source is None:
        from edge.io.sources import make_source

        source = make_source(config.source, config.images)
    bus = EventBus()
    parts = LoopParts(
        source=source,
        pipeline=pipeline,
        tracker=Tracker(config.tracking),
        scoring=config.scoring,
        trigger=config.trigger,
        store=store if store is not None else PhotoStore(config.capture),
        bus=bus,
        controls=Controls(
            config.trigger.armed, config.trigger.threshold, config.trigger.rearm_threshold
        ),
        status=StatusReporter(config.status, clock()),
        notifier=notifier if notifier is not None else Notifier(),
        sidecar_extra=sidecar_extra(config, pipeline),
        on_frame=on_frame,
        observer=observer,
        reopen=(config.source.reopen_initial_s, config.source.reopen_max_s),
        wait=wait,
        smiling_threshold=config.smile.smiling_threshold,
    )
    return FrameLoop(parts, stop if stop is not None else threading.Event(), clock)


def sidecar_extra(config: AppConfig, pipeline: Any) -> dict[str, Any]:
    """What every photo's sidecar records about how it was made: the config and models."""
    return {
        "config_digest": config_digest(config),
        "model_sha256": dict(getattr(pipeline, "model_hashes", {})),
    }
