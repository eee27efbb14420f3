"""The batched projection, against the in-memory store: each event applied exactly once, in
order, with bounded documents, whatever is replayed, re-posted, refused or interrupted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, OperationFailure

from fazhi.bus.batch import Handler
from fazhi.bus.consumer import until_applied
from fazhi.bus.publisher import PublishError
from fazhi.bus.records import Outcome, Record
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.store.connect import store_unavailable
from fazhi.store.projection import LEDGER, ConflictError, MemoryStore, Save
from supervision.events import CATALOG
from supervision.store import TASK_HISTORY, TASKS
from supervision.worker import WORKER
from tests.support.harness import Harness as SharedHarness

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=CHINA_TZ)
TOPIC = CATALOG.topic


def report(task_id: str, pct: int, *, unit: str = "justice", **kw: Any) -> CloudEvent:
    return new_event(
        type="supervision.task.progress_reported",
        source=f"/units/{unit}",
        subject=task_id,
        time=T0,
        data={
            "task_id": task_id,
            "unit": unit,
            "progress_pct": pct,
            "note": "进展顺利",
            "reported_at": T0.isoformat(),
        },
        **kw,
    )


def complete(task_id: str, *, unit: str = "justice") -> CloudEvent:
    return new_event(
        type="supervision.task.completed",
        source=f"/units/{unit}",
        subject=task_id,
        time=T0,
        data={
            "task_id": task_id,
            "unit": unit,
            "completed_at": (T0 + timedelta(days=1)).isoformat(),
            "evidence": "验收报告",
        },
    )


class Harness(SharedHarness):
    """The supervision worker's handlers on the in-memory store."""

    def __init__(
        self, store: MemoryStore | None = None, handlers: dict[str, Handler] | None = None
    ) -> None:
        super().__init__(WORKER, store, handlers)

    def task(self, task_id: str) -> dict[str, Any]:
        return self.doc(TASKS, task_id)

    def history(self, task_id: str) -> list[str]:
        return [row["event_id"] for row in self.rows(TASK_HISTORY, task_id=task_id)]


async def test_events_of_one_task_in_a_batch_are_folded_in_order() -> None:
    h = Harness()
    events = [report("T1", pct) for pct in (10, 20, 30)]
    assert await h.replay(h.records(*events)) == [Outcome.APPLIED] * 3
    assert h.task("T1")["progress_pct"] == 30
    assert h.task("T1")["_v"] == 1, "one batch, one write"
    assert h.history("T1") == [e.id for e in events]
    assert {h.ledger(e)["outcome"] for e in events} == {"applied"}


async def test_a_replayed_batch_changes_nothing() -> None:
    h = Harness()
    records = h.records(report("T1", 10), report("T1", 20))
    await h.replay(records)
    before = json.dumps(h.store.collections, default=str, sort_keys=True)
    assert await h.replay(records) == [Outcome.DUPLICATE] * 2
    assert json.dumps(h.store.collections, default=str, sort_keys=True) == before


async def test_an_event_posted_twice_is_applied_once() -> None:
    h = Harness()
    event = report("T1", 40)
    await h.replay(h.records(event))
    assert await h.replay(h.records(event, report("T1", 50))) == [
        Outcome.DUPLICATE,
        Outcome.APPLIED,
    ]
    assert h.history("T1")[0] == event.id
    assert len(h.history("T1")) == 2


async def test_an_event_posted_twice_in_one_batch_is_applied_once() -> None:
    h = Harness()
    event = report("T1", 40)
    assert await h.replay(h.records(event, event)) == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert h.history("T1") == [event.id]


async def test_a_crash_before_the_write_replays_the_batch_without_loss_or_doubles() -> None:
    h = Harness()
    h.store.fail_next_commit = AutoReconnect("mongodb went away")
    events = [report("T1", 10), report("T2", 20), report("T1", 30)]
    assert await h.replay(h.records(*events)) == [Outcome.APPLIED] * 3
    assert h.history("T1") == [events[0].id, events[2].id]
    assert h.history("T2") == [events[1].id]
    assert h.task("T1")["progress_pct"] == 30


@pytest.mark.parametrize(
    "away",
    [
        # FerretDB whose PostgreSQL is restarting (an InternalError, not a network error)
        OperationFailure(
            "[msg_insert.go:168 handler.(*Handler).MsgInsert] FATAL: terminating connection due "
            "to administrator command (SQLSTATE 57P01)",
            code=1,
        ),
        OperationFailure(
            "failed to connect to `user=postgres database=ferretdb`: connection refused", code=1
        ),
        # FerretDB itself stopping (it cancels the queries in flight)
        OperationFailure(
            "[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:109 "
            "postgresql.(*collection).Query] context canceled",
            code=1,
        ),
        OperationFailure("interrupted at shutdown", code=11600),
        PublishError("Kafka did not acknowledge supervision.events: TimeoutError()"),
    ],
)
async def test_a_store_or_broker_away_is_waited_for_never_blamed_on_the_record(
    away: Exception,
) -> None:
    h = Harness()
    h.store.fail_next_commit = away
    events = [report("T1", 10), report("T2", 20)]
    assert await h.replay(h.records(*events)) == [Outcome.APPLIED] * 2
    assert h.letters == []
    assert h.history("T1") == [events[0].id]


async def test_a_batch_that_raises_what_is_not_known_is_applied_again_never_skipped() -> None:
    """What escapes the processor (here a server error not known as the store away) must not
    let the worker go on past the batch: it is logged and applied again until it applies."""
    h = Harness()
    h.store.fail_next_commit = OperationFailure("context deadline exceeded", code=1)
    events = [report("T1", 10), report("T2", 20)]
    records = h.records(*events)
    with pytest.raises(OperationFailure):
        await h.replay(records)
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)

    h.store.fail_next_commit = OperationFailure("context deadline exceeded", code=1)
    outcomes = await until_applied(
        partial(h.processor.process_batch, records), what="test", backoff_s=0.2, sleep=sleep
    )
    assert outcomes == [Outcome.APPLIED] * 2
    assert waits == [0.2], "tried again once, after a pause"
    assert h.letters == []
    assert h.history("T1") == [events[0].id]
    assert h.history("T2") == [events[1].id]


def test_a_failure_of_the_request_itself_is_not_the_store_away() -> None:
    assert not store_unavailable(OperationFailure("E11000 duplicate key error", code=11000))
    assert not store_unavailable(OperationFailure("some internal error", code=1))
    assert not store_unavailable(ValueError("bad data"))


async def test_a_record_replayed_after_its_aggregate_took_it_is_a_no_op() -> None:
    # The write landed, the offsets were not committed: the same records come again, and the
    # ledger (still pending from the interrupted batch) points at the very same records.
    h = Harness()
    records = h.records(report("T1", 10))
    await h.replay(records)
    for entry in h.store.table(LEDGER).values():
        entry["outcome"] = "pending"
    assert await h.replay(records) == [Outcome.DUPLICATE]
    assert len(h.history("T1")) == 1
    assert h.store.table(LEDGER)[report_key(records[0])]["outcome"] == "applied"


def report_key(record: Record) -> str:
    assert record.value is not None
    body = json.loads(record.value)
    return f"{body['source']} {body['id']}"


async def test_poison_goes_to_the_dlq_alone_and_the_batch_is_applied() -> None:
    h = Harness()
    bad = report("T1", 50)
    bad_body = json.loads(bad.to_bytes())
    bad_body["data"]["progress_pct"] = 500
    good = report("T1", 77)
    outcomes = await h.run(b'{"not json', json.dumps(bad_body).encode(), good, report("T2", 5))
    assert outcomes == [
        Outcome.DEAD_LETTERED,
        Outcome.DEAD_LETTERED,
        Outcome.APPLIED,
        Outcome.APPLIED,
    ]
    assert [letter.record.offset for letter in h.letters] == [0, 1]
    assert "not a CloudEvent" in h.letters[0].error
    assert "progress_pct" in h.letters[1].error
    assert h.history("T1") == [good.id]
    assert h.ledger(bad)["outcome"] == "dead_lettered"


async def test_a_dead_lettered_event_may_come_back_corrected_with_the_same_id() -> None:
    h = Harness()
    first = report("T1", 60, unit="justice")
    await h.replay(h.records(first))
    foreign = report("T1", 10, unit="audit")
    await h.replay(h.records(foreign))
    assert "does not own" in h.letters[0].error
    corrected = report("T9", 10, unit="audit", id=foreign.id)
    assert await h.replay(h.records(corrected)) == [Outcome.APPLIED]
    assert h.ledger(corrected)["outcome"] == "applied"
    assert h.task("T9")["owner_units"] == ["audit"]


async def test_the_domain_refuses_a_report_on_a_completed_task_with_its_reason() -> None:
    h = Harness()
    await h.replay(h.records(complete("T1")))
    outcomes = await h.replay(h.records(report("T1", 20), report("T2", 20)))
    assert outcomes == [Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert "cannot report_progress" in h.letters[0].error
    assert h.task("T1")["status"] == "completed"
    assert h.task("T1")["progress_pct"] == 100


async def test_a_refused_event_leaves_no_trace_of_its_handler() -> None:
    h = Harness()
    outcomes = await h.replay(h.records(complete("T1"), report("T1", 20), report("T1", 30)))
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED, Outcome.DEAD_LETTERED]
    assert len(h.history("T1")) == 1


async def test_a_handler_bug_is_retried_then_dead_lettered() -> None:
    calls = 0

    async def flaky(ctx: Any, data: Any) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    h = Harness(handlers={"supervision.task.progress_reported": flaky})
    assert await h.replay(h.records(report("T1", 5))) == [Outcome.DEAD_LETTERED]
    assert calls == 3
    assert h.letters[0].attempts == 3
    assert "T1" not in h.store.table(TASKS)


async def test_types_without_a_handler_are_ignored_and_remembered() -> None:
    h = Harness(handlers={})
    event = report("T1", 5)
    assert await h.replay(h.records(event)) == [Outcome.IGNORED]
    assert h.ledger(event)["outcome"] == "ignored"


class RacingStore(MemoryStore):
    """Another writer saves a task between the batch's load and its write, once."""

    raced = False

    async def commit(
        self, saves: Sequence[Save], rows: Sequence[tuple[str, Any]], **more: Any
    ) -> None:
        if not self.raced and saves:
            self.raced = True
            doc = self.table(TASKS).setdefault("T1", {"_id": "T1", "_v": 0})
            doc["_v"] = doc.get("_v", 0) + 1
            doc["title"] = "set by the plan loader"
        await super().commit(saves, rows, **more)


async def test_a_conflicting_writer_makes_the_batch_apply_again_on_fresh_documents() -> None:
    h = Harness(store=RacingStore())
    events = [report("T1", 10), report("T1", 20)]
    assert await h.replay(h.records(*events)) == [Outcome.APPLIED] * 2
    assert h.task("T1")["title"] == "set by the plan loader"
    assert h.task("T1")["progress_pct"] == 20
    assert h.history("T1") == [e.id for e in events]


async def test_the_store_refuses_a_save_on_a_stale_version() -> None:
    store = MemoryStore()
    await store.commit([Save(TASKS, {"_id": "T1", "_v": 1}, None)], [])
    with pytest.raises(ConflictError):
        await store.commit([Save(TASKS, {"_id": "T1", "_v": 1}, None)], [])
    with pytest.raises(ConflictError):
        await store.commit([Save(TASKS, {"_id": "T1", "_v": 1}, 0)], [])


async def test_a_task_document_stays_the_same_size_however_many_reports_it_gets() -> None:
    h = Harness()
    await h.replay(h.records(report("T1", 1)))
    size_after_one = len(json.dumps(h.task("T1"), default=str))
    for chunk in range(5):
        await h.replay(h.records(*(report("T1", (chunk * 50 + i) % 100) for i in range(50))))
    assert len(h.history("T1")) == 251
    assert len(json.dumps(h.task("T1"), default=str)) <= size_after_one + 10


async def test_records_of_another_partition_are_tracked_apart() -> None:
    h = Harness()
    await h.replay(h.records(report("T1", 10), partition=0))
    # Offset 0 again, but of partition 3: not a replay.
    records = [Record(TOPIC, 3, 0, b"k", report("T1", 20).to_bytes())]
    assert await h.replay(records) == [Outcome.APPLIED]
    assert h.task("T1")["progress_pct"] == 20
