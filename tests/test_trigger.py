"""The trigger policy as a pure state machine, driven by a fake clock (frame times); the
frames' verdicts come from the real rule (edge.decide.rule.judge) on smiling faces."""

from __future__ import annotations

from collections.abc import Iterable

from edge.config.decide import TriggerConfig
from edge.decide.control import ControlState
from edge.decide.rule import FaceView, judge
from edge.decide.trigger import Decision, TriggerState, burst_open
from edge.decide.trigger import step as policy_step

CONFIG = TriggerConfig(
    threshold=0.7, rearm_threshold=0.5, hold_s=1.0, min_faces=2, burst_s=0.5, cooldown_s=3.0
)
ARMED = ControlState(armed=True, threshold=0.7, trigger_requested=False)
DISARMED = ControlState(armed=False, threshold=0.7, trigger_requested=False)
MANUAL = ControlState(armed=True, threshold=0.7, trigger_requested=True)
FPS = 10


def step(
    state: TriggerState,
    now: float,
    score: float | None,
    faces: int,
    controls: ControlState,
    config: TriggerConfig,
    eyes_closed: bool = False,
) -> Decision:
    """One frame of `faces` smiling faces (the first one's eyes closed when asked)."""
    views = [FaceView(i, 0.9, eyes_closed and i == 0, 0.9) for i in range(faces)]
    verdict = judge(score if faces else None, views, controls.threshold, config, 0.5)
    return policy_step(state, now, score, verdict, controls, config)


class Policy:
    """Feeds frames at FPS to step() and remembers when it fired."""

    def __init__(self, config: TriggerConfig = CONFIG) -> None:
        self.config = config
        self.state = TriggerState()
        self.frames = 0
        self.fired: list[tuple[float, str]] = []

    def frame(
        self, score: float | None, faces: int = 2, controls: ControlState = ARMED
    ) -> Decision:
        decision = step(self.state, self.now, score, faces, controls, self.config)
        self.state = decision.state
        if decision.fire:
            self.fired.append((round(self.now, 2), decision.reason))
        self.frames += 1
        return decision

    @property
    def now(self) -> float:
        return self.frames / FPS  # exact multiples: no drift from adding 0.1 over and over

    def run(self, scores: Iterable[float | None], faces: int = 2) -> None:
        for score in scores:
            self.frame(score, faces)


def test_fires_only_after_the_score_holds_for_hold_s() -> None:
    policy = Policy()
    policy.run([0.8] * 10)  # 0.0 .. 0.9 s above: not yet
    assert policy.fired == []
    policy.run([0.8])  # 1.0 s
    assert policy.fired == [(1.0, "score")]
    assert policy.state.phase == "burst"


def test_a_dip_restarts_the_hold() -> None:
    policy = Policy()
    policy.run([0.8] * 8 + [0.6] + [0.8] * 10)  # dip at 0.8 s; above again from 0.9 s
    assert policy.fired == []
    policy.run([0.8])
    assert policy.fired == [(1.9, "score")]


def test_needs_min_faces_and_a_score() -> None:
    policy = Policy()
    policy.run([0.9] * 30, faces=1)
    policy.run([None] * 30, faces=0)
    assert policy.fired == []


def test_cooldown_then_hysteresis_one_long_smile_gives_one_photo() -> None:
    policy = Policy()
    policy.run([0.9] * 100)  # ten seconds of one long smile
    assert policy.fired == [(1.0, "score")]
    assert policy.state.phase == "rearm"  # cooldown over, waiting for the score to drop
    policy.run([0.6] * 5)  # below threshold but above rearm_threshold: still waiting
    assert policy.state.phase == "rearm"
    policy.run([0.4])  # below rearm_threshold: ready again
    assert policy.state.phase == "ready"
    start = policy.now
    policy.run([0.9] * 11)
    assert policy.fired[1] == (round(start + 1.0, 2), "score")


def test_no_fire_during_cooldown_even_after_a_drop() -> None:
    policy = Policy()
    policy.run([0.9] * 11)  # fires at 1.0 s; burst to 1.5 s, cooldown to 4.5 s
    policy.run([0.3] * 5 + [0.9] * 20)  # drop and rise again, all inside the cooldown
    assert len(policy.fired) == 1
    policy.run([0.9] * 15)  # cooldown ended while high: hysteresis still holds it
    assert len(policy.fired) == 1


def test_disarmed_never_fires_by_itself_but_manual_does() -> None:
    policy = Policy()
    for _ in range(50):
        policy.frame(0.95, controls=DISARMED)
    assert policy.fired == []
    policy.frame(0.1, faces=0, controls=ControlState(False, 0.7, True))
    assert policy.fired == [(5.0, "manual")]


def test_manual_is_ignored_during_a_burst_but_allowed_in_cooldown() -> None:
    policy = Policy()
    policy.run([0.9] * 11)  # fired at 1.0, burst until 1.5
    policy.frame(0.9, controls=MANUAL)  # 1.1 s: inside the burst
    assert len(policy.fired) == 1
    policy.run([0.2] * 5)  # 1.2 .. 1.6: burst over, cooldown
    assert policy.state.phase == "cooldown"
    policy.frame(0.2, controls=MANUAL)
    assert policy.fired[-1][1] == "manual"


def test_threshold_comes_from_the_controls() -> None:
    policy = Policy()
    low = ControlState(armed=True, threshold=0.5, trigger_requested=False)
    for _ in range(11):
        policy.frame(0.6, controls=low)
    assert policy.fired == [(1.0, "score")]


def test_zero_hold_fires_on_the_first_good_frame() -> None:
    policy = Policy(TriggerConfig(hold_s=0.0, min_faces=1, rearm_threshold=0.5))
    policy.run([0.2, 0.9])
    assert policy.fired == [(0.1, "score")]


def test_a_frame_with_closed_eyes_never_fires_by_score() -> None:
    policy = Policy()
    for n in range(15):  # held from 0.0; frames 10-12 (1.0-1.2 s) have a face's eyes closed
        decision = step(policy.state, policy.now, 0.9, 2, ARMED, CONFIG, eyes_closed=10 <= n <= 12)
        policy.state = decision.state
        if decision.fire:
            policy.fired.append((round(policy.now, 2), decision.reason))
        policy.frames += 1
    assert policy.fired == [(1.3, "score")]  # the first open-eyed frame once held


def test_closed_eyes_do_not_block_when_switched_off() -> None:
    config = TriggerConfig(
        threshold=0.7, rearm_threshold=0.5, hold_s=1.0, min_faces=2, block_on_closed_eyes=False
    )
    state = TriggerState()
    fired = []
    for n in range(12):
        decision = step(state, n / FPS, 0.9, 2, ARMED, config, eyes_closed=True)
        state = decision.state
        fired += [n] if decision.fire else []
    assert fired == [10]


def test_the_burst_window_is_timed_once_where_step_leaves_it() -> None:
    """burst_open (what the loop asks) is true exactly while step() stays in the burst."""
    fired = step(TriggerState(), 1.0, 0.9, 2, MANUAL, CONFIG)
    assert fired.fire and burst_open(fired.state, 1.0, CONFIG)
    state = fired.state
    for n in range(1, 20):
        now = 1.0 + n / FPS
        state = step(state, now, 0.9, 2, ARMED, CONFIG).state
        assert burst_open(state, now, CONFIG) == (state.phase == "burst")
        assert (state.phase == "burst") == (n / FPS < CONFIG.burst_s - 1e-6)
    zero = TriggerConfig(burst_s=0.0)  # a burst of one frame: closed on the frame it fired
    assert not burst_open(step(TriggerState(), 0.0, 0.9, 2, MANUAL, zero).state, 0.0, zero)
