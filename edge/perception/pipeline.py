"""The per-image pipeline: frame -> faces -> per-face scores -> group score.

Builds each model once; process() is called per frame and does no I/O, so the same code
serves `smilebooth score` on photos, the live loop and the benchmark.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from edge.config.decide import ScoringConfig
from edge.config.perception import DetectorConfig, EyesConfig, SmileConfig
from edge.decide.scoring import score_face, score_group
from edge.perception.crop import CROP_SIZE, crop_face, crop_face_in_detail, to_gray
from edge.perception.eye_schedule import EyeSchedule
from edge.perception.eye_state import MeshEyeReader
from edge.perception.eyes import EyeReader, EyeStateModel, count_open
from edge.perception.mesh_memory import MeshMemory
from edge.perception.screened_eyes import ScreenedEyeReader
from edge.perception.smile_model import SmileModel
from edge.perception.smile_schedule import SmileSchedule
from edge.types import Box, Detail, Face, FaceScore, FrameResult, MeshResult, SmileResult

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # edge/perception/ -> the project


class FaceFinder(Protocol):
    def detect(self, frame_bgr: np.ndarray) -> tuple[Face, ...]: ...


class EyeStateReader(Protocol):
    def read(
        self, gray: np.ndarray, face: Face, detail: Detail | None = None
    ) -> tuple[float, float] | None: ...


def resolve_model_path(path: str | Path) -> Path:
    """Absolute paths as given; relative ones from the working directory, else the project."""
    candidate = Path(path)
    try:
        if candidate.is_absolute() or candidate.exists():
            return candidate
    except OSError:  # a name too long to look up: the loader names the problem
        return candidate
    return PROJECT_ROOT / candidate


@dataclass(frozen=True)
class PipelineParts:
    """The built stages, and the sections whose thresholds the pipeline applies itself."""

    detector: FaceFinder | None
    smile: SmileModel
    eyes: EyeStateReader | MeshEyeReader | ScreenedEyeReader | None
    scoring: ScoringConfig
    detector_config: DetectorConfig = field(default_factory=DetectorConfig)  # min_face_px
    smile_config: SmileConfig = field(default_factory=SmileConfig)  # smiling_threshold
    eyes_config: EyesConfig = field(default_factory=EyesConfig)  # open_threshold


class Pipeline:
    """Runs the models on one frame and returns a FrameResult with per-stage timings."""

    def __init__(
        self,
        parts: PipelineParts,
        smiles: SmileSchedule | None = None,
        eye_schedule: EyeSchedule | None = None,
    ) -> None:
        """`smiles`, `eye_schedule`: the live loop's schedules (None: every face read on
        every image)."""
        self.parts = parts
        self.smiles = smiles
        self.eye_schedule = eye_schedule

    @property
    def model_hashes(self) -> dict[str, str]:
        hashes = {"smile": self.parts.smile.card.get("sha256", "")}
        eyes_card = getattr(getattr(self.parts.eyes, "model", None), "card", None)
        if isinstance(eyes_card, dict):
            hashes["eyes"] = eyes_card.get("sha256", "")
        if isinstance(self.parts.eyes, ScreenedEyeReader):
            hashes["eyes"] = self.parts.eyes.cnn.model.card.get("sha256", "")
        mesh_reader = mesh_reader_of(self.parts.eyes)
        if mesh_reader is not None:
            for name, card in mesh_reader.mesh.cards.items():
                hashes[name] = card.get("sha256", "")
        detector = getattr(self.parts.detector, "detector", self.parts.detector)
        for name, card in getattr(detector, "cards", {}).items():
            hashes[name] = card.get("sha256", "")
        return hashes

    def process(self, frame_bgr: np.ndarray, detail: Detail | None = None) -> FrameResult:
        """`detail`: the same frame at full resolution, where small faces' eyes are cut."""
        if self.parts.detector is None:
            raise RuntimeError("this pipeline has no face detector: use process_crop()")
        started = time.perf_counter()
        faces = tuple(
            face
            for face in self.parts.detector.detect(frame_bgr)
            if max(face.box.width, face.box.height) >= self.parts.detector_config.min_face_px
        )
        detected = time.perf_counter()
        timings = {"detect": (detected - started) * 1000}
        return self._score(frame_bgr, faces, timings, detail=detail)

    def with_meshes(self, frame_bgr: np.ndarray, result: FrameResult) -> FrameResult:
        """`result` with every face's mesh (`smilebooth score --mesh`): read here for the
        faces whose eye reading did not need it (cnn+mesh reads the mesh only where the CNN
        hesitates); eye states are left as read. Unchanged without a mesh reader."""
        reader = mesh_reader_of(self.parts.eyes)
        if reader is None:
            return result
        colour = frame_bgr if frame_bgr.ndim == 3 else cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
        faces = []
        for face in result.faces:
            read = None if face.mesh is not None else reader.read_frame(colour, face.face)
            faces.append(face if read is None else dataclasses.replace(face, mesh=read[2]))
        return dataclasses.replace(result, faces=tuple(faces))

    def process_crop(self, crop_bgr: np.ndarray) -> FrameResult:
        """Treat the whole image as one already-cut face (for crop datasets such as FER)."""
        height, width = crop_bgr.shape[:2]
        side = max(width, height) / 1.0
        box = Box(
            width / 2 - side / 2, height / 2 - side / 2, width / 2 + side / 2, height / 2 + side / 2
        )
        return self._score(crop_bgr, (Face(box=box, score=1.0),), {"detect": 0.0}, whole=True)

    def _score(
        self,
        frame: np.ndarray,
        faces: tuple[Face, ...],
        timings: dict[str, float],
        whole: bool = False,
        detail: Detail | None = None,
    ) -> FrameResult:
        gray = to_gray(frame)
        started = time.perf_counter()
        memory = getattr(self.parts.eyes, "memory", None)
        if memory is not None:
            memory.next_frame()

        def read_smile(index: int) -> SmileResult:
            box = faces[index].box
            crop = None if detail is None or whole else crop_face_in_detail(detail, box)
            if crop is None:
                crop = _whole_crop(gray) if whole else crop_face(gray, box)
            return self.parts.smile.predict(crop)

        boxes = [face.box for face in faces]
        smiles = (
            self.smiles.smiles(boxes, read_smile)
            if self.smiles is not None
            else [read_smile(i) for i in range(len(faces))]
        )
        smiled = time.perf_counter()

        def read_eyes(index: int) -> tuple[int, tuple[float, float] | None, MeshResult | None]:
            return self._eyes(gray, faces[index], detail, frame)

        readings = (
            self.eye_schedule.eyes(boxes, read_eyes)
            if self.eye_schedule is not None
            else [read_eyes(i) for i in range(len(faces))]
        )
        scores: list[FaceScore] = []
        for face, smile, reading in zip(faces, smiles, readings, strict=True):
            eyes_open, probabilities, mesh = reading
            scored = score_face(
                face,
                smile,
                eyes_open,
                self.parts.scoring,
                self.parts.smile_config.smiling_threshold,
                probabilities,
            )
            scores.append(scored if mesh is None else dataclasses.replace(scored, mesh=mesh))
        smile_ms = (smiled - started) * 1000
        eyes_ms = (time.perf_counter() - smiled) * 1000
        started = time.perf_counter()
        group = score_group(scores, self.parts.scoring)
        timings.update(smile=smile_ms, eyes=eyes_ms, score=(time.perf_counter() - started) * 1000)
        height, width = frame.shape[:2]
        return FrameResult(tuple(scores), group, width, height, timings)

    def _eyes(
        self, gray: np.ndarray, face: Face, detail: Detail | None, frame: np.ndarray
    ) -> tuple[int, tuple[float, float] | None, MeshResult | None]:
        """(open eyes, P(open) of each eye (the mesh's: P(open)-like, eye_state.open_values)
        or None when not read, the face mesh when eyes are read from it)."""
        eyes = self.parts.eyes
        if eyes is None:
            return 2, None, None  # eye reading off: eyes count as open, so it never blocks
        if isinstance(eyes, MeshEyeReader | ScreenedEyeReader):
            colour = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            fresh = self.eye_schedule is None or self.eye_schedule.urgent
            read = (
                eyes.read_frame(colour, face, detail)
                if isinstance(eyes, MeshEyeReader)
                else eyes.read_frame(colour, gray, face, detail, fresh)
            )
            return (0, None, None) if read is None else read
        probabilities = eyes.read(gray, face, detail)
        threshold = self.parts.eyes_config.open_threshold
        return count_open(probabilities, threshold), probabilities, None


def _whole_crop(gray: np.ndarray) -> np.ndarray:
    """A whole image that is already one face crop, at the model's size."""
    return cv2.resize(gray, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)


def build_face_detector(config: DetectorConfig) -> Any:
    """The detection stage, model paths resolved as every model's are."""
    from edge.perception.face_detector import FaceDetector

    return FaceDetector(dataclasses.replace(config, model=str(resolve_model_path(config.model))))


def build_smile_model(config: SmileConfig) -> SmileModel:
    """The smile stage from its section (the model checked against its card)."""
    return SmileModel(resolve_model_path(config.model), threads=config.threads)


def mesh_reader_of(eyes: object) -> MeshEyeReader | None:
    """The face-mesh reader of an eye stage: itself (reader mesh), the screened reader's
    second reader (cnn+mesh), or None (cnn, or eyes off)."""
    if isinstance(eyes, ScreenedEyeReader):
        return eyes.mesh
    return eyes if isinstance(eyes, MeshEyeReader) else None


def build_eye_reader(config: EyesConfig) -> EyeReader | MeshEyeReader | ScreenedEyeReader | None:
    """The eye stage from its section; None when eye reading is off."""
    if not config.enabled:
        return None
    if config.reader == "cnn":
        return _eye_cnn(config)
    from edge.perception.face_mesh import FaceMesh

    mesh = MeshEyeReader(
        FaceMesh(
            resolve_model_path(config.mesh_model),
            resolve_model_path(config.blendshape_model),
            threads=config.threads,
            scale=config.mesh_scale,
        )
    )
    if config.reader == "mesh":
        return mesh
    return ScreenedEyeReader(_eye_cnn(config), mesh, config.sure_open, config.open_threshold)


def _eye_cnn(config: EyesConfig) -> EyeReader:
    return EyeReader(EyeStateModel(resolve_model_path(config.model), threads=config.threads))


def build_pipeline_from_sections(
    detector: DetectorConfig,
    smile: SmileConfig,
    eyes: EyesConfig,
    scoring: ScoringConfig,
    with_detector: bool = True,
    live: bool = False,
) -> Pipeline:
    """Build every model once, from config sections (each stage gets only its part).

    `live`: the camera loop's detector (cheap on tracked faces, a search every
    `detector.thorough_every` frames) and smile schedule (`smile.every`); else (photos)
    every image gets the thorough pass and every face a reading."""
    from edge.perception.detection_schedule import ScheduledDetector

    # OpenCV's own pool (resize, colour conversion, warps) follows the models' thread count
    # instead of taking every core: on a shared board its threads only wait on each other.
    cv2.setNumThreads(max(detector.threads, smile.threads, eyes.threads))
    face_finder: Any = None
    if with_detector:
        face_finder = build_face_detector(detector)
        if live:
            face_finder = ScheduledDetector(
                face_finder, detector.thorough_every, detector.track_every
            )
    eye_reader = build_eye_reader(eyes)
    if live and isinstance(eye_reader, ScreenedEyeReader) and eyes.mesh_every > 1:
        eye_reader.memory = MeshMemory(eyes.mesh_every)
    return Pipeline(
        PipelineParts(
            detector=face_finder,
            smile=build_smile_model(smile),
            eyes=eye_reader,
            scoring=scoring,
            detector_config=detector,
            smile_config=smile,
            eyes_config=eyes,
        ),
        SmileSchedule(smile.every) if live else None,
        EyeSchedule(eyes.every) if live else None,
    )


def build_pipeline(config: Any, with_detector: bool = True, live: bool = False) -> Pipeline:
    """The app config (edge.config.AppConfig) -> a Pipeline."""
    return build_pipeline_from_sections(
        config.detector,
        config.smile,
        config.eyes,
        config.scoring,
        with_detector=with_detector,
        live=live,
    )
