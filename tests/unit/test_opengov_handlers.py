"""The open-government worker runs each disclosure request on its machine and keeps its reply
clock: what the machine allows is projected, what it refuses is dead-lettered with the reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, derived_id, new_event
from open_government.store import DECISIONS, PRIVATE, REQUEST_HISTORY, REQUESTS
from open_government.worker import WORKER
from tests.support.harness import Harness

RECEIVED = datetime(2026, 9, 25, 10, 0, tzinfo=CHINA_TZ)  # the README's worked example


def _event(kind: str, request_id: str, data: dict[str, Any]) -> CloudEvent:
    return new_event(
        type=f"opengov.request.{kind}",
        source="/units/gov-office",
        subject=request_id,
        time=RECEIVED,
        data={"request_id": request_id, **data},
    )


def received(request_id: str) -> CloudEvent:
    return _event(
        "received",
        request_id,
        {
            "applicant": {
                "name": "李四",
                "id_number": "610103198503021234",
                "phone": "13991234567",
            },
            "content": "李四申请公开2026年度重大行政决策事项目录",
            "channel": "online",
            "received_at": RECEIVED.isoformat(),
        },
    )


def answered(request_id: str, answer_type: str, days: int = 10, **extra: Any) -> CloudEvent:
    at = RECEIVED + timedelta(days=days)
    return _event(
        "answered", request_id, {"answer_type": answer_type, "answered_at": at.isoformat(), **extra}
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


async def test_a_request_carries_its_reply_due_date_across_the_holidays(h: Harness) -> None:
    assert await h.run(received("R1")) == [Outcome.APPLIED]
    request = h.doc(REQUESTS, "R1")
    assert request["status"] == "received"
    assert request["due_date"] == "2026-10-29"
    assert request["provisional"] is False
    assert "李四" not in request["content"]
    assert request[PRIVATE]["applicant"]["name"] == "李四"


async def test_an_answer_in_time_is_recorded_as_on_time(h: Harness) -> None:
    assert await h.run(received("R1"), answered("R1", "disclosed")) == [Outcome.APPLIED] * 2
    request = h.doc(REQUESTS, "R1")
    assert request["status"] == "answered"
    assert request["answered_on_time"] is True


async def test_a_late_answer_is_recorded_as_late(h: Harness) -> None:
    await h.run(received("R1"), answered("R1", "disclosed", days=40))
    assert h.doc(REQUESTS, "R1")["answered_on_time"] is False


async def test_a_refusal_without_its_reason_is_dead_lettered(h: Harness) -> None:
    outcomes = await h.run(received("R1"), answered("R1", "not_disclosed"))
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "must give its reason" in h.errors[0]
    assert h.doc(REQUESTS, "R1")["status"] == "received"


async def test_a_request_is_answered_once(h: Harness) -> None:
    outcomes = await h.run(
        received("R1"), answered("R1", "disclosed"), answered("R1", "not_held", days=12)
    )
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "disclosure request in state 'answered' cannot answer" in h.errors[0]
    assert h.doc(REQUESTS, "R1")["answer_type"] == "disclosed"


def overdue(request_id: str, due_date: str, days: int = 1) -> CloudEvent:
    return _event(
        "overdue", request_id, {"unit": "gov-office", "due_date": due_date, "days_overdue": days}
    )


async def test_an_overdue_request_is_marked_overdue(h: Harness) -> None:
    await h.run(received("R1"), overdue("R1", "2026-10-29", days=3))
    request = h.doc(REQUESTS, "R1")
    assert request["overdue"] is True
    assert request["days_overdue"] == 3


async def test_overdue_for_a_due_date_that_moved_or_an_answered_request_changes_nothing(
    h: Harness,
) -> None:
    await h.run(received("R1"), overdue("R1", "2026-10-20"))
    await h.run(received("R2"), answered("R2", "disclosed"), overdue("R2", "2026-10-29"))
    assert "overdue" not in h.doc(REQUESTS, "R1")
    assert "overdue" not in h.doc(REQUESTS, "R2")


def _decision(kind: str, data: dict[str, Any]) -> CloudEvent:
    return new_event(
        type=f"opengov.decision.{kind}",
        source="/units/gov-office",
        subject="MD-2026-01",
        time=RECEIVED,
        data={"decision_id": "MD-2026-01", "unit": "gov-office", **data},
    )


async def test_a_decision_is_adopted_then_evaluated(h: Harness) -> None:
    adopted = _decision(
        "adopted",
        {"year": 2026, "title": "老旧小区改造三年行动计划", "adopted_at": RECEIVED.isoformat()},
    )
    evaluated = _decision(
        "evaluated",
        {"evaluated_at": (RECEIVED + timedelta(days=300)).isoformat(), "summary": "良好"},
    )
    assert await h.run(adopted, evaluated) == [Outcome.APPLIED] * 2
    decision = h.doc(DECISIONS, "MD-2026-01")
    assert decision["status"] == "evaluated"
    assert decision["evaluation"] == "良好"


async def test_a_decision_not_adopted_cannot_be_evaluated(h: Harness) -> None:
    evaluated = _decision("evaluated", {"evaluated_at": RECEIVED.isoformat(), "summary": "良好"})
    assert await h.run(evaluated) == [Outcome.DEAD_LETTERED]


async def test_a_correction_restarts_the_clock_from_the_corrected_request(h: Harness) -> None:
    asked = _event(
        "correction_requested",
        "R1",
        {"items": "写明所需信息的文号", "requested_at": (RECEIVED + timedelta(days=3)).isoformat()},
    )
    corrected = _event(
        "corrected", "R1", {"corrected_at": (RECEIVED + timedelta(days=40)).isoformat()}
    )
    await h.run(received("R1"), asked)
    assert h.doc(REQUESTS, "R1")["status"] == "correction_requested"
    await h.run(corrected)
    request = h.doc(REQUESTS, "R1")
    # Corrected on Wednesday 2026-11-04: 20 working days from the next day.
    assert (request["status"], request["due_date"]) == ("received", "2026-12-02")
    assert "overdue" not in request
    actions = [row["action"] for row in h.rows(REQUEST_HISTORY, request_id="R1")]
    assert actions == ["receive", "request_correction", "receive_correction"]


async def test_a_consultation_pauses_the_clock_and_an_extension_adds_twenty_days(
    h: Harness,
) -> None:
    started = _event(
        "consultation_started", "R1", {"started_at": (RECEIVED + timedelta(days=5)).isoformat()}
    )
    ended = _event(
        "consultation_ended",
        "R1",
        {"agrees": True, "ended_at": (RECEIVED + timedelta(days=20)).isoformat()},
    )
    extended = _event(
        "extended",
        "R1",
        {"approved_by": "公开办主任", "extended_at": (RECEIVED + timedelta(days=21)).isoformat()},
    )
    await h.run(received("R1"), started)
    assert h.doc(REQUESTS, "R1")["status"] == "consulting_third_party"
    await h.run(ended)
    resumed = h.doc(REQUESTS, "R1")["due_date"]
    assert resumed > "2026-10-29"
    await h.run(extended)
    request = h.doc(REQUESTS, "R1")
    assert request["status"] == "extended"
    assert request["due_date"] > resumed
    assert "第三十三条" in request["explanation"]


async def test_a_request_found_past_its_due_date_derives_overdue_once(h: Harness) -> None:
    await h.run(received("R1"))
    (derived,) = [e for _, e in h.publisher.published if e.type == "opengov.request.overdue"]
    assert derived.data["due_date"] == "2026-10-29"
    assert derived.data["unit"] == "gov-office"
    await h.run(derived)
    assert h.doc(REQUESTS, "R1")["overdue"] is True


async def test_the_reply_clock_counts_the_national_day_make_up_working_day(h: Harness) -> None:
    await h.run(received("R1"))
    explanation = h.doc(REQUESTS, "R1")["explanation"]
    assert "2026-10-07 Wed: not counted — holiday: 国庆节 National Day" in explanation
    assert "2026-10-10 Sat: counted (6/20) — make-up working day (调休)" in explanation
    assert "届满 Due: 2026-10-29 Thu" in explanation


async def test_a_request_in_a_year_without_an_official_schedule_is_provisional(
    h: Harness,
) -> None:
    later = RECEIVED.replace(year=2027)
    event = _event(
        "received",
        "R2027",
        {
            "applicant": {"name": "李四"},
            "content": "申请公开2027年度预算",
            "channel": "mail",
            "received_at": later.isoformat(),
        },
    )
    await h.run(event)
    request = h.doc(REQUESTS, "R2027")
    # Saturday 2027-09-25, weekends only (no National Day holiday known yet): four full weeks
    # from Monday 09-27 end on Friday 2027-10-22.
    assert (request["due_date"], request["provisional"]) == ("2027-10-22", True)
    assert "provisional" in request["explanation"].lower()


async def test_a_request_about_to_pass_reminds_its_unit_once_in_its_timeline(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Due Thursday 2026-10-29: on the Tuesday two days are left, within the three-day reminder.
    monkeypatch.setattr("open_government.requests.flows.today", lambda: date(2026, 10, 27))
    await h.run(received("R1"))
    reminders = [e for _, e in h.publisher.published if e.type == "opengov.request.due_soon"]
    (reminder,) = reminders
    assert (reminder.data["due_date"], reminder.data["days_left"]) == ("2026-10-29", 2)
    assert (reminder.data["unit"], reminder.source) == ("gov-office", "/units/gov-office")
    assert reminder.id == derived_id("R1@2026-10-29", "opengov.request.due_soon")
    assert await h.run(reminder) == [Outcome.APPLIED]
    (row,) = [r for r in h.rows(REQUEST_HISTORY, request_id="R1") if r["action"] == "due_soon"]
    assert (row["on"], row["due_date"]) == ("2026-10-27", "2026-10-29")
    # An answer stops the clock: nothing more to remind of.
    before = len(h.publisher.published)
    assert await h.run(answered("R1", "disclosed", days=32)) == [Outcome.APPLIED], h.errors
    assert not [e for _, e in h.publisher.published[before:] if e.type.endswith("due_soon")]


async def test_a_request_due_later_than_three_days_is_not_reminded_yet(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("open_government.requests.flows.today", lambda: date(2026, 10, 25))
    await h.run(received("R1"))
    assert not [e for _, e in h.publisher.published if e.type == "opengov.request.due_soon"]
