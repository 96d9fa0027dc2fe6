"""The shipped int8 face detection stage on real photos and video: near, far, empty."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import shutil

import cv2
import numpy as np
import pytest

from convert.detection_eval import faces_dlib, recall_report, video_frames
from convert.detector_eval import labelled_box
from convert.wider import group_images, near_faces, read_ground_truth, read_image, zoom_crop
from edge.config.perception import DetectorConfig
from edge.perception.detection_schedule import ScheduledDetector
from edge.perception.detector_model import DetectorModel, letterbox
from edge.perception.face_detector import FaceDetector, square_tiles
from edge.perception.model_card import ModelCardError, card_path, sha256_of
from edge.types import Box, Face
from tests.paths import FACE_MODEL, MEDIA, MODELS, ROOT, require

SHORT_MODEL = MODELS / "face_detector_short_int8.tflite"
WIDER = MEDIA / "wider"


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(DetectorConfig(), root=ROOT)


def test_recall_on_faces_dlib_and_nothing_on_dogs(detector: FaceDetector) -> None:
    report = recall_report(detector.detect, require(MEDIA))
    assert report["faces"] == 43
    assert report["found"] >= 42
    assert report["extra_detections"] <= 3
    assert report["dogs_detections"] == 0


def test_the_near_face_is_found_in_every_frame_of_the_blink_video(detector) -> None:
    frames = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"))
    assert len(frames) == 334
    missed = [i for i, frame in enumerate(frames) if not detector.detect(frame)]
    assert missed == []


def test_a_face_that_fills_the_frame_is_found(detector: FaceDetector) -> None:
    """The case the previous int8 detector lost: the face 90 % of the frame's height."""
    near = near_faces(read_ground_truth(require(WIDER)))[:40]
    found = 0
    for image, face in near:
        crop, truth = zoom_crop(read_image(image.path), face.box, 0.9)
        found += any(truth.iou(labelled_box(f.box)) >= 0.5 for f in detector.detect(crop))
    assert found >= 37  # the full-range model alone: ~80 %


def test_the_back_row_of_a_group_is_found(detector: FaceDetector) -> None:
    """12--Group photos: faces >= 32 px wide, whole frame + tiles + confirmation."""
    photos = [g for g in group_images(require(WIDER)) if g.event == "12"][:15]
    wanted = found = 0
    for image in photos:
        boxes = [labelled_box(f.box) for f in detector.detect(read_image(image.path))]
        for face in image.faces:
            if face.booth and face.box.width >= 32:
                wanted += 1
                found += any(face.box.iou(b) >= 0.4 for b in boxes)
    assert wanted >= 40
    assert found / wanted >= 0.8  # the previous detector: ~0.55


@pytest.mark.parametrize("value", [0, 40, 128, 255])
def test_no_face_on_empty_frames(detector: FaceDetector, value: int) -> None:
    rng = np.random.default_rng(value)
    wall = rng.normal(value, 4, (480, 640, 3)).clip(0, 255).astype(np.uint8)
    assert detector.detect(wall) == ()


def test_keypoints_sit_inside_their_face(detector: FaceDetector) -> None:
    item = faces_dlib(require(MEDIA))[0]
    for face in detector.detect(cv2.imread(str(item.path))):
        b, k = face.box, face.keypoints
        assert k is not None
        for x, y in (k.right_eye, k.left_eye, k.nose_tip, k.mouth_center):
            assert b.x1 - 2 <= x <= b.x2 + 2 and b.y1 - 2 <= y <= b.y2 + 2
        assert k.right_eye[1] < k.mouth_center[1] and k.left_eye[1] < k.mouth_center[1]
        assert 0.5 <= face.score <= 1.0


@pytest.mark.parametrize("path", [FACE_MODEL, SHORT_MODEL], ids=["full-range", "short-range"])
def test_shipped_models_are_full_int8_and_match_their_cards(path) -> None:
    model = DetectorModel(require(path))  # verifies sha256 and input shape against the card
    assert model.card["sha256"] == sha256_of(path)
    interpreter = model._interpreter
    detail = interpreter.get_input_details()[0]
    assert detail["dtype"] == np.int8
    # q = pixel - 128: the input needs no float arithmetic at all.
    assert detail["quantization"] == (pytest.approx(1 / 128), 0)
    assert {d["dtype"] for d in interpreter.get_output_details()} == {np.int8}
    assert model.card["input"]["shape"] == [1, model.size, model.size, 3]
    assert len(model.anchors) == interpreter.get_output_details()[0]["shape"][1]


def test_a_changed_model_file_is_refused(tmp_path) -> None:
    copy = tmp_path / FACE_MODEL.name
    data = bytearray(require(FACE_MODEL).read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    shutil.copy(card_path(FACE_MODEL), card_path(copy))
    with pytest.raises(ModelCardError, match="does not match its card"):
        DetectorModel(copy)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((4, 4, 3), np.uint8),
        np.zeros((240, 320, 2), np.uint8),
    ],
    ids=["empty", "tiny", "two-channel"],
)
def test_frames_that_cannot_hold_a_face_give_none(detector, frame: np.ndarray) -> None:
    assert detector.detect(frame) == ()
    assert detector.redetect(frame, []) == ()


def test_gray_and_bgra_frames_are_accepted(detector: FaceDetector) -> None:
    image = cv2.imread(str(require(MEDIA / "faces-dlib" / "2008_001009.jpg")))
    colour = len(detector.detect(image))
    assert colour == 2
    assert len(detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))) == colour
    # Trained on colour: a gray (IR) frame still works where faces are not tiny.
    assert len(detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))) == colour


@pytest.mark.parametrize("count", [1, 6], ids=["one-face", "six-faces"])
def test_the_cheap_pass_finds_known_faces_again(detector: FaceDetector, count: int) -> None:
    """Around known boxes only, each face in its own short-range input; each comes back
    near where it was."""
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    known = detector.detect(image)[:count]
    assert len(known) == count
    again = detector.redetect(image, [f.box for f in known])
    assert len(again) == count
    for face in known:
        assert max(face.box.iou(f.box) for f in again) > 0.4  # tracking matches from 0.3


def test_the_live_schedule_searches_for_new_faces_every_n_frames(detector) -> None:
    frames = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=10)[:12]
    live = ScheduledDetector(detector, thorough_every=5)
    counts = [len(live.detect(frame)) for frame in frames]
    # The first frame (no face known) gets the thorough pass; frames 5 and 10 a search.
    assert live.passes == {"thorough": 1, "whole": 0, "regions": 11, "search": 2, "still": 0}
    assert counts == [1] * 12


def _one_face_shown(image: np.ndarray, faces, keep: int) -> np.ndarray:
    """The photo with every face but one painted over in grey."""
    shown = image.copy()
    for index, face in enumerate(faces):
        if index != keep:
            b = face.box
            x1, y1, x2, y2 = (int(v) for v in (b.x1 - 4, b.y1 - 4, b.x2 + 4, b.y2 + 4))
            shown[max(0, y1) : y2, max(0, x1) : x2] = 128
    return shown


def test_a_face_that_walks_in_is_found_at_the_next_search(detector) -> None:
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    everyone = detector.detect(image)
    assert len(everyone) >= 4
    alone = _one_face_shown(image, everyone, keep=0)
    live = ScheduledDetector(detector, thorough_every=5)
    seen = [len(live.detect(alone if n < 3 else image)) for n in range(11)]
    # Tracked alone until frame 5's search finds the others, who are tracked from then on.
    assert seen[:5] == [1] * 5
    assert seen[5:] == [len(everyone)] * 6


def test_a_search_gives_a_sure_tracked_face_no_second_look(detector) -> None:
    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    tracked = detector.redetect(portrait, [f.box for f in detector.detect(portrait)])
    assert len(tracked) == 1 and tracked[0].score >= 0.85
    short, full = detector.models.short_range, detector.models.full_range
    assert short is not None
    before = short.invokes, full.invokes
    again = detector.discover(portrait, tracked)
    # Both models on the whole frame and the full-range one on the portrait's
    # two square tiles; no confirmation of the face already tracked.
    assert (short.invokes - before[0], full.invokes - before[1]) == (1, 3)
    assert len(again) == 1 and again[0].box.iou(tracked[0].box) > 0.9


def test_a_search_drops_a_doubtful_track_that_is_not_a_face(detector) -> None:
    grey = np.full((360, 640, 3), 128, np.uint8)
    ghost = Face(Box(300, 150, 340, 190), 0.45)  # the cheap pass was unsure of it
    assert detector.discover(grey, [ghost]) == ()


@pytest.mark.parametrize("shape", [(360, 640), (854, 480), (1080, 1920), (480, 640)])
def test_square_tiles_cover_the_frame_with_overlap(shape: tuple[int, int]) -> None:
    tiles = square_tiles(shape)
    side = min(shape)
    assert len(tiles) >= 2
    assert all(w == h == side for _, _, w, h in tiles)
    covered = np.zeros(shape, bool)
    for x, y, w, h in tiles:
        covered[y : y + h, x : x + w] = True
    assert covered.all()
    starts = sorted(x + y for x, y, _, _ in tiles)  # along the long side
    assert all(b - a <= side - side // 5 for a, b in itertools.pairwise(starts))


def test_frames_under_640_pixels_get_no_tiles() -> None:
    assert square_tiles((360, 480)) == [] and square_tiles((600, 600)) == []


def test_with_no_face_known_the_live_pass_searches_the_whole_frame(detector) -> None:
    live = ScheduledDetector(detector, thorough_every=10)
    empty = np.full((360, 480, 3), 90, np.uint8)
    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    assert live.detect(empty) == ()  # thorough
    assert len(live.detect(portrait)) == 1  # whole frame: found at once, not 9 frames later
    assert live.passes == {"thorough": 1, "whole": 1, "regions": 0, "search": 0, "still": 0}


def test_the_short_range_model_can_be_switched_off() -> None:
    config = dataclasses.replace(DetectorConfig(), short_range_model="")
    only_full = FaceDetector(config, root=ROOT)
    assert only_full.models.short_range is None
    assert set(only_full.cards) == {"face_detector"}


def test_letterbox_maps_back_to_frame_pixels() -> None:
    frame = np.zeros((100, 300, 3), np.uint8)
    square, box = letterbox(frame, 192)
    assert square.shape == (192, 192, 3)
    x, y = box.to_frame(np.array([0.5]), np.array([0.5]))
    assert x[0] == pytest.approx(150, abs=1) and y[0] == pytest.approx(50, abs=1)


def test_a_search_confirms_new_faces_four_to_an_input(detector: FaceDetector) -> None:
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    image = cv2.resize(image, (640, round(image.shape[0] * 640 / image.shape[1])))
    photo = detector.detect(image)
    short = detector.models.short_range
    assert short is not None and len(photo) >= 5
    before = short.invokes
    found = detector.discover(image, [])
    # One whole-frame invoke, then the candidates (each face seen by 1-3 passes, merged)
    # confirmed in packs of four: far fewer invokes than one per candidate.
    assert short.invokes - before <= 1 + 2 * -(-len(photo) // 4)
    assert len(found) == len(photo)
    for face in photo:
        assert max(face.box.iou(f.box) for f in found) > 0.5


def test_tracked_faces_are_looked_at_in_turns(detector: FaceDetector) -> None:
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    live = ScheduledDetector(detector, thorough_every=10, track_every=2, skip_still=False)
    counts = [len(live.detect(image)) for _ in range(5)]
    everyone = counts[0]
    assert everyone >= 5 and counts == [everyone] * 5  # every face in every frame
    # After the first frame's thorough pass, half the faces are looked at on each frame.
    assert live.looks == 4 * (everyone // 2) or live.looks == 2 * everyone


def test_a_still_face_is_looked_for_in_the_same_square(detector: FaceDetector) -> None:
    """The square held while the face stays put: fed back, the short-range model's own box
    would creep to where its keypoints differ from the thorough pass's."""
    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    live = ScheduledDetector(detector, thorough_every=100, track_every=1)
    live.detect(portrait)
    first = list(live._known)
    for _ in range(5):
        live.detect(portrait)
    assert live._known == first
    shifted = np.roll(portrait, 60, axis=1)  # the face moves a fifth of its size
    moved = live.detect(shifted)
    assert len(moved) == 1 and live._known[0] != first[0]
    assert abs(live._known[0].center[0] - first[0].center[0] - 60) < 15


def test_the_six_people_keep_their_open_eyes_in_the_live_loop() -> None:
    """The photo of issue 13: all twelve eyes open in the photo pass and on every live
    frame after it (packed four to an input, 3 of the 12 read closed on most frames)."""
    from edge.bench import bench_config
    from edge.perception.pipeline import build_pipeline

    image = cv2.imread(str(require(MEDIA / "faces-dlib" / "2008_002470.jpg")))
    args = argparse.Namespace(config=None, width="640", threads="1", source=None)
    live = build_pipeline(bench_config(args), live=True)
    frames = [live.process(image) for _ in range(12)]
    assert all(len(f.faces) == 6 for f in frames)
    assert sum(face.eyes_open for face in frames[0].faces) == 12
    assert [sum(face.eyes_open for face in f.faces) for f in frames[1:]] == [12] * 11


def _grain(image: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """`image` as a camera would give it again: the same scene, new sensor noise."""
    return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 255).astype(np.uint8)


def test_a_group_holding_still_is_not_looked_at_again_until_it_moves(detector) -> None:
    """Frames of the same scene with new noise each: every face found on every frame and,
    once its square has settled, not looked at again while it is unchanged; moved, it is."""
    rng = np.random.default_rng(1)
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    live = ScheduledDetector(detector, thorough_every=100, track_every=1)
    everyone = len(live.detect(_grain(image, rng)))
    assert everyone >= 5
    for _ in range(4):  # a square moves to where the short-range model puts the face
        assert len(live.detect(_grain(image, rng))) == everyone
    looks, still = live.looks, live.still_looks
    counts = [len(live.detect(_grain(image, rng))) for _ in range(5)]
    assert counts == [everyone] * 5
    assert (live.looks, live.still_looks) == (looks, still + 5 * everyone)
    moved = _grain(np.roll(image, 12, axis=1), rng)  # everyone steps 12 px aside
    assert len(live.detect(moved)) == everyone
    assert live.looks == looks + everyone


def test_a_still_face_is_looked_at_again_within_a_second(detector) -> None:
    """Noise under the change threshold cannot keep a face's last look for ever."""
    from edge.perception.detection_schedule import MAX_STILL_FRAMES

    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    live = ScheduledDetector(detector, thorough_every=1000, track_every=2)
    for _ in range(1 + 2 * MAX_STILL_FRAMES + 2):
        assert len(live.detect(portrait)) == 1
    assert live.looks == 2  # at frame 1 (its first turn) and once the skipped turns ran out


def test_an_empty_booth_gets_a_pass_only_when_something_changes(detector) -> None:
    rng = np.random.default_rng(2)
    empty = np.full((360, 640, 3), 90, np.uint8)
    empty[:, 320:] = 150  # a wall and a curtain
    live = ScheduledDetector(detector, thorough_every=10)
    for _ in range(20):
        assert live.detect(_grain(empty, rng)) == ()
    # The search on frame 1; nothing on the 19 frames after it (a search found nothing).
    assert live.passes["thorough"] == 1 and live.passes["whole"] == 0
    assert live.passes["still"] == 19
    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    step_in = _grain(empty, rng)
    step_in[:, 80:560] = cv2.resize(portrait, (480, 854))[247:607]  # someone steps up
    assert len(live.detect(step_in)) == 1  # found on the first frame they are in


def test_a_still_empty_frame_gets_the_search_it_has_not_had(detector) -> None:
    """A still frame that only the whole-frame pass has seen gets the search (with tiles)
    at the next search frame: the whole-frame pass misses faces the tiles find."""
    empty = np.full((360, 640, 3), 90, np.uint8)
    live = ScheduledDetector(detector, thorough_every=5)
    live._frame = 1  # start between searches
    for _ in range(6):
        live.detect(empty)
    assert live.passes["whole"] == 1 and live.passes["thorough"] == 1
    assert live.passes["still"] == 4


def test_a_frame_with_a_face_is_never_taken_for_an_empty_one(detector) -> None:
    """Only a pass that found nothing marks a frame empty: a face dropped from tracking
    on a frame that looks as it did is looked for at once, not skipped."""
    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    live = ScheduledDetector(detector, thorough_every=10)
    assert len(live.detect(portrait)) == 1
    live._track(())  # the face dropped without a pass that looked for it
    assert len(live.detect(portrait)) == 1
    assert live.passes["still"] == 0
