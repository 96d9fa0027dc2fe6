"""`python -m evaluate.mesh_eyes_eval`: eye state from the face mesh against the shipped eye
CNN, on whole faces pasted into 640x480 frames as a booth sees them.

../shared/datasets/faces-eyes (596 closed-eye CEW faces, 1,500 open-eye UTKFace faces) is
split in two by a hash of each file's name: Valid (thresholds are chosen there) and Test
(held back, the figures that count). The eye CNN trains on the eyes of half the Valid faces
(`is_eye_training`), so Valid figures are printed for the other half only. Each face is
pasted at 32, 48 and 72 px high into a 640x480 frame (a textured grey background, at a
position drawn from the file's hash) and at booth distance (face = 40 % of the frame's
height, 192 px); the project's detector
finds it on the frame, then both readers read the same detection: the CNN on eye crops
(edge.perception.eyes) and the mesh's blendshapes (edge.perception.eye_state).

A face reads "closed" when its eyes_open is 0 (both eyes closed: what holds the shutter).
Printed per size: faces found, open read open, closed read open, balanced accuracy
((open read open + closed read closed) / 2) with its 95 % bootstrap interval (a few
hundred closed faces per half: a point and a half either way). Readings are cached in
build/ so a new rule is scored in seconds (--refresh to re-read).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.config.perception import DetectorConfig, EyesConfig
from edge.perception.eye_crop import crop_eyes
from edge.perception.eye_state import DEFAULT_RULE, EyeRule, count_open_eyes, eye_openness
from edge.perception.eyes import EyeStateModel
from edge.perception.face_detector import FaceDetector
from edge.perception.face_mesh import FaceMesh, blendshape
from edge.perception.model_card import sha256_of
from edge.types import Box, Face
from evaluate.faces_eyes_split import is_eye_training, is_test, name_hash

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "faces-eyes"
CACHE = ROOT / "build" / "mesh_eyes_eval.npz"
MODELS = ROOT / "models"
EYES_MODEL = MODELS / "eyes_int8.tflite"
FRAME = (640, 480)
SIZES = {"32 px": 32, "48 px": 48, "72 px": 72, "booth (192 px)": 192}
EYE_SCORES = ("eyeBlinkRight", "eyeBlinkLeft", "eyeSquintRight", "eyeSquintLeft")


def faces(data: Path = DATA) -> list[tuple[Path, bool]]:
    """(image, eyes open) of every face, in a fixed order."""
    found = [(p, label == "open") for label in ("open", "closed") for p in (data / label).glob("*")]
    found = [(p, is_open) for p, is_open in found if p.suffix.lower() in (".jpg", ".png")]
    if not found:
        raise FileNotFoundError(f"{data}: no open/ or closed/ images")
    return sorted(found)


def background(seed: int = 0) -> np.ndarray:
    """A textured grey frame (a flat one would make the detector's job artificially easy)."""
    noise = np.random.default_rng(seed).normal(120, 40, (FRAME[1] // 8, FRAME[0] // 8, 3))
    small = np.clip(noise, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, FRAME, interpolation=cv2.INTER_LINEAR), (9, 9), 0)


def paste(face: np.ndarray, size: int, path: Path, base: np.ndarray) -> tuple[np.ndarray, Box]:
    """The face resized to `size` px high in a copy of `base`, where the file's hash says."""
    height, width = face.shape[:2]
    w = max(1, round(width * size / height))
    small = cv2.resize(face, (w, size), interpolation=cv2.INTER_AREA)
    h = name_hash(path)
    x = 40 + h % max(1, FRAME[0] - w - 80)
    y = 40 + (h // 7919) % max(1, FRAME[1] - size - 80)
    frame = base.copy()
    frame[y : y + size, x : x + w] = small
    return frame, Box(x, y, x + w, y + size)


def pasted_face(detector: FaceDetector, frame: np.ndarray, truth: Box) -> Face | None:
    """The detection of the face pasted at `truth` (the best overlap, IoU over 0.3)."""
    found = [f for f in detector.detect(frame) if f.box.iou(truth) > 0.3]
    return max(found, key=lambda f: f.box.iou(truth), default=None)


def read_all(
    data: Path = DATA, scale: float = EyesConfig().mesh_scale, eyes_model: Path = EYES_MODEL
) -> dict[str, np.ndarray]:
    """Every face at every size: found?, the CNN's P(open) pair, the mesh's eye scores
    (the mesh's square `scale` x the detector's box)."""
    detector = FaceDetector(DetectorConfig(), root=ROOT)
    cnn = EyeStateModel(eyes_model)
    mesh = FaceMesh(
        MODELS / "face_mesh_float16.tflite",
        MODELS / "face_blendshapes_float16.tflite",
        scale=scale,
    )
    base = background()
    items = faces(data)
    shape = (len(items), len(SIZES))
    found = np.zeros(shape, bool)
    cnn_open = np.full((*shape, 2), np.nan, np.float32)
    scores = np.full((*shape, len(EYE_SCORES)), np.nan, np.float32)
    presence = np.full(shape, np.nan, np.float32)
    gaps = np.full((*shape, 2), np.nan, np.float32)
    heights = np.full(shape, np.nan, np.float32)
    for i, (path, _) in enumerate(items):
        image = cv2.imread(str(path))
        if image is None:
            raise ValueError(f"{path}: cannot be read as an image")
        for j, size in enumerate(SIZES.values()):
            frame, truth = paste(image, size, path, base)
            face = pasted_face(detector, frame, truth)
            if face is None or face.keypoints is None:
                continue
            found[i, j] = True
            heights[i, j] = face.box.height
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            if crop_eyes(gray, face, out=cnn.pixels) is not None:
                cnn_open[i, j] = cnn.read_pixels()
            k = face.keypoints
            assert k is not None
            result = mesh.read(frame, face.box, k.right_eye, k.left_eye)
            scores[i, j] = [blendshape(result, n) for n in EYE_SCORES]
            presence[i, j] = result.presence
            gaps[i, j] = lid_gaps(result.points)
        if i % 200 == 0:
            print(f"{i}/{len(items)}", flush=True)
    return {
        "names": np.array([p.name for p, _ in items]),
        "open": np.array([o for _, o in items]),
        "test": np.array([is_test(p) for p, _ in items]),
        "eye_training": np.array([is_eye_training(p) for p, _ in items]),
        "found": found,
        "cnn_open": cnn_open,
        "scores": scores,
        "presence": presence,
        "gaps": gaps,
        "heights": heights,
    }


def lid_gaps(points: np.ndarray) -> tuple[float, float]:
    """Lid gap / eye width of the mesh's two eyes (points 159/145 over 33/133, and
    386/374 over 362/263): to check which blendshape belongs to which eye."""

    def gap(top: int, bottom: int, a: int, b: int) -> float:
        width = np.linalg.norm(points[a] - points[b])
        return float(np.linalg.norm(points[top] - points[bottom]) / max(width, 1e-6))

    return gap(159, 145, 33, 133), gap(386, 374, 362, 263)


def figures(eyes_open: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """eyes_open (0-2) of found faces against their labels: the share of each kind."""
    read_open = eyes_open > 0
    open_open = float(read_open[truth].mean()) if truth.any() else float("nan")
    closed_open = float(read_open[~truth].mean()) if (~truth).any() else float("nan")
    return {
        "open_read_open": open_open,
        "closed_read_open": closed_open,
        "balanced": (open_open + 1 - closed_open) / 2,
        "both_open_read_both": float((eyes_open[truth] == 2).mean()) if truth.any() else 0.0,
    }


def balanced_interval(
    eyes_open: np.ndarray, truth: np.ndarray, draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """The 95 % bootstrap interval of the balanced accuracy (open and closed faces each
    redrawn with replacement): how far the figure could move on another sample of faces
    of the same kinds (at 72 px on Test, about +-1.5 points)."""
    read_open = eyes_open > 0
    opened, closed = read_open[truth], read_open[~truth]
    if not len(opened) or not len(closed):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    open_share = opened[rng.integers(0, len(opened), (draws, len(opened)))].mean(axis=1)
    closed_share = closed[rng.integers(0, len(closed), (draws, len(closed)))].mean(axis=1)
    balanced = (open_share + 1 - closed_share) / 2
    low, high = np.percentile(balanced, [2.5, 97.5])
    return float(low), float(high)


def cnn_eyes_open(cnn_open: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    return np.nan_to_num(cnn_open, nan=0.0).__gt__(threshold).sum(axis=-1)


def mesh_eyes_open(scores: np.ndarray, heights: np.ndarray, rule: EyeRule) -> np.ndarray:
    """eyes_open per face from the cached (blinkR, blinkL, squintR, squintL) scores and
    detected face heights, by the rule the edge app applies (edge.perception.eye_state)."""
    out = np.zeros(scores.shape[:-1], np.int64)
    counts, flat, sizes = out.reshape(-1), scores.reshape(-1, 4), heights.reshape(-1)
    for n, (br, bl, sr, sl) in enumerate(flat):
        if not np.isnan(br):
            openness = eye_openness(br, bl, sr, sl, rule)
            counts[n] = count_open_eyes(openness, rule.threshold(float(sizes[n])))
    return out


def part_mask(readings: dict[str, np.ndarray], part: str) -> np.ndarray:
    """test: the held-back half; valid half: the other; valid: the valid half less the
    faces whose eyes the eye CNN trained on (so its figures there are not flattered)."""
    if part == "test":
        return readings["test"]
    if part == "valid half":
        return ~readings["test"]
    if part == "valid":
        return ~readings["test"] & ~readings["eye_training"]
    raise ValueError(f"part: {part!r} (expected test, valid or valid half)")


def screened_eyes_open(
    cnn_open: np.ndarray, mesh: np.ndarray, sure_open: float = EyesConfig().sure_open
) -> tuple[np.ndarray, np.ndarray]:
    """(eyes_open, sure) of eyes.reader cnn+mesh (edge.perception.screened_eyes): the CNN
    where it reads two open eyes, one sure; else the mesh's count, unless it reads closed a
    face with an eye the CNN is sure of."""
    cnn = cnn_eyes_open(cnn_open)
    sure_eye = np.nan_to_num(cnn_open, nan=0.0).max(axis=-1) >= sure_open
    sure = sure_eye & (cnn == 2)
    return np.where(sure | (sure_eye & (mesh == 0)), cnn, mesh), sure


def report(
    readings: dict[str, np.ndarray],
    rule: EyeRule,
    part: str,
    sure_open: float = EyesConfig().sure_open,
    intervals: bool = False,
) -> dict[str, Any]:
    """Per size: each reader's figures on the found faces of `part` (with `intervals`, the
    balanced accuracy's 95 % bootstrap interval too), and the share of faces the cnn+mesh
    reader hands to the mesh."""
    keep = part_mask(readings, part)
    truth_all = readings["open"][keep]
    mesh = mesh_eyes_open(readings["scores"][keep], readings["heights"][keep], rule)
    cnn = cnn_eyes_open(readings["cnn_open"][keep])
    screened, sure = screened_eyes_open(readings["cnn_open"][keep], mesh, sure_open)
    result: dict[str, Any] = {}
    for j, name in enumerate(SIZES):
        found = readings["found"][keep][:, j]
        truth = truth_all[found]
        readers = {"mesh": mesh, "cnn": cnn, "cnn+mesh": screened}
        result[name] = {"faces": int(keep.sum()), "found": int(found.sum())}
        for reader, eyes in readers.items():
            result[name][reader] = figures(eyes[found, j], truth)
            if intervals:
                result[name][reader]["interval"] = balanced_interval(eyes[found, j], truth)
        result[name]["mesh_share"] = float((~sure[found, j]).mean())
    return result


# A false "closed" holds the shutter on a good frame; a missed blink is caught by the next
# frames of the burst. So open faces come first: at least this share of them read open.
OPEN_FLOOR = 0.975


def choose_rule(readings: dict[str, np.ndarray], reader: str = "mesh") -> EyeRule:
    """On Valid, for `reader` (mesh: the mesh on every face, on the whole Valid half;
    cnn+mesh: the mesh behind the CNN, on the Valid faces the CNN did not train on): for
    each squint allowance, each size's threshold with the best balanced accuracy among
    those that read at least OPEN_FLOOR of the open faces open (at the size's median
    detected height); then the allowance with the best mean balanced accuracy over the
    sizes."""
    part = "valid half" if reader == "mesh" else "valid"
    valid = part_mask(readings, part)
    best: tuple[float, EyeRule] | None = None
    for squint in (0.0, 0.1, 0.2, 0.3, 0.5):
        pairs = []
        for j in range(len(SIZES)):
            found = readings["found"][:, j] & valid
            height = float(np.median(readings["heights"][found, j]))
            scores = readings["scores"][found, j]
            cnn_open = readings["cnn_open"][found, j]
            truth = readings["open"][found]

            def value(
                threshold: float,
                scores: np.ndarray = scores,
                cnn_open: np.ndarray = cnn_open,
                truth: np.ndarray = truth,
                squint: float = squint,
            ) -> tuple[bool, float]:
                rule = EyeRule(((1.0, threshold),), squint)
                eyes = mesh_eyes_open(scores[:, None], np.ones((len(scores), 1)), rule)[:, 0]
                if reader == "cnn+mesh":
                    eyes = screened_eyes_open(cnn_open, eyes)[0]
                f = figures(eyes, truth)
                return f["open_read_open"] >= OPEN_FLOOR, f["balanced"]

            grid = [round(float(t), 3) for t in np.arange(0.4, 0.95, 0.02)]
            pairs.append((round(height, 1), max(grid, key=value)))
        rule = EyeRule(tuple(pairs), squint)
        figures_by_size = report(readings, rule, part).values()
        score = float(np.mean([r[reader]["balanced"] for r in figures_by_size]))
        if best is None or score > best[0]:
            best = (score, rule)
    assert best is not None
    return best[1]


def print_report(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}")
    print(
        "size            found   reader     open read open  closed read open  balanced"
        "  (95 % interval)  open read both open"
    )
    for size, row in result.items():
        for reader in ("mesh", "cnn", "cnn+mesh"):
            f = row[reader]
            low, high = f.get("interval", (float("nan"), float("nan")))
            print(
                f"{size:15} {row['found']:4}/{row['faces']:<4} {reader:8} "
                f"{f['open_read_open']:14.1%} {f['closed_read_open']:17.1%} {f['balanced']:9.1%}"
                f"  ({low:5.1%}-{high:5.1%}) {f['both_open_read_both']:19.1%}"
            )
        print(f"{'':15} cnn+mesh hands {row['mesh_share']:.1%} of the faces to the mesh")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--refresh", action="store_true", help="re-read every face")
    parser.add_argument(
        "--choose",
        nargs="?",
        const="mesh",
        choices=("mesh", "cnn+mesh"),
        help="choose the rule on Valid for this reader (default mesh: the shipped rule's way)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--scale",
        type=float,
        default=EyesConfig().mesh_scale,
        help="the mesh's square in detector box sides (default: eyes.mesh_scale's)",
    )
    parser.add_argument(
        "--eyes-model", type=Path, default=EYES_MODEL, help="the eye CNN (.tflite) to read with"
    )
    args = parser.parse_args(argv)
    model = sha256_of(args.eyes_model)[:8]
    cache = CACHE.with_name(f"{CACHE.stem}_{args.scale:g}_{model}.npz")
    if args.refresh or not cache.exists():
        cache.parent.mkdir(exist_ok=True)
        np.savez_compressed(cache, **read_all(args.data, args.scale, args.eyes_model))
    with np.load(cache) as cached:
        readings = {k: cached[k] for k in cached.files}
    rule = choose_rule(readings, args.choose) if args.choose else DEFAULT_RULE
    print(f"rule: {rule} (CNN: P(open) > 0.5)")
    valid = report(readings, rule, "valid", intervals=True)
    test = report(readings, rule, "test", intervals=True)
    print_report("Valid (rules chosen here; not the eye CNN's training faces)", valid)
    print_report("Test (held back)", test)
    if args.json:
        args.json.write_text(json.dumps({"rule": str(rule), "valid": valid, "test": test}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
