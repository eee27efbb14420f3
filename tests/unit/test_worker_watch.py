"""A worker's liveness: what counts as stuck (restarting would help) and what does not."""

from __future__ import annotations

from types import SimpleNamespace

from fazhi.bus.workerwatch import HEARTBEAT_S, WorkerWatch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(topic: str, partition: int, offset: int) -> SimpleNamespace:
    return SimpleNamespace(message=SimpleNamespace(topic=topic, partition=partition, offset=offset))


def watch() -> tuple[WorkerWatch, Clock]:
    clock = Clock()
    w = WorkerWatch(stuck_after_s=300, loop_late_s=5, clock=clock)
    w.last_beat = w.last_record_at = clock.now
    w.started()
    return w, clock


def test_a_late_heartbeat_means_the_loop_was_held() -> None:
    w, clock = watch()
    w.last_beat = None
    clock.now += 60
    assert w.loop_late() == 0, "not started yet: not late"
    w.last_beat = clock.now
    clock.now += HEARTBEAT_S + 0.5
    assert w.loop_late() == 0.5
    clock.now += 10
    assert w.loop_late() > w.loop_late_s


def test_a_batch_in_hand_too_long_is_stuck_and_a_finished_one_is_not() -> None:
    w, clock = watch()
    w.begin()
    clock.now += 299
    assert w.batch_stuck() == 0
    clock.now += 2
    assert w.batch_stuck() == 301
    w.done([event("t", 0, 41)])
    assert w.batch_stuck() == 0


def test_records_waiting_with_nothing_read_for_too_long_is_a_stuck_consumer() -> None:
    w, clock = watch()
    w.begin()
    w.done([event("t", 0, 41), event("t", 1, 7)])
    ends = {("t", 0): 42, ("t", 1): 9, ("t", 2): 100}
    clock.now += 60
    assert w.waiting(ends) == [], "records wait, but only for a minute"
    clock.now += 300
    assert w.waiting(ends) == ["t/1"], "partition 1 has offset 8 unread; 2 was never read"
    assert w.waiting({("t", 0): 42, ("t", 1): 8}) == [], "an idle worker that read all is alive"
