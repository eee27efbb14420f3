"""The audit trail: the worker appends every record of its own topic about an aggregate, with
the receipt's outcome, each entry hash-chained to the one before; `verify` finds an entry
removed, added or altered. (The in-memory store; the real one in tests/e2e/test_replay.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fazhi.bus import audit
from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.store.projection import OWNERS, MemoryStore, Save
from supervision.store import TRAININGS
from supervision.worker import WORKER
from tests.support.harness import Harness
from tests.support.samples import sample

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)


def event(type_: str, subject: str, id_: str, unit: str = "justice", **extra: str) -> CloudEvent:
    made = new_event(
        type=type_,
        source=f"/units/{unit}",
        subject=subject,
        id=id_,
        time=NOW,
        data=sample(type_, subject, unit),
    )
    return made.model_copy(update=extra)


def trail(h: Harness, aggregate: str) -> list[dict[str, object]]:
    return h.rows(audit.AUDIT, aggregate=aggregate)


async def test_each_record_about_an_aggregate_is_chained_in_log_order() -> None:
    h = Harness(WORKER)
    first = event("supervision.training.recorded", "TR-1", "e1", keyid="k-7")
    # Refused: another unit's record of a training justice owns.
    again = event("supervision.training.recorded", "TR-1", "e2", unit="court", keyid="k-9")
    other = event("supervision.training.recorded", "TR-2", "e3")
    assert await h.run(first, again, other) == [
        Outcome.APPLIED,
        Outcome.DEAD_LETTERED,
        Outcome.APPLIED,
    ]
    await h.run(first)  # posted again: a duplicate of the applied event
    entries = trail(h, "TR-1")
    assert [(e["seq"], e["id"], e["outcome"]) for e in entries] == [
        (1, "e1", "applied"),
        (2, "e2", "dead_lettered"),
        (3, "e1", "duplicate"),
    ]
    assert entries[0]["key_id"] == "k-7"
    assert entries[0]["source"] == "/units/justice"
    assert (entries[0]["topic"], entries[0]["partition"], entries[0]["offset"]) == (
        "supervision.events",
        0,
        0,
    )
    assert entries[0]["prev"] == ""
    assert entries[1]["prev"] == entries[0]["hash"]
    head = h.doc(audit.AUDIT_HEADS, "TR-1")
    assert audit.verify("TR-1", entries, head) == []
    assert [e["seq"] for e in trail(h, "TR-2")] == [1]


async def test_a_replayed_batch_appends_nothing() -> None:
    h = Harness(WORKER)
    records = h.records(event("supervision.training.recorded", "TR-1", "e1"))
    await h.replay(records)
    await h.replay(records)  # the offsets were not committed: the same records again
    assert len(trail(h, "TR-1")) == 1


async def test_an_altered_removed_or_added_entry_is_found() -> None:
    h = Harness(WORKER)
    await h.run(*(event("supervision.training.recorded", "TR-1", f"e{i}") for i in range(3)))
    entries = trail(h, "TR-1")
    head = h.doc(audit.AUDIT_HEADS, "TR-1")
    assert len(entries) == 3
    assert audit.verify("TR-1", entries, head) == []

    altered = [dict(e) for e in entries]
    altered[1]["outcome"] = "applied" if altered[1]["outcome"] != "applied" else "ignored"
    (found,) = audit.verify("TR-1", altered, head)
    assert "entry 2" in found.problem
    assert "altered" in found.problem

    middle_gone = [entries[0], entries[2]]
    problems = [b.problem for b in audit.verify("TR-1", middle_gone, head)]
    assert any("one removed" in p for p in problems)
    assert any("does not follow" in p for p in problems)

    last_gone = entries[:2]
    (found,) = audit.verify("TR-1", last_gone, head)
    assert "head says 3 entries" in found.problem

    rehashed = [dict(e) for e in entries]
    rehashed[2]["key_id"] = "forged"
    rehashed[2]["hash"] = audit.entry_hash(rehashed[2])
    (found,) = audit.verify("TR-1", rehashed, head)
    assert "head says" in found.problem  # the head keeps the chain's end


async def test_an_event_twice_in_one_batch_is_settled_as_in_two_batches() -> None:
    """A derived event published by two workers (the same id) may reach a batch twice: its
    ledger entry and trail are what two batches would have made of it (here: ignored, as a
    type without a reaction is, then a duplicate)."""
    sent = event("supervision.training.recorded", "TR-1", "e1")
    one = Harness(WORKER, handlers={})
    assert await one.run(sent, sent) == [Outcome.IGNORED, Outcome.DUPLICATE]
    two = Harness(WORKER, handlers={})
    await two.run(sent)
    await two.run(sent)
    for h in (one, two):
        entry = h.ledger(sent)
        assert entry["outcome"] == "ignored"
        assert entry["duplicate"]["offset"] == 1
    assert [e["outcome"] for e in trail(one, "TR-1")] == ["ignored", "duplicate"]
    assert [e["outcome"] for e in trail(two, "TR-1")] == ["ignored", "duplicate"]


class CourtTakesTheTraining(MemoryStore):
    """Between the batch's load and its write, once, another writer records TR-1 for court."""

    raced = False

    async def commit(
        self, saves: Sequence[Save], rows: Sequence[tuple[str, Any]], **more: Any
    ) -> None:
        if not self.raced and any(s.collection == TRAININGS for s in saves):
            self.raced = True
            self.table(TRAININGS)["TR-1"] = {"_id": "TR-1", "_v": 1, OWNERS: ["court"]}
        await super().commit(saves, rows, **more)


async def test_an_entry_says_the_outcome_that_landed_when_its_first_try_did_not() -> None:
    store = CourtTakesTheTraining()
    h = Harness(WORKER, store=store)
    # The first try writes its entry (applied) and then finds the training taken; tried again,
    # justice's record is refused, and its entry says so.
    assert await h.run(event("supervision.training.recorded", "TR-1", "e1")) == [
        Outcome.DEAD_LETTERED
    ]
    entries = trail(h, "TR-1")
    assert [(e["seq"], e["id"], e["outcome"]) for e in entries] == [(1, "e1", "dead_lettered")]
    head = store.table(audit.AUDIT_HEADS)["TR-1"]
    assert audit.verify("TR-1", entries, head) == []
