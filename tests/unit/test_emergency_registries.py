"""Registries on the in-memory store: plans with their drills and revision reminders, supplies
against their minimums (`emergency.supply.low` once per fall), forces with a private contact."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from emergency.registries.timers import reminder_event
from emergency.store import FORCE_HISTORY, FORCES, PLANS, SUPPLIES
from emergency.worker import WORKER
from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from tests.support.harness import Harness
from tests.support.samples import sample

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)
UNIT = "emergency-management"


def ev(kind: str, subject: str, **changes: Any) -> CloudEvent:
    return new_event(
        type=f"emergency.{kind}",
        source=f"/units/{UNIT}",
        subject=subject,
        time=NOW,
        data={**sample(f"emergency.{kind}", subject, UNIT), **changes},
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


def lows(h: Harness) -> list[int]:
    return [
        e.data["quantity"] for _, e in h.publisher.published if e.type == "emergency.supply.low"
    ]


async def test_a_supply_below_its_minimum_is_reported_low_once_per_fall(h: Harness) -> None:
    outcomes = await h.run(
        ev("supply.stocked", "S1", quantity=300),
        ev("supply.stocked", "S1", quantity=150),
        ev("supply.stocked", "S1", quantity=120),
        ev("supply.stocked", "S1", quantity=250),
        ev("supply.stocked", "S1", quantity=10),
    )
    assert outcomes == [Outcome.APPLIED] * 5
    assert lows(h) == [150, 10]
    assert h.doc(SUPPLIES, "S1")["status"] == "low"
    await h.run(*(e for _, e in h.publisher.published))
    counted = sample("emergency.supply.stocked", "S1")["counted_at"]
    assert h.doc(SUPPLIES, "S1")["low_since"].isoformat() == counted


async def test_a_plan_is_reminded_30_days_before_its_revision_and_on_the_day(h: Harness) -> None:
    await h.run(
        ev("plan.registered", "P1", revision_due_on="2027-01-29"),
        ev("plan.drilled", "P1", drilled_on="2026-06-15"),
    )
    doc = h.doc(PLANS, "P1")
    assert doc["reminder_days"] == ["2026-12-30", "2027-01-29"]
    assert doc["last_drill_on"] == "2026-06-15"
    assert reminder_event(doc, date(2026, 12, 29), NOW) is None
    early = reminder_event(doc, date(2026, 12, 30), NOW)
    due = reminder_event(doc, date(2027, 1, 29), NOW)
    assert early is not None
    assert due is not None
    assert (early.data["days_left"], due.data["days_left"]) == (30, 0)
    assert early.id != due.id
    again = reminder_event(doc, date(2026, 12, 30), NOW)
    assert again is not None
    assert again.id == early.id
    assert await h.run(early) == [Outcome.APPLIED]
    assert h.doc(PLANS, "P1")["last_reminder"]["days_left"] == 30


async def test_a_revised_plan_keeps_its_latest_drill_and_gets_new_reminders(h: Harness) -> None:
    await h.run(
        ev("plan.registered", "P1"),
        ev("plan.drilled", "P1", drilled_on="2026-06-15"),
        ev("plan.registered", "P1", revision_due_on="2029-05-01", last_drill_on="2025-01-01"),
    )
    doc = h.doc(PLANS, "P1")
    assert doc["last_drill_on"] == "2026-06-15"
    assert doc["reminder_days"][-1] == "2029-05-01"


async def test_a_force_keeps_its_contact_private_and_counts_its_call_ups(h: Harness) -> None:
    outcomes = await h.run(
        ev("force.registered", "F1"),
        ev("force.called_up", "F1"),
        ev("force.compensated", "F1"),
    )
    assert outcomes == [Outcome.APPLIED] * 3
    doc = h.doc(FORCES, "F1")
    assert "contact" not in doc
    assert doc["private"]["contact"] == "赵六 13800138000"
    assert (doc["call_ups"], doc["compensated_yuan"]) == (1, 12000)
    assert [r["kind"] for r in h.rows(FORCE_HISTORY, force_id="F1")] == ["called_up", "compensated"]


async def test_a_drill_of_an_unknown_plan_is_refused(h: Harness) -> None:
    assert await h.run(ev("plan.drilled", "NOPE")) == [Outcome.DEAD_LETTERED]
