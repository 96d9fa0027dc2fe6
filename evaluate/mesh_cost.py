"""`python -m evaluate.mesh_cost [MESH.tflite ...]`: the face mesh's cost per face, crop +
mesh model + blendshapes, p50 / p95 over repeated reads of a real face (the astronaut).

Prints one line per mesh file (default: the shipped float16 one, and the int8 one where
`convert face-mesh --int8` left it), 1 thread unless --threads. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from edge.perception.face_mesh import FaceMesh, mesh_roi
from edge.perception.model_card import ModelCardError
from edge.perception.runtime import runtime_name
from edge.types import Box

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
BLEND = MODELS / "face_blendshapes_float16.tflite"


def cost(mesh_path: Path, threads: int, reads: int) -> dict[str, float]:
    mesh = FaceMesh(mesh_path, BLEND, threads=threads)
    image = cv2.imread(str(ROOT / "samples" / "astronaut.jpg"))
    roi = mesh_roi(Box(175.6, 72.8, 275.5, 173.1), (197.5, 97.2), (243.1, 100.6), mesh.scale)
    stages: dict[str, list[float]] = {"crop": [], "blendshapes": [], "total": []}
    for _ in range(reads + 5):
        t0 = time.perf_counter()
        mesh.crop(image, roi)
        t1 = time.perf_counter()
        result = mesh.read_roi(image, roi)  # crop + mesh + blendshapes
        t2 = time.perf_counter()
        mesh.blendshapes(result.points)
        t3 = time.perf_counter()
        for name, ms in zip(stages, (t1 - t0, t3 - t2, t2 - t1), strict=True):
            stages[name].append(ms * 1000)
    return {
        f"{name}_{q}": round(float(np.percentile(values[5:], p)), 2)
        for name, values in stages.items()
        for q, p in (("p50", 50), ("p95", 95))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("meshes", nargs="*", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reads", type=int, default=100)
    args = parser.parse_args(argv)
    meshes = args.meshes or [
        p
        for p in (MODELS / "face_mesh_float16.tflite", MODELS / "face_mesh_int8.tflite")
        if p.exists()
    ]
    print(f"runtime {runtime_name()}, {args.threads} thread(s), ms per face:")
    for path in meshes:
        try:
            print(path.name, cost(path, args.threads, args.reads))
        except (ModelCardError, FileNotFoundError) as exc:
            print(f"{path}: {exc}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
