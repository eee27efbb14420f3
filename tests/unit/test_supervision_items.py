"""Supervision items on the in-memory store: triggers of other services and of the plan open
items (through the derived `supervision.item.opened`), units rectify, supervisors accept or
reopen, and the deadline watcher's looks (pure) climb the ladder."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from supervision.domain import DEFAULT_LADDER
from supervision.items.flows import alert_item_id
from supervision.plan import load_plan
from supervision.store import FINDINGS, ITEM_HISTORY, ITEMS, TASK_HISTORY, TASKS, plan_documents
from supervision.watch import item_events, task_events
from supervision.worker import WORKER
from tests.support.harness import Harness

T0 = datetime(2026, 7, 20, 14, 0, tzinfo=CHINA_TZ)
UNIT = "emergency-management"


def alert(alert_id: str, level: str, **extra: Any) -> CloudEvent:
    references = extra.pop("references", [])
    return new_event(
        type="emergency.alert.issued",
        source=f"/units/{UNIT}",
        subject=references[0] if references else alert_id,
        time=T0,
        data={
            "alert_id": alert_id,
            "msg_type": extra.pop("msg_type", "alert"),
            "references": references,
            "level": level,
            "category": "气象",
            "headline": "暴雨预警",
            "description": "未来3小时将出现强降水",
            "area": "碑林区",
            "effective": T0.isoformat(),
            "expires": (T0 + timedelta(hours=6)).isoformat(),
            **extra,
        },
    )


def supervision_event(type_: str, subject: str, data: dict[str, Any], unit: str) -> CloudEvent:
    return new_event(
        type=type_, source=f"/units/{unit}", subject=subject, time=T0 + timedelta(days=1), data=data
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


def derived(h: Harness, type_: str) -> list[CloudEvent]:
    return [event for _, event in h.publisher.published if event.type == type_]


async def open_alert_item(h: Harness, level: str = "red") -> CloudEvent:
    trigger = alert("A1", level)
    assert await h.run(trigger) == [Outcome.APPLIED]
    (event,) = derived(h, "supervision.item.opened")
    assert await h.run(event) == [Outcome.APPLIED]
    return trigger


async def test_a_red_alert_opens_an_item_through_a_derived_event(h: Harness) -> None:
    trigger = await open_alert_item(h)
    (event,) = derived(h, "supervision.item.opened")
    assert event.subject == "alert-A1"
    assert (event.data["level"], event.data["escalation"]) == ("red", "supervise")
    assert event.data["source_event_id"] == trigger.id
    item = h.doc(ITEMS, "alert-A1")
    assert (item["kind"], item["status"], item["owner_units"]) == ("alert", "open", [UNIT])
    assert item["source_event_ids"] == [trigger.id]
    assert item["escalate_day"] == (event.time.date() + timedelta(days=30)).isoformat()


async def test_a_new_item_shows_with_its_trigger_and_its_own_record_changes_nothing(
    h: Harness,
) -> None:
    trigger = alert("A1", "red")
    # The trigger's offset is in another topic's partition, far past the item's records.
    (record,) = h.records(trigger)
    assert await h.replay([dataclasses.replace(record, offset=10_000)]) == [Outcome.APPLIED]
    item = dict(h.doc(ITEMS, "alert-A1"))  # before its item.opened is consumed
    assert (item["status"], item["level"]) == ("open", "red")
    assert item["source_event_ids"] == [trigger.id]
    (opened,) = derived(h, "supervision.item.opened")
    # Opened when Kafka took the trigger: the same event whenever the trigger is replayed.
    assert opened.time == record.time
    assert item["opened_at"] == opened.time
    assert await h.run(opened) == [Outcome.APPLIED]
    after = h.doc(ITEMS, "alert-A1")
    assert {k: v for k, v in after.items() if not k.startswith("_")} == {
        k: v for k, v in item.items() if not k.startswith("_")
    }
    history = h.rows(ITEM_HISTORY, item_id="alert-A1")
    assert [(row["change"], row["event_id"]) for row in history] == [("opened", opened.id)]
    # The item's later changes come after its opening in its history.
    await h.run(alert("A3", "red", msg_type="cancel", references=["A1"]))
    await h.run(derived(h, "supervision.item.closed")[0])
    changes = [row["change"] for row in h.rows(ITEM_HISTORY, item_id="alert-A1")]
    assert changes == ["opened", "closed"]


async def test_a_replayed_alert_derives_the_same_event_id(h: Harness) -> None:
    records = h.records(alert("A1", "orange"))
    await h.replay(records)
    h.store.collections.clear()  # as if the batch had not been written before a crash
    await h.replay(records)
    first, again = derived(h, "supervision.item.opened")
    assert first.id == again.id


@pytest.mark.parametrize(
    "event",
    [
        alert("A1", "yellow"),
        alert("A1", "blue"),
        alert("A1", "red", status="exercise"),
        alert("A2", "red", msg_type="cancel", references=["A1"]),
    ],
)
async def test_lesser_alerts_drills_and_cancels_of_unknown_chains_open_nothing(
    h: Harness, event: CloudEvent
) -> None:
    assert await h.run(event) == [Outcome.APPLIED]
    assert h.publisher.published == []


async def test_an_update_of_the_chain_is_linked_to_its_item_and_a_cancel_closes_it(
    h: Harness,
) -> None:
    first = await open_alert_item(h, "orange")
    update = alert("A2", "red", msg_type="update", references=["A1"])
    await h.run(update)
    await h.run(derived(h, "supervision.item.opened")[-1])
    item = h.doc(ITEMS, "alert-A1")
    assert item["source_event_ids"] == [first.id, update.id]
    assert item["level"] == "red"  # the graver colour
    await h.run(alert("A3", "red", msg_type="cancel", references=["A1"]))
    (closed,) = derived(h, "supervision.item.closed")
    assert await h.run(closed) == [Outcome.APPLIED]
    assert h.doc(ITEMS, "alert-A1")["status"] == "closed"
    changes = [r["change"] for r in h.rows(ITEM_HISTORY, item_id="alert-A1")]
    assert changes == ["opened", "linked", "closed"]


async def test_the_unit_rectifies_and_a_supervisor_reopens_then_accepts(h: Harness) -> None:
    await open_alert_item(h)
    rectified = supervision_event(
        "supervision.item.rectified",
        "alert-A1",
        {"item_id": "alert-A1", "unit": UNIT, "rectified_at": T0.isoformat(), "note": "已整改"},
        UNIT,
    )
    reopened = supervision_event(
        "supervision.item.reopened",
        "alert-A1",
        {"item_id": "alert-A1", "reopened_at": T0.isoformat(), "reason": "整改不到位"},
        "gov-office",
    )
    accepted = supervision_event(
        "supervision.item.accepted",
        "alert-A1",
        {"item_id": "alert-A1", "accepted_at": T0.isoformat()},
        "gov-office",
    )
    again = rectified.model_copy(update={"id": "again"})
    outcomes = await h.run(
        accepted, rectified, reopened, again, accepted.model_copy(update={"id": "a2"})
    )
    assert outcomes[0] is Outcome.DEAD_LETTERED  # nothing to accept while it is open
    assert outcomes[1:] == [Outcome.APPLIED] * 4
    item = h.doc(ITEMS, "alert-A1")
    assert item["status"] == "closed"
    assert item["escalate_day"] is None
    assert [r["change"] for r in h.rows(ITEM_HISTORY, item_id="alert-A1")] == [
        "opened",
        "rectified",
        "open",
        "rectified",
        "closed",
    ]


async def test_another_unit_may_not_report_rectification(h: Harness) -> None:
    await open_alert_item(h)
    event = supervision_event(
        "supervision.item.rectified",
        "alert-A1",
        {"item_id": "alert-A1", "unit": "justice", "rectified_at": T0.isoformat(), "note": "x"},
        "justice",
    )
    assert await h.run(event) == [Outcome.DEAD_LETTERED]
    assert "does not own" in h.errors[0]


async def test_a_finding_opens_a_rectification_item_for_the_unit_it_names(h: Harness) -> None:
    finding = supervision_event(
        "supervision.finding.recorded",
        "F1",
        {
            "finding_id": "F1",
            "target_unit": "market-regulation",
            "title": "执法公示不及时",
            "level": "yellow",
            "due_date": "2026-08-31",
            "recorded_at": T0.isoformat(),
        },
        "gov-office",
    )
    assert await h.run(finding) == [Outcome.APPLIED]
    assert h.doc(FINDINGS, "F1")["item_id"] == "finding-F1"
    (opened,) = derived(h, "supervision.item.opened")
    await h.run(opened)
    item = h.doc(ITEMS, "finding-F1")
    assert (item["kind"], item["unit"], item["level"]) == (
        "inspection_finding",
        "market-regulation",
        "yellow",
    )
    assert item["due_at"].date() == date(2026, 8, 31)
    assert item["source_event_ids"] == [finding.id]


def plan_harness() -> Harness:
    h = Harness(WORKER)
    for doc_id, fields in plan_documents(load_plan()):
        h.store.table(TASKS)[doc_id] = {"_id": doc_id, **fields, "status": "not_started"}
    return h


async def test_an_overdue_milestone_marks_its_measure_and_opens_an_item_that_climbs_at_once() -> (
    None
):
    h = plan_harness()
    today = date(2026, 11, 30)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)
    (overdue,) = task_events(h.doc(TASKS, "M18-D2"), today, now)
    assert (overdue.type, overdue.data["days_overdue"]) == ("supervision.task.overdue", 334)
    (record,) = h.records(overdue)  # Kafka took it at `now`, when the watch published it
    assert await h.replay([dataclasses.replace(record, time=now)]) == [Outcome.APPLIED]
    milestone, measure = h.doc(TASKS, "M18-D2"), h.doc(TASKS, "M18")
    assert (milestone["overdue"], milestone["watch_day"]) == (True, "2026-12-01")
    assert (measure["overdue"], measure["days_overdue"]) == (True, 334)
    assert [r["task_id"] for r in h.rows(TASK_HISTORY)] == ["M18-D2", "M18"]
    (opened,) = derived(h, "supervision.item.opened")
    assert opened.data["ladder_from"] == "2026-01-01"
    assert opened.time == now
    await h.run(opened)
    item = h.doc(ITEMS, "task-M18-D2")
    assert (item["kind"], item["escalate_day"]) == ("task_overdue", "2026-11-30")
    steps = item_events(item, today, now, DEFAULT_LADDER)
    assert [e.data["escalation"] for e in steps] == ["interview", "public_notice"]
    assert await h.run(*steps) == [Outcome.APPLIED, Outcome.APPLIED]
    item = h.doc(ITEMS, "task-M18-D2")
    assert (item["escalation"], item["escalate_day"]) == ("public_notice", None)
    # The same look again derives the same ids: nothing is doubled.
    assert [
        e.id for e in item_events({**item, "escalation": "supervise"}, today, now, DEFAULT_LADDER)
    ] == [e.id for e in steps]


async def test_completing_the_milestone_closes_its_item_and_rolls_the_measure_up() -> None:
    h = plan_harness()
    now = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)
    (overdue,) = task_events(h.doc(TASKS, "M10-D1"), now.date(), now)
    await h.run(overdue)
    await h.run(derived(h, "supervision.item.opened")[0])
    unit = h.doc(TASKS, "M10-D1")["unit"]
    done = new_event(
        type="supervision.task.completed",
        source=f"/units/{unit}",
        subject="M10-D1",
        time=now,
        data={
            "task_id": "M10-D1",
            "unit": unit,
            "completed_at": now.isoformat(),
            "evidence": "平台已上线",
        },
    )
    assert await h.run(done) == [Outcome.APPLIED]
    (closed,) = derived(h, "supervision.item.closed")
    await h.run(closed)
    assert h.doc(ITEMS, "task-M10-D1")["status"] == "closed"
    measure = h.doc(TASKS, "M10")
    children = len(measure["children"])
    assert measure["progress_pct"] == round(100 / children, 1)
    assert measure["status"] == "in_progress"
    assert h.doc(TASKS, "M10-D1")["watch_day"] is None
    assert task_events(h.doc(TASKS, "M10-D1"), now.date(), now) == []


def test_the_watcher_reminds_14_and_3_days_before_with_ids_per_day() -> None:
    doc = {
        "_id": "X-D1",
        "kind": "milestone",
        "unit": "justice",
        "due_at": datetime(2026, 12, 31, 23, 59, 59, tzinfo=CHINA_TZ),
    }
    now = datetime(2026, 12, 17, 0, 1, tzinfo=CHINA_TZ)
    (remind,) = task_events(doc, now.date(), now)
    assert (remind.type, remind.data["days_left"]) == ("supervision.task.due_soon", 14)
    (again,) = task_events(doc, now.date(), now + timedelta(hours=3))
    assert again.id == remind.id
    (three,) = task_events(doc, date(2026, 12, 28), now)
    assert three.data["days_left"] == 3
    assert three.id != remind.id


def test_an_alert_id_too_long_for_an_item_id_gets_a_derived_one() -> None:
    long_id = "A" * 128
    item_id = alert_item_id(long_id)
    assert len(item_id) <= 128
    assert item_id == alert_item_id(long_id)
    assert alert_item_id("A1") == "alert-A1"
