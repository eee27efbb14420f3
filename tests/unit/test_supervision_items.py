"""Supervision items on the in-memory store: an actual orange or red alert of the emergency
service opens one (through the derived `supervision.item.opened`), and items follow the items
machine of the domain."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from fazhi.consumer import Outcome
from fazhi.envelope import CHINA_TZ, CloudEvent, new_event
from supervision.items.flows import alert_item_id
from supervision.store import ITEM_HISTORY, ITEMS
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


def item_event(kind: str, item_id: str, level: str, **extra: Any) -> CloudEvent:
    return new_event(
        type=f"supervision.item.{kind}",
        source=f"/units/{UNIT}",
        subject=item_id,
        time=T0 + timedelta(days=30),
        data={"item_id": item_id, "kind": "alert", "unit": UNIT, "level": level, **extra},
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


def opened(h: Harness) -> list[CloudEvent]:
    return [event for _, event in h.publisher.published if event.type == "supervision.item.opened"]


async def test_a_red_alert_opens_an_item_through_a_derived_event(h: Harness) -> None:
    assert await h.run(alert("A1", "red")) == [Outcome.APPLIED]
    (event,) = opened(h)
    assert event.subject == "alert-A1"
    assert event.data["unit"] == UNIT
    assert event.data["level"] == "supervise"
    assert await h.run(event) == [Outcome.APPLIED]
    item = h.doc(ITEMS, "alert-A1")
    assert (item["kind"], item["status"], item["owner_units"]) == ("alert", "opened", [UNIT])


async def test_a_replayed_alert_derives_the_same_event_id(h: Harness) -> None:
    records = h.records(alert("A1", "orange"))
    await h.replay(records)
    h.store.collections.clear()  # as if the batch had not been written before a crash
    await h.replay(records)
    first, again = opened(h)
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
async def test_lesser_alerts_drills_and_cancels_open_nothing(h: Harness, event: CloudEvent) -> None:
    assert await h.run(event) == [Outcome.APPLIED]
    assert opened(h) == []


async def test_an_item_climbs_the_ladder_and_closes_with_a_resolution(h: Harness) -> None:
    outcomes = await h.run(
        item_event("opened", "I1", "supervise"),
        item_event("escalated", "I1", "interview"),
        item_event("escalated", "I1", "supervise"),
        item_event("closed", "I1", "interview"),
        item_event("closed", "I1", "interview", resolution="整改到位，验收通过"),
    )
    assert outcomes == [
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.DEAD_LETTERED,
        Outcome.DEAD_LETTERED,
        Outcome.APPLIED,
    ]
    assert "escalation never goes down" in h.errors[0]
    assert "closing needs a resolution" in h.errors[1]
    item = h.doc(ITEMS, "I1")
    assert (item["level"], item["status"]) == ("interview", "closed")
    assert [r["status"] for r in h.rows(ITEM_HISTORY, item_id="I1")] == [
        "opened",
        "escalated",
        "closed",
    ]


def test_an_alert_id_too_long_for_an_item_id_gets_a_derived_one() -> None:
    long_id = "A" * 128
    item_id = alert_item_id(long_id)
    assert len(item_id) <= 128
    assert item_id == alert_item_id(long_id)
    assert alert_item_id("A1") == "alert-A1"
