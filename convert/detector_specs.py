"""The two MediaPipe face models the converter takes, and how their int8 files are decoded.

Everything the converter, the recall gate, the cards and the evaluation need to know about
a model's file sits here once: where it is in the wheel, its outputs' names, the tensor it
bounds, its anchor grid (from `edge.perception.detector_model`, which runs the results).
No TensorFlow, so the evaluation imports it without the train extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.perception.detector_model import (
    FULL_RANGE_GRID,
    REGRESSORS,
    SCORES,
    SHORT_RANGE_GRID,
)

WHEEL = "mediapipe==0.10.14"
REGRESSOR_BOUND = 1.0  # in units of the input side: boxes/keypoints within the frame
LOGIT_BOUND = 10.0  # sigmoid(-10) = 0.00005: every background anchor looks the same
# Each head's last convolution is rescaled so that its bounded range maps onto [0, 6] and
# gets a fused RELU6: the int8 range of the conv output itself is then the bounded one (a
# clip after the conv would come too late: its input is already int8). The int8 file's
# outputs y decode as value = y * gain + offset (the card's "decoder").
DECODER = {
    "regressor_gain": REGRESSOR_BOUND / 3,
    "regressor_offset": -REGRESSOR_BOUND,
    "logit_gain": LOGIT_BOUND / 3,
    "logit_offset": -LOGIT_BOUND,
}


@dataclass(frozen=True)
class DetectorSpec:
    """One MediaPipe face model: where it is in the wheel and how its graph is shaped."""

    name: str
    member: str
    output: str
    grid: dict[str, Any]  # anchor grid: input side, strides, anchors per cell
    output_names: dict[str, str]  # head role (REGRESSORS.role, SCORES.role) -> output name
    # Convolutions before a head whose background values span far more than faces need:
    # (tensor name in the float file -> bound), clipped so int8 keeps precision.
    head_input_bounds: tuple[tuple[str, float], ...] = ()

    @property
    def size(self) -> int:
        return int(self.grid["input_size"])

    @property
    def title(self) -> str:
        return f"MediaPipe face detection, {self.name.replace('_', ' ')}, full int8"


FULL_RANGE = DetectorSpec(
    name="full_range",
    member="mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
    output="face_detector_int8.tflite",
    grid=FULL_RANGE_GRID,
    output_names={REGRESSORS.role: "Identity", SCORES.role: "Identity_1"},
    # The 4-channel convolution two steps before the score head: +-1250 on background.
    head_input_bounds=(("model_1/model/classifier_face_4_NO_PRUNING/BiasAdd", 64.0),),
)
SHORT_RANGE = DetectorSpec(
    name="short_range",
    member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
    output="face_detector_short_int8.tflite",
    grid=SHORT_RANGE_GRID,
    output_names={REGRESSORS.role: "regressors", SCORES.role: "classificators"},
)
SPECS = {spec.name: spec for spec in (FULL_RANGE, SHORT_RANGE)}
