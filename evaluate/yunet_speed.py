"""`python -m evaluate.yunet_speed`: the int8 YuNet file against its float graph, same run.

Builds the float TFLite file of the same replayed graph (needs the train extra), then times
`invoke()` of both at the two input sizes the booth runs (the whole 16:9 frame, 640x384,
and a tracked face's square, 128x128) with 1 and 2 threads, alternating the two files
round by round, and prints the medians, their ratio, and each graph's ops (no TRANSPOSE,
QUANTIZE or DEQUANTIZE, no op that reads a shape at run time; DELEGATE: the node XNNPACK
took them into). Compare ratios, not milliseconds, across machines: this one has AVX-512
VNNI, which int8 convolutions gain most from.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from convert.yunet import DEFAULT_ONNX, booth_graph, check_source, float_file
from edge.perception.runtime import make_interpreter

SIZES = ((384, 640), (192, 192), (128, 128))


def _sized(path: Path, height: int, width: int, threads: int) -> Any:
    interpreter = make_interpreter(path, threads)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], [1, height, width, 3], strict=False)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    if detail["dtype"] == np.int8:
        value = rng.integers(-128, 128, (1, height, width, 3)).astype(np.int8)
    else:
        value = rng.uniform(0, 255, (1, height, width, 3)).astype(np.float32)
    interpreter.set_tensor(detail["index"], value)
    for _ in range(5):
        interpreter.invoke()
    return interpreter


def _time(interpreter: Any, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - started)
    return times


def ops(path: Path) -> dict[str, int]:
    """The graph's ops by name (DELEGATE: the node XNNPACK took them into)."""
    interpreter = _sized(path, *SIZES[0], threads=1)
    names = Counter(op["op_name"] for op in interpreter._get_ops_details())
    return dict(sorted(names.items()))


def measure(int8: Path, floating: Path, threads: int, rounds: int, runs: int) -> list[dict]:
    rows = []
    for height, width in SIZES:
        pair = {
            name: _sized(path, height, width, threads)
            for name, path in (("int8", int8), ("float", floating))
        }
        samples: dict[str, list[float]] = {"int8": [], "float": []}
        for _ in range(rounds):
            for name, interpreter in pair.items():
                samples[name] += _time(interpreter, runs)
        medians = {name: 1000 * float(np.median(v)) for name, v in samples.items()}
        rows.append(
            {
                "input": f"{width}x{height}",
                "threads": threads,
                "int8_ms": round(medians["int8"], 3),
                "float_ms": round(medians["float"], 3),
                "float_over_int8": round(medians["float"] / medians["int8"], 2),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluate.yunet_speed", description=__doc__)
    parser.add_argument("--onnx", type=Path, default=DEFAULT_ONNX)
    parser.add_argument("--model", type=Path, default=Path("models/yunet_int8.tflite"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    check_source(args.onnx)
    with tempfile.TemporaryDirectory() as folder:
        floating = Path(folder) / "yunet_float.tflite"
        floating.write_bytes(float_file(booth_graph(args.onnx)[0]))
        rows = [
            row
            for threads in (1, 2)
            for row in measure(args.model, floating, threads, args.rounds, args.runs)
        ]
        graph = {"int8": ops(args.model), "float": ops(floating)}
    if args.json:
        print(json.dumps({"invoke": rows, "ops": graph}, indent=2))
        return 0
    print(f"{'input':>9} {'thr':>3} {'int8 ms':>8} {'float ms':>8} {'float/int8':>10}")
    for r in rows:
        print(
            f"{r['input']:>9} {r['threads']:>3} {r['int8_ms']:>8} {r['float_ms']:>8} "
            f"{r['float_over_int8']:>10}"
        )
    for name, counts in graph.items():
        print(f"{name} graph: " + ", ".join(f"{op} {n}" for op, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
