"""`smilebooth convert`: build the shipped int8 models and their cards.

`convert smile` converts the trained Keras smile model (and writes its float weights,
read back from the int8 file, for fine-tuning); `convert smile-float` writes only those,
from the int8 file in --out-dir; `convert face-detector` rebuilds OpenCV Zoo's YuNet face
detector from its ONNX file and quantizes it; `convert eyes` converts the trained eye-state
model; `convert face-mesh` writes the Face Landmarker's mesh and blendshape models from its
bundle (--bundle; sha256 checked) with their cards; `convert all` does smile, eyes and the
face detector.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "ferplus"
EYES_DATA = DEFAULT_DATA.parent / "eyes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        choices=("smile", "smile-float", "face-detector", "eyes", "face-mesh", "all"),
        help="which model(s) to convert",
    )
    parser.add_argument(
        "--keras",
        type=Path,
        default=Path("build/smile/best.keras"),
        help="trained smile model (from smilebooth train)",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="FER+ folder")
    parser.add_argument(
        "--out-dir", type=Path, default=Path("models"), help="where the .tflite + cards go"
    )
    parser.add_argument("--smoke", action="store_true", help="small slice (tests)")
    parser.add_argument(
        "--flip-average",
        action="store_true",
        help="smile model: average the outputs on the crop and its mirror",
    )
    parser.add_argument(
        "--eyes-keras",
        type=Path,
        default=Path("build/eyes/best.keras"),
        help="trained eye-state model (from smilebooth train eyes)",
    )
    parser.add_argument(
        "--eyes-data", type=Path, default=EYES_DATA, help="eye crops folder (open/, closed/)"
    )
    parser.add_argument(
        "--onnx", type=Path, help="YuNet ONNX file (face detector; default: ../shared/models)"
    )
    parser.add_argument(
        "--bundle", type=Path, help="face_landmarker.task (face-mesh; default ../shared's)"
    )
    parser.add_argument(
        "--int8", action="store_true", help="face-mesh: also the full-int8 mesh (gated)"
    )


def run(args: argparse.Namespace) -> int:
    if args.what in ("smile", "all"):
        from convert.smile import convert_smile

        convert_smile(
            args.keras, args.data, args.out_dir, smoke=args.smoke, flip_average=args.flip_average
        )
    if args.what == "smile-float" or (args.what in ("smile", "all") and not args.smoke):
        from convert.smile_float import write_float_model

        write_float_model(args.out_dir / "smile_int8.tflite", args.out_dir)
    if args.what in ("eyes", "all"):
        from convert.eyes import convert_eyes

        convert_eyes(args.eyes_keras, args.eyes_data, args.out_dir, smoke=args.smoke)
    if args.what in ("face-detector", "all"):
        from convert import yunet

        argv = ["--out-dir", str(args.out_dir)]
        if args.onnx:
            argv += ["--onnx", str(args.onnx)]
        if args.smoke:
            argv.append("--smoke")
        status = yunet.main(argv)
        if status:
            return status
    if args.what == "face-mesh":
        from convert import face_mesh

        argv = ["--out-dir", str(args.out_dir)]
        if args.bundle:
            argv += ["--bundle", str(args.bundle)]
        if args.int8:
            argv.append("--int8")
        return face_mesh.main(argv)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smilebooth convert", description=__doc__)
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    return run(parser.parse_args(argv))
