"""Tracking and smoothing: stable ids, expiry, and a blink or a glitch that changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edge.config.decide import ScoringConfig, TrackingConfig, TriggerConfig
from edge.decide.control import ControlState
from edge.decide.rule import judge, live_views
from edge.decide.scoring import smoothed_group
from edge.decide.tracking import TrackedFrame, Tracker
from edge.decide.trigger import TriggerState, step
from edge.types import Box, FaceScore, GroupScore
from tests._loop_helpers import BOX_A, BOX_B, FaceSpec, frame_result

ARMED = ControlState(armed=True, threshold=0.7, trigger_requested=False)
TRIGGER = TriggerConfig(threshold=0.7, rearm_threshold=0.5, hold_s=0.5, min_faces=2)


def smoothed(tracked: TrackedFrame) -> GroupScore:
    """The live group rating of a tracked frame: what the loop's trigger sees."""
    return smoothed_group(tracked.counted, ScoringConfig())


def shifted(box: Box, dx: float) -> Box:
    return Box(box.x1 + dx, box.y1, box.x2 + dx, box.y2)


def test_faces_keep_their_ids_while_they_move() -> None:
    tracker = Tracker(TrackingConfig())
    ids = []
    for n in range(10):
        tracked = tracker.update(
            frame_result([(shifted(BOX_A, 4 * n), 0.5, 2), (shifted(BOX_B, -4 * n), 0.5, 2)])
        )
        ids.append(tuple(t.track_id for t in tracked.tracks))
    assert set(ids) == {(1, 2)}
    # Order of detections may change between frames: ids follow the boxes, not the order.
    tracked = tracker.update(frame_result([(shifted(BOX_B, -40), 0.5, 2), (BOX_A, 0.5, 2)]))
    assert [t.track_id for t in tracked.tracks] == [2, 1]


def test_a_new_face_gets_a_new_id_and_lost_ones_expire() -> None:
    tracker = Tracker(TrackingConfig(max_missed=3))
    tracker.update(frame_result([(BOX_A, 0.5, 2)]))
    tracked = tracker.update(frame_result([(BOX_A, 0.5, 2), (BOX_B, 0.5, 2)]))
    assert [t.track_id for t in tracked.tracks] == [1, 2]
    for _ in range(3):
        tracker.update(frame_result([(BOX_A, 0.5, 2)]))
    assert [t.track_id for t in tracker.tracks] == [1, 2]  # missed 3: still kept
    tracker.update(frame_result([(BOX_A, 0.5, 2)]))
    assert [t.track_id for t in tracker.tracks] == [1]  # missed 4 > max_missed: gone
    tracked = tracker.update(frame_result([(BOX_A, 0.5, 2), (BOX_B, 0.5, 2)]))
    assert [t.track_id for t in tracked.tracks] == [1, 3]


def test_one_missed_detection_keeps_the_group_together() -> None:
    tracker = Tracker(TrackingConfig())
    both = [(BOX_A, 0.9, 2), (BOX_B, 0.9, 2)]
    for _ in range(5):
        tracker.update(frame_result(both))
    glitch = tracker.update(frame_result([(BOX_A, 0.9, 2)]))
    assert glitch.result.group.face_count == 1  # the raw frame lost a face...
    assert smoothed(glitch).face_count == 2  # ...the smoothed group did not


def run(frames: Sequence[Sequence[FaceSpec]], fps: float = 10.0) -> tuple[list[float], list[int]]:
    """Tracker + trigger on a fake clock; smoothed scores and the frames that fired."""
    tracker = Tracker(TrackingConfig(smoothing=0.35))
    state, scores, fired = TriggerState(), [], []
    for n, faces in enumerate(frames):
        tracked = tracker.update(frame_result(faces))
        score = smoothed(tracked).score
        views = live_views(tracked.counted, set(), ScoringConfig())
        decision = step(
            state, n / fps, score, judge(score, views, 0.7, TRIGGER, 0.5), ARMED, TRIGGER
        )
        state = decision.state
        scores.append(smoothed(tracked).score if smoothed(tracked).score is not None else 0.0)
        if decision.fire:
            fired.append(n)
    return scores, fired


def test_the_smile_probability_is_smoothed_for_the_rule() -> None:
    tracker = Tracker(TrackingConfig(smoothing=0.5))
    for _ in range(5):
        tracked = tracker.update(frame_result([(BOX_A, 0.9, 2), (BOX_B, 0.9, 2)]))
    tracked = tracker.update(frame_result([(BOX_A, 0.9, 2), (BOX_B, 0.1, 2)]))
    assert tracked.counted[1].smile_probability == pytest.approx(0.5, abs=0.01)
    tracked = tracker.update(frame_result([(BOX_A, 0.9, 2), (BOX_B, 0.1, 2)]))
    assert tracked.counted[1].smile_probability == pytest.approx(0.3, abs=0.01)


def test_one_face_stopping_its_smile_holds_the_shutter() -> None:
    frames = [[(BOX_A, 0.95, 2), (BOX_B, 0.95 if n < 2 else 0.15, 2)] for n in range(20)]
    scores, fired = run(frames)
    assert min(scores) >= TRIGGER.threshold - 0.35  # the average stays high-ish...
    assert fired == []  # ...but the second face is not smiling: no photo


def group(smile: float, eyes: int) -> list[FaceSpec]:
    return [(BOX_A, smile, eyes), (BOX_B, smile, eyes)]


def test_a_blink_does_not_block_the_shutter() -> None:
    # Both smile (raw score 0.84); at frames 3-4 both blink (raw score 0.64, below 0.7).
    frames = [group(0.8, 2)] * 3 + [group(0.8, 0)] * 2 + [group(0.8, 2)] * 5
    raw_blink = frame_result(group(0.8, 0)).group.score
    assert raw_blink is not None and raw_blink < TRIGGER.threshold
    scores, fired = run(frames)
    assert min(scores) >= TRIGGER.threshold  # smoothing rides over the blink
    assert fired == [5]  # held from frame 0: 0.5 s later, as if nobody had blinked


def test_a_one_frame_glitch_does_not_fire() -> None:
    # Neutral faces, one frame where the model says "huge smile": raw 1.0, then neutral.
    frames = [group(0.2, 2)] * 5 + [group(1.0, 2)] + [group(0.2, 2)] * 10
    scores, fired = run(frames)
    assert max(scores) < TRIGGER.threshold
    assert fired == []


def test_a_real_smile_still_fires_through_smoothing() -> None:
    frames = [group(0.2, 2)] * 5 + [group(0.95, 2)] * 20
    scores, fired = run(frames)
    assert len(fired) == 1
    crossing = next(n for n, s in enumerate(scores) if s >= TRIGGER.threshold)
    assert fired[0] == crossing + 5  # hold_s 0.5 s at 10 fps after the smoothed crossing


def with_eyes(spec: FaceSpec, right: float, left: float, threshold: float = 0.5):
    """A face score with the eye model's per-eye P(open) filled in."""
    import dataclasses

    from edge.perception.eyes import count_open
    from tests._loop_helpers import face_score

    score = face_score(*spec)
    return dataclasses.replace(
        score, eyes_open=count_open((right, left), threshold), eye_open_probability=(right, left)
    )


def test_each_eye_is_smoothed_and_one_blink_frame_moves_the_score_a_little() -> None:
    from edge.decide.scoring import score_group
    from edge.types import FrameResult

    tracker = Tracker(TrackingConfig(smoothing=0.35))

    def frame(right: float, left: float):
        face = with_eyes((BOX_A, 0.9, 2), right, left)
        result = FrameResult((face,), score_group([face], ScoringConfig()), 640, 360)
        return tracker.update(result)

    for _ in range(5):
        steady = frame(0.99, 0.98)
    blink = frame(0.01, 0.02)
    track = blink.tracks[0]
    assert track.eye_open == pytest.approx(
        [0.99 + 0.35 * (0.01 - 0.99), 0.98 + 0.35 * (0.02 - 0.98)]
    )
    assert track.eyes_open == pytest.approx(sum(track.eye_open))
    assert blink.result.group.open_eye_ratio == 0.0  # the raw frame: both eyes closed
    assert smoothed(steady).score is not None and smoothed(blink).score is not None
    assert smoothed(steady).score - smoothed(blink).score == pytest.approx(0.2 * 0.5 * 0.35 * 1.94)


def scored_frames(tracker: Tracker, faces: Sequence[FaceScore]):
    """Each face as one frame through the tracker and the live rating, as the loop makes."""
    import numpy as np

    from edge.decide.burst import ScoredFrame
    from edge.decide.scoring import score_group
    from edge.io.sources.base import Frame
    from edge.types import FrameResult

    image = np.zeros((4, 4, 3), np.uint8)
    for index, face in enumerate(faces):
        result = FrameResult((face,), score_group([face], ScoringConfig()), 640, 360)
        tracked = tracker.update(result)
        yield ScoredFrame(Frame(image, index, index / 10), tracked, smoothed(tracked))


def test_a_burst_keeps_an_open_eyed_frame_over_a_higher_scored_blink() -> None:
    from edge.decide.burst import Burst

    faces = [with_eyes((BOX_A, 0.7, 2), 0.9, 0.9), with_eyes((BOX_A, 1.0, 2), 0.1, 0.2)]
    for guarded, kept in ((True, 0), (False, 1)):  # frame 1: best smile, eyes closed
        burst = Burst("score", avoid_closed_eyes=guarded)
        for scored in scored_frames(Tracker(TrackingConfig(smoothing=1.0)), faces):
            burst.offer(scored)
        assert burst.best is not None and burst.best.frame.index == kept


def test_a_burst_keeps_the_best_smoothed_frame_not_a_raw_outlier() -> None:
    """The photo is the frame the trigger's own (smoothed) score rates best: a one-frame
    raw spike at the start of the burst, while the smoothed score still climbs, is not."""
    from edge.decide.burst import Burst

    tracker = Tracker(TrackingConfig(smoothing=0.35))
    steady = [frame_result([(BOX_A, 0.5, 2)]).faces[0]] * 5
    burst_faces = [frame_result([(BOX_A, w, 2)]).faces[0] for w in (1.0, 0.8, 0.8, 0.8, 0.8)]
    *_, before = scored_frames(tracker, steady)
    burst = Burst("score")
    offered = list(scored_frames(tracker, burst_faces))
    for scored in offered:
        burst.offer(scored)
    raw = [s.tracked.result.group.score for s in offered]
    assert raw.index(max(raw)) == 0  # the raw outlier...
    assert burst.best is not None  # ...is not kept: the smoothed score peaks last
    assert burst.best.frame.index == offered[-1].frame.index
    assert before.group.score is not None and before.group.score < offered[0].group.score


def test_a_burst_keeps_a_frame_the_rule_calls_ready_over_a_higher_score() -> None:
    from edge.decide.burst import Burst

    faces = [frame_result([(BOX_A, w, 2)]).faces[0] for w in (0.95, 0.8)]
    burst = Burst("score")
    for scored, ready in zip(
        scored_frames(Tracker(TrackingConfig(smoothing=1.0)), faces), (False, True), strict=True
    ):
        burst.offer(scored, ready)
    assert burst.best is not None and burst.best.frame.index == 1
