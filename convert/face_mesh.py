"""`smilebooth convert face-mesh`: the Face Landmarker's mesh and blendshape models from
the official bundle (sha256 checked), each with its card, ready for edge.perception.face_mesh.

The float16 members are written unchanged (`face_mesh_float16.tflite`,
`face_blendshapes_float16.tflite`); the cards pin their digest and the input contract the
edge stage relies on (crop rule, value range, point convention).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import zipfile
from pathlib import Path
from typing import Any

from edge.perception.face_mesh import BLENDSHAPE_NAMES, BLENDSHAPE_POINTS, MEDIAPIPE_SCALE
from edge.perception.model_card import sha256_of, write_card

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT.parent / "shared" / "models" / "face_landmarker" / "face_landmarker.task"
BUNDLE_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MESH_MEMBER = "face_landmarks_detector.tflite"
BLEND_MEMBER = "face_blendshapes.tflite"
MESH_FILE = "face_mesh_float16.tflite"
BLEND_FILE = "face_blendshapes_float16.tflite"
SOURCE = (
    "MediaPipe Face Landmarker bundle face_landmarker.task (float16, v1), Google, "
    "Apache-2.0; models 'Face Mesh V2' and 'BlendShape V2'"
)


class BundleError(ValueError):
    """The file given as the bundle is not the official face_landmarker.task."""


def read_bundle(path: Path) -> dict[str, bytes]:
    """The two members of the official bundle; any other file is refused, by digest."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path}: cannot read the Face Landmarker bundle ({exc})") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != BUNDLE_SHA256:
        raise BundleError(
            f"{path}: sha256 {digest[:12]}... is not the official face_landmarker.task "
            f"(float16 v1, {BUNDLE_SHA256[:12]}...); see ../shared/models/README.md"
        )
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in (MESH_MEMBER, BLEND_MEMBER)}


def mesh_card(path: Path, scale: float = MEDIAPIPE_SCALE, **extra: Any) -> dict[str, Any]:
    return {
        "name": "face mesh (478 points)",
        "file": path.name,
        "sha256": sha256_of(path),
        "size_bytes": path.stat().st_size,
        "source": SOURCE,
        "input": {
            "shape": [1, 256, 256, 3],
            "dtype": "float32",
            "crop_rule": (
                f"square of side {scale} x the face box's longer side, centred on the box, "
                "turned so the line from the person's right eye to the left eye is level; "
                "resized to 256x256 (bilinear, corners at 0 and 256), black outside the "
                "frame; RGB, pixel/255"
            ),
        },
        "outputs": {
            "landmarks": "478 x (x, y, z) in the crop's pixels (0-256)",
            "presence": "face presence logit (sigmoid: 0-1)",
        },
        **extra,
    }


def blend_card(path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "name": "face blendshapes (52 scores)",
        "file": path.name,
        "sha256": sha256_of(path),
        "size_bytes": path.stat().st_size,
        "source": SOURCE,
        "input": {
            "shape": [1, len(BLENDSHAPE_POINTS), 2],
            "dtype": "float32",
            "points": list(BLENDSHAPE_POINTS),
            "coordinates": "the mesh's (x, y) in the image's pixels",
        },
        "labels": list(BLENDSHAPE_NAMES),
        **extra,
    }


def write_float(bundle: Path, out_dir: Path) -> tuple[Path, Path]:
    """The float16 members, unchanged, with their cards."""
    members = read_bundle(bundle)
    out_dir.mkdir(parents=True, exist_ok=True)
    mesh, blend = out_dir / MESH_FILE, out_dir / BLEND_FILE
    mesh.write_bytes(members[MESH_MEMBER])
    blend.write_bytes(members[BLEND_MEMBER])
    write_card(mesh, mesh_card(mesh))
    write_card(blend, blend_card(blend))
    log.info("wrote %s and %s from %s", mesh, blend, bundle)
    return mesh, blend


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    parser.add_argument("--out-dir", type=Path, default=Path("models"))
    parser.add_argument(
        "--int8", action="store_true", help="also the full-int8 mesh, gated per face size"
    )
    args = parser.parse_args(argv)
    try:
        write_float(args.bundle, args.out_dir)
        if args.int8:
            from convert.face_mesh_int8 import convert_int8

            convert_int8(args.bundle, args.out_dir)
    except (BundleError, ValueError) as exc:
        log.error("%s", exc)
        return 1
    return 0
