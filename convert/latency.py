"""One invoke's latency, as the cards state it: p50 and p95 over many runs after a warm-up."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def latency_ms(invoke: Callable[[], object], runs: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        invoke()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        invoke()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95))}
