"""The shipped int8 face detection stage on real photos and video: near, far, empty."""

from __future__ import annotations

import argparse
import shutil

import cv2
import numpy as np
import pytest

from edge.config.perception import DetectorConfig
from edge.perception.detection_schedule import ScheduledDetector
from edge.perception.face_detector import FaceDetector
from edge.perception.model_card import ModelCardError, card_path, sha256_of
from edge.perception.yunet_model import YuNetModel, fit_input
from edge.types import Box
from evaluate.detection_eval import faces_dlib, recall_report, video_frames
from evaluate.detector_eval import labelled_box
from evaluate.wider import group_images, near_faces, read_ground_truth, read_image, zoom_crop
from tests.paths import FACE_MODEL, MEDIA, ROOT, require

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
    assert found >= 38  # MediaPipe's full-range model alone: ~80 %


def test_the_back_row_of_a_group_is_found(detector: FaceDetector) -> None:
    """12--Group photos: faces >= 32 px wide, the whole frame at 640 px."""
    photos = [g for g in group_images(require(WIDER)) if g.event == "12"][:15]
    wanted = found = 0
    for image in photos:
        boxes = [labelled_box(f.box) for f in detector.detect(read_image(image.path))]
        for face in image.faces:
            if face.booth and face.box.width >= 32:
                wanted += 1
                found += any(face.box.iou(b) >= 0.4 for b in boxes)
    assert wanted >= 40
    assert found / wanted >= 0.9  # the MediaPipe pair with tiles: ~0.8


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
        for x, y in k.as_tuple():
            assert b.x1 - 2 <= x <= b.x2 + 2 and b.y1 - 2 <= y <= b.y2 + 2
        assert max(k.right_eye[1], k.left_eye[1]) < min(k.right_mouth[1], k.left_mouth[1])
        # The person's right eye and mouth corner are on the image's left.
        assert k.right_eye[0] < k.left_eye[0] and k.right_mouth[0] < k.left_mouth[0]
        assert 0.5 <= face.score <= 1.0


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
    assert detector.look_again(frame, [Box(0, 0, 4, 4)]) == [None]


def test_gray_and_bgra_frames_are_accepted(detector: FaceDetector) -> None:
    image = cv2.imread(str(require(MEDIA / "faces-dlib" / "2008_001009.jpg")))
    colour = len(detector.detect(image))
    assert colour == 2
    assert len(detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))) == colour
    # Trained on colour: a gray (IR) frame still works where faces are not tiny.
    assert len(detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))) == colour


@pytest.mark.parametrize("count", [1, 6], ids=["one-face", "six-faces"])
def test_the_cheap_pass_finds_known_faces_again(detector: FaceDetector, count: int) -> None:
    """Around known boxes only, each face in its own square; each comes back near where
    it was."""
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    known = detector.detect(image)[:count]
    assert len(known) == count
    again = [f for f in detector.look_again(image, [f.box for f in known]) if f is not None]
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


def test_with_no_face_known_the_live_pass_searches_the_whole_frame(detector) -> None:
    live = ScheduledDetector(detector, thorough_every=10)
    empty = np.full((360, 480, 3), 90, np.uint8)
    portrait = video_frames(require(MEDIA / "video" / "blink_portrait.mp4"), every=50)[0]
    assert live.detect(empty) == ()  # thorough
    assert len(live.detect(portrait)) == 1  # whole frame: found at once, not 9 frames later
    assert live.passes == {"thorough": 1, "whole": 1, "regions": 0, "search": 0, "still": 0}


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
    """The square held while the face stays put: fed back, the look's own box would creep
    to where its keypoints differ from the thorough pass's."""
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
    from edge.cli.bench import bench_config
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
    for _ in range(4):  # a square moves to where the look puts the face
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
    """A still frame that only a non-search pass has seen gets the search at the next
    search frame."""
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


def test_the_shipped_model_is_full_int8_and_matches_its_card() -> None:
    model = YuNetModel(require(FACE_MODEL))  # verifies sha256 and input against the card
    assert model.card["sha256"] == sha256_of(FACE_MODEL)
    assert model.card["input"]["shape_signature"] == [1, -1, -1, 3]
    assert model.card["input"]["quantization"] == [1.0, -128]
    assert model.card["decoder"]["keypoints"] == [
        "right_eye",
        "left_eye",
        "nose_tip",
        "right_mouth",
        "left_mouth",
    ]
    model.detect(np.zeros((384, 640, 3), np.uint8), 0.5)
    interpreter = model._sized["whole"].interpreter
    assert {d["dtype"] for d in interpreter.get_output_details()} == {np.int8}
    assert len(interpreter.get_output_details()) == 9


def test_a_changed_model_file_is_refused(tmp_path) -> None:
    copy = tmp_path / FACE_MODEL.name
    data = bytearray(require(FACE_MODEL).read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    shutil.copy(card_path(FACE_MODEL), card_path(copy))
    with pytest.raises(ModelCardError, match="does not match its card"):
        YuNetModel(copy)


@pytest.mark.parametrize("shape", [(360, 640), (1080, 1920), (480, 640), (1920, 1080), (100, 50)])
def test_the_input_is_the_longest_side_at_640_padded_to_multiples_of_32(shape) -> None:
    frame = np.full((*shape, 3), 200, np.uint8)
    image, scale = fit_input(frame, 640)
    assert image.shape[0] % 32 == 0 and image.shape[1] % 32 == 0
    assert scale == pytest.approx(640 / max(shape))
    h, w = round(shape[0] * scale), round(shape[1] * scale)
    assert max(h, w) == 640
    assert (image[:h, :w] == 200).all() and (image[h:] == 0).all() and (image[:, w:] == 0).all()


def test_a_search_keeps_tracked_faces_and_adds_only_new_ones(detector: FaceDetector) -> None:
    item = max(faces_dlib(require(MEDIA)), key=lambda i: len(i.faces))
    image = cv2.imread(str(item.path))
    everyone = detector.detect(image)
    assert len(everyone) >= 5
    tracked = everyone[:2]
    found = detector.discover(image, tracked)
    assert len(found) == len(everyone)
    for face in tracked:  # kept as tracked, not replaced by the search's box
        assert face in found
    assert detector.discover(np.full((360, 640, 3), 128, np.uint8), []) == ()
