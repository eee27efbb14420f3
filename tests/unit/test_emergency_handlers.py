"""The emergency worker on the in-memory store: incidents follow the incidents machine, alert
chains follow CAP (an update replaces, a cancel ends), acknowledgements are a timeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from emergency.alerts.timers import escalation_event, expiry_event
from emergency.domain import Alert, minute_bucket
from emergency.incidents.timers import purge_event
from emergency.store import ACKNOWLEDGEMENTS, ALERTS, INCIDENT_LEVELS, INCIDENTS, NOTICES
from emergency.worker import WORKER
from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.store.codec import decode
from tests.support.harness import Harness

T0 = datetime(2026, 7, 20, 14, 0, tzinfo=CHINA_TZ)
UNIT = "emergency-management"


def _event(kind: str, subject: str, data: dict[str, Any], unit: str = UNIT) -> CloudEvent:
    return new_event(
        type=f"emergency.{kind}", source=f"/units/{unit}", subject=subject, time=T0, data=data
    )


def reported(incident_id: str) -> CloudEvent:
    return _event(
        "incident.reported",
        incident_id,
        {
            "incident_id": incident_id,
            "category": "自然灾害",
            "grade": "relatively_serious",
            "title": "暴雨引发内涝",
            "location": "碑林区长安路",
            "occurred_at": T0.isoformat(),
        },
    )


def level(incident_id: str, value: str, minutes: int = 30) -> CloudEvent:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return _event(
        "response.level_changed",
        incident_id,
        {"incident_id": incident_id, "level": value, "changed_at": at},
    )


def alert(alert_id: str, msg_type: str = "alert", references: tuple[str, ...] = ()) -> CloudEvent:
    chain = references[0] if references else alert_id
    return _event(
        "alert.issued",
        chain,
        {
            "alert_id": alert_id,
            "msg_type": msg_type,
            "references": list(references),
            "level": "orange",
            "category": "气象",
            "headline": "暴雨橙色预警",
            "description": "未来3小时将出现50毫米以上降水",
            "area": "碑林区",
            "effective": T0.isoformat(),
            "expires": (T0 + timedelta(hours=6)).isoformat(),
        },
    )


def ack(alert_id: str, staff: str, unit: str = "street-baishulin") -> CloudEvent:
    return _event(
        "alert.acknowledged",
        alert_id,
        {"alert_id": alert_id, "staff_id": staff, "acknowledged_at": T0.isoformat()},
        unit=unit,
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


async def test_a_response_starts_then_changes_level_with_a_timeline(h: Harness) -> None:
    outcomes = await h.run(reported("I1"), level("I1", "IV"), level("I1", "III", 60))
    assert outcomes == [Outcome.APPLIED] * 3
    incident = h.doc(INCIDENTS, "I1")
    assert incident["status"] == "responding"
    assert incident["response_level"] == "III"
    assert [r["level"] for r in h.rows(INCIDENT_LEVELS, incident_id="I1")] == ["IV", "III"]


async def test_the_same_level_twice_is_refused_by_the_incidents_machine(h: Harness) -> None:
    outcomes = await h.run(reported("I1"), level("I1", "IV"), level("I1", "IV", 60))
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "already at level IV" in h.errors[0]


async def test_a_level_for_an_unknown_incident_is_refused(h: Harness) -> None:
    assert await h.run(level("NOPE", "II")) == [Outcome.DEAD_LETTERED]


async def test_an_update_replaces_and_a_cancel_ends_the_chain(h: Harness) -> None:
    outcomes = await h.run(
        alert("A1"), alert("A2", "update", ("A1",)), alert("A3", "cancel", ("A1", "A2"))
    )
    assert outcomes == [Outcome.APPLIED] * 3
    assert h.doc(ALERTS, "A1")["replaced_by"] == "A2"
    assert h.doc(ALERTS, "A2")["replaced_by"] == "A3"
    assert {h.doc(ALERTS, a)["status"] for a in ("A2", "A3")} == {"cancelled"}


async def test_an_update_of_an_unknown_alert_is_refused(h: Harness) -> None:
    assert await h.run(alert("A9", "update", ("NOPE",))) == [Outcome.DEAD_LETTERED]
    assert "references unknown alert 'NOPE'" in h.errors[0]


async def test_the_chain_rules_refuse_an_update_after_a_cancel(h: Harness) -> None:
    outcomes = await h.run(
        alert("A1"), alert("A2", "cancel", ("A1",)), alert("A3", "update", ("A1",))
    )
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "alert in state 'cancelled' cannot update" in h.errors[0]


async def test_an_acknowledgement_after_the_cancel_is_refused(h: Harness) -> None:
    outcomes = await h.run(alert("A1"), alert("A2", "cancel", ("A1",)), ack("A1", "staff-1"))
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "cannot acknowledge" in h.errors[0]


async def test_staff_of_any_unit_acknowledge_and_each_is_kept(h: Harness) -> None:
    outcomes = await h.run(alert("A1"), ack("A1", "staff-1"), ack("A1", "staff-2", UNIT))
    assert outcomes == [Outcome.APPLIED] * 3
    assert h.doc(ALERTS, "A1")["acknowledged"] is True
    assert [r["staff_id"] for r in h.rows(ACKNOWLEDGEMENTS, alert_id="A1")] == [
        "staff-1",
        "staff-2",
    ]


async def test_an_acknowledgement_of_an_unknown_alert_is_refused(h: Harness) -> None:
    assert await h.run(ack("NOPE", "staff-1")) == [Outcome.DEAD_LETTERED]
    assert "does not exist" in h.errors[0]


def escalated(alert_id: str, chain_id: str) -> CloudEvent:
    return _event(
        "alert.escalated",
        chain_id,
        {
            "alert_id": alert_id,
            "chain_id": chain_id,
            "level": "red",
            "unit": UNIT,
            "issued_at": T0.isoformat(),
            "window_minutes": 5,
            "escalated_at": (T0 + timedelta(minutes=5)).isoformat(),
        },
    )


def notice(notice_id: str, state: str) -> CloudEvent:
    return _event(
        "notice.published",
        notice_id,
        {
            "notice_id": notice_id,
            "source_kind": "alert",
            "source_id": "A1",
            "unit": UNIT,
            "title": "暴雨红色预警",
            "body": "未来3小时将出现100毫米以上降水",
            "level": "red",
            "area": "碑林区",
            "published_at": T0.isoformat(),
            "state": state,
        },
    )


async def test_an_escalation_marks_the_unacknowledged_message(h: Harness) -> None:
    outcomes = await h.run(alert("A1"), escalated("A1", "A1"))
    assert outcomes == [Outcome.APPLIED] * 2
    assert h.doc(ALERTS, "A1")["escalated_at"] == T0 + timedelta(minutes=5)


async def test_a_notice_keeps_its_latest_state(h: Harness) -> None:
    outcomes = await h.run(notice("N1", "active"), notice("N1", "withdrawn"))
    assert outcomes == [Outcome.APPLIED] * 2
    assert h.doc(NOTICES, "N1")["state"] == "withdrawn"


async def test_derived_types_are_refused_over_http(h: Harness) -> None:
    assert "emergency.alert.escalated" not in h.catalog.accepted_over_http()
    assert "emergency.notice.published" not in h.catalog.accepted_over_http()


def red(alert_id: str, status: str = "actual", minutes_to_expiry: int = 360) -> CloudEvent:
    event = alert(alert_id)
    data = {
        **event.data,
        "level": "red",
        "status": status,
        "expires": (T0 + timedelta(minutes=minutes_to_expiry)).isoformat(),
    }
    return _event("alert.issued", alert_id, data)


def projected_now(run: Any) -> Any:
    """Runs `run`, and returns the minutes (China time) it may have been projected in."""

    async def go() -> set[str]:
        before = datetime.now(CHINA_TZ)
        await run
        return {minute_bucket(before), minute_bucket(datetime.now(CHINA_TZ))}

    return go()


async def test_an_update_replaces_the_message_in_force_and_a_cancel_ends_it(h: Harness) -> None:
    # sent long ago, projected now: the timers have looked through its minute already, so it
    # waits in the minute it is projected in
    minutes = await projected_now(h.run(alert("A1"), alert("A2", "update", ("A1",))))
    assert (h.doc(ALERTS, "A1")["status"], h.doc(ALERTS, "A2")["status"]) == ("replaced", "active")
    assert "ack_bucket" not in h.doc(ALERTS, "A1")
    assert h.doc(ALERTS, "A2")["ack_bucket"] in minutes
    await h.run(alert("A3", "cancel", ("A1", "A2")))
    assert [h.doc(ALERTS, a)["status"] for a in ("A1", "A2", "A3")] == [
        "replaced",
        "cancelled",
        "cancelled",
    ]
    assert "expires_bucket" not in h.doc(ALERTS, "A2")


async def test_a_message_expires_when_the_timer_finds_it_run_out(h: Harness) -> None:
    minutes = await projected_now(h.run(red("A1", minutes_to_expiry=30)))
    doc = {"_id": "A1", **h.doc(ALERTS, "A1")}
    assert doc["expires_bucket"] in minutes  # it ran out before it was projected
    assert expiry_event(doc, _chain(h, "A1"), T0 + timedelta(minutes=29)) is None
    event = expiry_event(doc, _chain(h, "A1"), T0 + timedelta(minutes=31))
    assert event is not None
    again = expiry_event(doc, _chain(h, "A1"), T0 + timedelta(minutes=40))
    assert again is not None
    assert event.id == again.id
    assert await h.run(event) == [Outcome.APPLIED]
    assert h.doc(ALERTS, "A1")["status"] == "expired"
    assert "expires_bucket" not in h.doc(ALERTS, "A1")


async def test_an_expiry_of_a_replaced_message_changes_nothing(h: Harness) -> None:
    await h.run(red("A1", minutes_to_expiry=30))
    doc = {"_id": "A1", **h.doc(ALERTS, "A1")}
    event = expiry_event(doc, _chain(h, "A1"), T0 + timedelta(minutes=31))
    assert event is not None
    longer = alert("A2", "update", ("A1",))
    await h.run(longer, event)
    assert h.doc(ALERTS, "A2")["status"] == "active"
    assert h.doc(ALERTS, "A1")["status"] == "replaced"


def _chain(h: Harness, chain_id: str) -> Alert:
    return decode(Alert, h.doc(ALERTS, chain_id)["chain"])


async def test_an_unacknowledged_red_alert_is_escalated_after_its_window(h: Harness) -> None:
    await h.run(red("A1"))
    doc, window = h.doc(ALERTS, "A1"), timedelta(minutes=5)
    assert escalation_event(doc, _chain(h, "A1"), window, T0 + timedelta(minutes=4)) is None
    event = escalation_event(doc, _chain(h, "A1"), window, T0 + timedelta(minutes=6))
    assert event is not None
    assert event.type == "emergency.alert.escalated"
    assert event.data["window_minutes"] == 5
    assert event.data["escalated_at"] == (T0 + window).isoformat()
    assert await h.run(event) == [Outcome.APPLIED]
    assert h.doc(ALERTS, "A1")["escalated_at"] == T0 + window
    later = T0 + timedelta(minutes=9)
    assert escalation_event(h.doc(ALERTS, "A1"), _chain(h, "A1"), window, later) is None


async def test_an_acknowledged_or_test_alert_is_never_escalated(h: Harness) -> None:
    await h.run(red("A1"), ack("A1", "staff-1"), red("T1", status="test"))
    late = T0 + timedelta(minutes=30)
    window = timedelta(minutes=5)
    assert escalation_event(h.doc(ALERTS, "A1"), _chain(h, "A1"), window, late) is None
    assert escalation_event(h.doc(ALERTS, "T1"), _chain(h, "T1"), window, late) is None
    assert "ack_bucket" not in h.doc(ALERTS, "T1")


def notices(h: Harness) -> list[tuple[str, str, str]]:
    """(source id, state, level) of every notice published, in order."""
    return [
        (e.data["source_id"], e.data["state"], e.data["level"])
        for _, e in h.publisher.published
        if e.type == "emergency.notice.published"
    ]


def update(alert_id: str, chain: str, level: str, status: str = "actual") -> CloudEvent:
    event = alert(alert_id, "update", (chain,))
    return _event("alert.issued", chain, {**event.data, "level": level, "status": status})


async def test_an_actual_red_alert_is_told_to_the_public_updated_and_withdrawn(h: Harness) -> None:
    await h.run(red("A1"), update("A2", "A1", "orange"), alert("A3", "cancel", ("A1", "A2")))
    assert notices(h) == [
        ("A1", "active", "red"),
        ("A1", "updated", "orange"),
        ("A1", "withdrawn", "orange"),
    ]
    published = [e for _, e in h.publisher.published]
    assert len({e.id for e in published}) == 3
    assert {e.subject for e in published} == {"notice-alert-A1"}
    # The worker projects what it published: the notice as last published.
    assert await h.run(*published) == [Outcome.APPLIED] * 3
    assert h.doc(NOTICES, "notice-alert-A1")["state"] == "withdrawn"


async def test_an_exercise_alert_never_produces_a_public_notice(h: Harness) -> None:
    await h.run(red("D1", status="exercise"), update("D2", "D1", "red", status="exercise"))
    await h.run(red("T1", status="test"))
    assert notices(h) == []


async def test_a_yellow_alert_raised_to_orange_is_told_then_and_lowered_is_withdrawn(
    h: Harness,
) -> None:
    yellow = _event("alert.issued", "A1", {**alert("A1").data, "level": "yellow"})
    await h.run(yellow)
    assert notices(h) == []
    await h.run(update("A2", "A1", "orange"), update("A3", "A1", "blue"))
    assert notices(h) == [("A1", "active", "orange"), ("A1", "withdrawn", "blue")]


async def test_an_expired_alert_withdraws_its_notice(h: Harness) -> None:
    await h.run(red("A1", minutes_to_expiry=30))
    doc = {"_id": "A1", **h.doc(ALERTS, "A1")}
    expiry = expiry_event(doc, _chain(h, "A1"), T0 + timedelta(minutes=31))
    assert expiry is not None
    await h.run(expiry)
    assert notices(h) == [("A1", "active", "red"), ("A1", "withdrawn", "red")]


def incident(
    incident_id: str, grade: str, persons: list[dict[str, str]] | None = None
) -> CloudEvent:
    data = {**reported(incident_id).data, "grade": grade}
    if persons is not None:
        data["affected_persons"] = persons
    return _event("incident.reported", incident_id, data)


def ended(incident_id: str) -> CloudEvent:
    at = (T0 + timedelta(hours=5)).isoformat()
    return _event("response.ended", incident_id, {"incident_id": incident_id, "ended_at": at})


def closed(incident_id: str, assessment: str) -> CloudEvent:
    at = (T0 + timedelta(days=3)).isoformat()
    data = {"incident_id": incident_id, "closed_at": at, "assessment": assessment}
    return _event("incident.closed", incident_id, data)


async def test_an_incident_runs_its_lifecycle_to_a_closing_assessment(h: Harness) -> None:
    measures = {
        **level("I1", "III").data,
        "scope": "碑林区长安路沿线",
        "expected_hours": 6,
        "measures": ["封闭积水路段", "转移低洼地带群众"],
    }
    outcomes = await h.run(
        incident("I1", "relatively_serious", [{"name": "张三", "phone": "13991234567"}]),
        _event("response.level_changed", "I1", measures),
        ended("I1"),
        closed("I1", "张三（13991234567）已妥善安置，处置及时。"),
    )
    assert outcomes == [Outcome.APPLIED] * 4
    doc = h.doc(INCIDENTS, "I1")
    assert doc["status"] == "closed"
    assert doc["response_level"] is None
    assert doc["closed_day"] == "2026-07-23"
    assert "张三" not in doc["assessment"]
    assert "13991234567" not in doc["assessment"]
    assert doc["private"]["affected_persons"][0]["name"] == "张三"
    rows = h.rows(INCIDENT_LEVELS, incident_id="I1")
    assert [r["level"] for r in rows] == ["III", None]
    assert rows[0]["measures"] == ["封闭积水路段", "转移低洼地带群众"]
    assert rows[0]["expected_end"] == T0 + timedelta(minutes=30, hours=6)
    assert [n[1] for n in notices(h)] == ["active", "updated", "updated", "updated"]
    bodies = " ".join(str(e.data) for _, e in h.publisher.published)
    assert "张三" not in bodies
    assert "13991234567" not in bodies
    assert "封闭积水路段" in bodies


async def test_a_general_incident_gets_no_notice_and_closing_a_reported_one_is_allowed(
    h: Harness,
) -> None:
    outcomes = await h.run(incident("I2", "general"), closed("I2", "误报"))
    assert outcomes == [Outcome.APPLIED] * 2
    assert notices(h) == []
    assert h.doc(INCIDENTS, "I2")["status"] == "closed"


async def test_the_incidents_machine_refuses_to_end_a_response_never_started(h: Harness) -> None:
    outcomes = await h.run(incident("I3", "serious"), ended("I3"))
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "cannot" in h.errors[0]


async def test_the_persons_of_a_closed_incident_are_purged_when_the_retention_ends(
    h: Harness,
) -> None:
    persons = [{"name": "张三", "id_number": "610103198503021234", "condition": "受伤"}]
    await h.run(incident("I1", "general", persons), closed("I1", "张三已出院"))
    doc = {"_id": "I1", **h.doc(INCIDENTS, "I1")}
    event = purge_event(doc, T0 + timedelta(days=200))
    assert event is not None
    assert event.data["persons"] == 1
    assert "张三" not in str(event.data)
    again = purge_event(doc, T0 + timedelta(days=201))
    assert again is not None
    assert again.id == event.id
    assert await h.run(event) == [Outcome.APPLIED]
    purged = h.doc(INCIDENTS, "I1")
    assert "affected_persons" not in purged["private"]
    assert "assessment" not in purged["private"]
    assert "closed_day" not in purged
    assert "张三" not in str(purged)
    assert purge_event({"_id": "I1", **purged}, T0 + timedelta(days=202)) is None


async def test_a_message_projected_in_time_waits_in_the_minutes_it_falls_due_in(h: Harness) -> None:
    sent = datetime.now(CHINA_TZ) + timedelta(hours=1)
    event = red("A9", minutes_to_expiry=30)
    data = {**event.data, "expires": (sent + timedelta(minutes=30)).isoformat()}
    await h.run(
        new_event(
            type="emergency.alert.issued",
            source=f"/units/{UNIT}",
            subject="A9",
            time=sent,
            data=data,
        )
    )
    doc = h.doc(ALERTS, "A9")
    assert doc["ack_bucket"] == minute_bucket(sent)
    assert doc["expires_bucket"] == minute_bucket(sent + timedelta(minutes=30))
