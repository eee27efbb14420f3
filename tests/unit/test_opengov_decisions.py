"""Major decisions 重大行政决策 on the in-memory store: the catalogue with every change kept, the
procedure steps with their minimum periods, adoption."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from open_government.store import DECISION_HISTORY, DECISIONS
from open_government.worker import WORKER
from tests.support.harness import Harness

AT = datetime(2026, 2, 1, 10, 0, tzinfo=CHINA_TZ)


def decision(kind: str, **data: Any) -> CloudEvent:
    return new_event(
        type=f"opengov.decision.{kind}",
        source="/units/gov-office",
        subject="MD-1",
        time=AT,
        data={"decision_id": "MD-1", "unit": "gov-office", **data},
    )


def listed(title: str = "老旧小区改造三年行动计划", year: int = 2026) -> CloudEvent:
    return decision("listed", year=year, title=title, listed_at=AT.isoformat())


def step(name: str, status: str, started: str | None, ended: str | None) -> CloudEvent:
    return decision(
        "step_recorded",
        step=name,
        status=status,
        started_on=started,
        ended_on=ended,
        recorded_at=AT.isoformat(),
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


async def test_the_catalogue_keeps_every_adjustment(h: Harness) -> None:
    await h.run(listed(), listed(title="老旧小区改造五年行动计划"))
    doc = h.doc(DECISIONS, "MD-1")
    assert (doc["status"], doc["title"]) == ("listed", "老旧小区改造五年行动计划")
    changes = h.rows(DECISION_HISTORY, decision_id="MD-1")
    assert [c["change"] for c in changes] == ["listed", "adjusted"]
    assert changes[1]["was"] == {"title": "老旧小区改造三年行动计划"}


async def test_public_comment_runs_at_least_thirty_days(h: Harness) -> None:
    outcomes = await h.run(
        listed(),
        step("public_comment", "done", "2026-03-01", "2026-03-20"),
        step("public_comment", "done", "2026-03-01", "2026-03-31"),
    )
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert "may not end before 2026-03-31" in h.letters[0].error
    doc = h.doc(DECISIONS, "MD-1")
    assert doc["steps"]["public_comment"]["status"] == "done"
    assert doc["missing_steps"] == ["legality_review", "collective_discussion"]


async def test_a_withdrawn_decision_takes_no_steps_and_is_not_adopted(h: Harness) -> None:
    outcomes = await h.run(
        listed(),
        decision("withdrawn", reason="上级政策调整", withdrawn_at=AT.isoformat()),
        step("hearing", "done", "2026-03-01", "2026-03-01"),
        decision("adopted", year=2026, title="老旧小区改造", adopted_at=AT.isoformat()),
    )
    assert outcomes == [Outcome.APPLIED] * 2 + [Outcome.DEAD_LETTERED] * 2
    assert h.doc(DECISIONS, "MD-1")["status"] == "withdrawn"
