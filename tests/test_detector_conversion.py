"""The detector conversion's checks on the shipped int8 files (no TensorFlow needed): the
card it writes is the card the loader accepts, the recall gate rejects a broken score head,
and a model without the detector's outputs is refused with what was expected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from convert.detector_card import detector_card, earlier_figures, write_detector_card
from convert.detector_gate import RECALL_MARGIN, RecallGateError, check_recall
from convert.detector_specs import SHORT_RANGE
from edge.perception.detector_model import SCORES, DetectorModel
from edge.perception.model_card import ModelCardError, load_card, open_checked
from tests.paths import MEDIA, MODELS, SMILE_MODEL, require

SHORT_MODEL = MODELS / SHORT_RANGE.output
# What the conversion adds to the card beside what it reads off the file.
EXTRA_KEYS = ("rebuild_check", "calibration", "reproduce")


def shipped_card() -> dict:
    return json.loads((MODELS / "face_detector_short_int8.card.json").read_text())


def card_for(path: Path) -> dict:
    """The card the converter writes for `path`, with the shipped card's extras."""
    shipped = shipped_card()
    return detector_card(SHORT_RANGE, path, shipped["source"], {k: shipped[k] for k in EXTRA_KEYS})


def test_the_card_writer_reproduces_the_shipped_card_and_the_loader_accepts_it(
    tmp_path: Path,
) -> None:
    model = tmp_path / SHORT_RANGE.output
    shutil.copyfile(SHORT_MODEL, model)
    card = card_for(model)
    shipped = shipped_card()
    assert card == {k: v for k, v in shipped.items() if k in card}
    assert set(shipped) - set(card) <= {"recall_check", "stage_metrics"}

    written = write_detector_card(model, card)
    assert written == model.with_suffix(".card.json")
    _, loaded = open_checked(model, threads=1)
    assert loaded == card == load_card(model)
    assert card["sha256"] in model.with_suffix(".md").read_text()
    assert DetectorModel(model).size == SHORT_RANGE.size

    # The loader checks what the writer wrote: other bytes under the same card are refused.
    data = bytearray(model.read_bytes())
    data[-1] ^= 1
    model.write_bytes(bytes(data))
    with pytest.raises(ModelCardError, match="does not match its card"):
        open_checked(model, threads=1)


def test_a_reconversion_keeps_the_figures_measured_on_the_very_same_bytes(
    tmp_path: Path,
) -> None:
    model = tmp_path / SHORT_RANGE.output
    shutil.copyfile(SHORT_MODEL, model)
    measured = shipped_card()["stage_metrics"]
    write_detector_card(model, {**card_for(model), "stage_metrics": measured})
    assert "## The detection stage it is part of" in model.with_suffix(".md").read_text()
    same = load_card(model)["sha256"]
    assert earlier_figures(model, same) == {"stage_metrics": measured}
    assert earlier_figures(model, "0" * 64) == {}
    assert earlier_figures(tmp_path / "absent.tflite", same) == {}
    model.with_suffix(".card.json").write_text("{not json")
    assert earlier_figures(model, same) == {}


def broken_score_head(source: Path, target: Path, factor: float) -> None:
    """`source` with the score head's last convolutions (weights and bias) dequantized
    `factor` times too large or small: every score logit comes out scaled, as from a head
    bounded wrongly. Their output ranges are left alone, so the file still loads."""
    schema = pytest.importorskip("ai_edge_litert.schema_py_generated")
    import flatbuffers

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(source.read_bytes(), 0))
    graph = model.subgraphs[0]
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    kind = [op_names[max(c.builtinCode, c.deprecatedBuiltinCode)] for c in model.operatorCodes]
    producer = {int(o): op for op in graph.operators for o in op.outputs}
    [scores] = [int(i) for i in graph.outputs if graph.tensors[i].shape[-1] == SCORES.width]
    pending, convolutions = [producer[scores]], []
    while pending:
        op = pending.pop()
        if kind[op.opcodeIndex] == "CONV_2D":
            convolutions.append(op)
        else:  # RESHAPE / CONCATENATION: values only move
            moved = op.inputs if kind[op.opcodeIndex] == "CONCATENATION" else op.inputs[:1]
            pending += [producer[int(i)] for i in moved]
    assert convolutions
    for op in convolutions:
        for tensor in (graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]):
            tensor.quantization.scale = np.asarray(tensor.quantization.scale) * factor
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    target.write_bytes(bytes(builder.Output()))


def test_the_recall_gate_rejects_a_model_whose_score_head_is_broken(tmp_path: Path) -> None:
    media = require(MEDIA)
    broken = tmp_path / SHORT_RANGE.output
    broken_score_head(SHORT_MODEL, broken, 0.9)  # 10 % off: most faces still found
    write_detector_card(broken, card_for(broken))
    with pytest.raises(RecallGateError) as failure:
        check_recall(broken, SHORT_MODEL, SHORT_RANGE, media, faces=25)
    message = str(failure.value)
    assert message.startswith(f"{broken}: int8 recall more than {RECALL_MARGIN} points below")
    assert "near faces at 30%: " in message and "faces-dlib: " in message
    assert "points below)" in message


def test_the_recall_gate_passes_a_faithful_copy(tmp_path: Path) -> None:
    media = require(MEDIA)
    copy = tmp_path / SHORT_RANGE.output
    broken_score_head(SHORT_MODEL, copy, 1.0)
    write_detector_card(copy, card_for(copy))
    check = check_recall(copy, SHORT_MODEL, SHORT_RANGE, media, faces=25)
    assert check["int8"] == check["float"]
    assert check["int8"]["near_faces"] == 25


def test_a_model_without_the_detector_outputs_is_refused_naming_them() -> None:
    with pytest.raises(ValueError) as failure:
        DetectorModel(SMILE_MODEL, verify=False)
    message = str(failure.value)
    assert str(SMILE_MODEL) in message
    assert "expected one output of shape (1, anchors, 16) (box and keypoint regressors)" in message
    assert "StatefulPartitionedCall_1:0" in message  # what the file has instead
