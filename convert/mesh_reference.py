"""`/work/venv-mp/bin/python -m convert.mesh_reference`: MediaPipe's own Face Landmarker
on a handful of real 256x256 face crops, saved as the reference the mesh stage is checked
against (`tests/data/face_mesh_reference.npz`, output by output: `tests/test_face_mesh.py`).

Runs ONLY in a separate venv with the `mediapipe` wheel (0.10.14), which pulls
opencv-contrib and other packages that would break the project's venv:
`python3 -m venv /work/venv-mp && /work/venv-mp/bin/pip install mediapipe==0.10.14`.

How the crops are aligned: the landmarker in IMAGE mode runs its own short-range face
detector on the image it is given, then cuts its own rotated square (1.5x the detection,
turned so the eye line is level) before the mesh model. Each crop is therefore a square
twice the project detector's box, resized to 256x256, so its short-range detector finds the
face; the same bundle's detector is also run alone (MediaPipe's FaceDetector task on the
bundle's `face_detector.tflite`) and its box and eye keypoints are saved, so the test can
feed the project's crop rule exactly the detection the landmarker used. Landmarks are
saved in the crop's pixels (x, y; the landmarker's z is not used by the blendshapes).
The crops are remade by the test with `make_crop` from the same images (numpy/OpenCV
only here, so both venvs cut the same pixels); a mean pixel per crop is saved to check.
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BUNDLE = SHARED / "models" / "face_landmarker" / "face_landmarker.task"
OUT = ROOT / "tests" / "data" / "face_mesh_reference.npz"
CROP = 256


@dataclass(frozen=True)
class CropSpec:
    """A square of side `side` centred at (cx, cy) of `image` (relative to the project's
    root, `../shared/...` for shared media)."""

    image: str
    cx: float
    cy: float
    side: float


# Twice the project detector's box (models/face_detector_int8.tflite, at the image's size),
# centred on it; faces-eyes images are whole faces: twice the image.
CROPS = (
    CropSpec("samples/astronaut.jpg", 225.6, 123.0, 200.0),
    CropSpec("../shared/media/faces-dlib/2008_002470.jpg", 346.4, 75.5, 106.0),
    CropSpec("../shared/media/faces-dlib/2008_002470.jpg", 300.0, 202.7, 104.0),
    CropSpec("../shared/media/faces-dlib/2008_002470.jpg", 79.0, 178.0, 92.0),
    CropSpec("../shared/media/faces-dlib/2008_001322.jpg", 143.2, 195.2, 157.0),
    CropSpec("../shared/media/faces-dlib/2008_001322.jpg", 402.0, 201.0, 178.0),
    CropSpec("../shared/datasets/faces-eyes/open/face_37.jpg", 100.0, 100.0, 400.0),
    CropSpec("../shared/datasets/faces-eyes/open/face_3700.jpg", 100.0, 100.0, 400.0),
    CropSpec("../shared/datasets/faces-eyes/closed/closed_eye_0002.jpg_face_2.jpg", 50, 50, 200),
    CropSpec("../shared/datasets/faces-eyes/closed/closed_eye_0007.jpg_face_1.jpg", 50, 50, 200),
)


def make_crop(spec: CropSpec, root: Path = ROOT) -> np.ndarray:
    """The spec's square of its image, edges replicated, resized to 256x256 (BGR uint8)."""
    path = root / spec.image
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"cannot read {path}")
    scale = CROP / spec.side
    matrix = np.array(
        [[scale, 0, CROP / 2 - spec.cx * scale], [0, scale, CROP / 2 - spec.cy * scale]]
    )
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    if scale < 1:  # shrink by area first, then place: warpAffine has no area filter
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=flags)
        matrix = np.array(
            [[1.0, 0, CROP / 2 - spec.cx * scale], [0, 1.0, CROP / 2 - spec.cy * scale]]
        )
        image, flags = small, cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (CROP, CROP), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _run(bundle: Path, out: Path) -> None:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(bundle) as archive:
            detector_path = archive.extract("face_detector.tflite", folder)
        landmarker = vision.FaceLandmarker.create_from_options(
            vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(bundle)),
                output_face_blendshapes=True,
                num_faces=1,
            )
        )
        detector = vision.FaceDetector.create_from_options(
            vision.FaceDetectorOptions(base_options=BaseOptions(model_asset_path=detector_path))
        )
        kept, points, blendshapes, boxes, eyes, means = [], [], [], [], [], []
        names: list[str] = []
        for index, spec in enumerate(CROPS):
            crop = make_crop(spec)
            image = mp.Image(
                image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
            )
            found = landmarker.detect(image)
            detections = detector.detect(image).detections
            if not found.face_landmarks or not detections:
                print(f"crop {index} ({spec.image}): no face, left out")
                continue
            mesh = found.face_landmarks[0]
            points.append([[p.x * CROP, p.y * CROP] for p in mesh])
            scores = found.face_blendshapes[0]
            names = [c.category_name for c in scores]
            blendshapes.append([c.score for c in scores])
            best = max(detections, key=lambda d: d.categories[0].score)
            b = best.bounding_box
            boxes.append([b.origin_x, b.origin_y, b.origin_x + b.width, b.origin_y + b.height])
            # MediaPipe's keypoints are normalised; 0 = the person's right eye, 1 = left.
            eyes.append([[k.x * CROP, k.y * CROP] for k in best.keypoints[:2]])
            means.append(float(crop.mean()))
            kept.append(index)
    np.savez_compressed(
        out,
        crop_index=np.array(kept, np.int16),
        crop_mean=np.array(means, np.float32),
        landmarks=np.array(points, np.float16),  # 1/8 px at 256: ample
        blendshapes=np.array(blendshapes, np.float32),
        blendshape_names=np.array(names),
        detector_box=np.array(boxes, np.float32),
        detector_eyes=np.array(eyes, np.float32),
        mediapipe_version=np.array(mp.__version__),
    )
    print(f"{out}: {len(kept)} of {len(CROPS)} crops, mediapipe {mp.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    _run(args.bundle, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
