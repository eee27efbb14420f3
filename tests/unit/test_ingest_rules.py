"""Which events a key may post: the pure checks behind `POST /v1/events`."""

from __future__ import annotations

import json

import pytest

from fazhi.contracts.envelope import CloudEvent
from fazhi.web.auth import Principal, Role
from fazhi.web.cloudevents import parse_http
from fazhi.web.ingest import _check_event
from fazhi.web.problems import Problem
from supervision.events import CATALOG

JUSTICE = Principal(key_id="k1", unit="justice", roles=frozenset({Role.DEPARTMENT}))
OPERATOR = Principal(key_id="k2", unit="rule-of-law-office", roles=frozenset({Role.OPERATOR}))
SUPERVISOR = Principal(key_id="k3", unit="justice", roles=frozenset({Role.SUPERVISOR}))


def progress(unit: str = "justice", **data: object) -> CloudEvent:
    body = {
        "specversion": "1.0",
        "id": "e-1",
        "source": f"/units/{unit}",
        "type": "supervision.task.progress_reported",
        "subject": "M18-T1",
        "time": "2026-03-02T09:30:00+08:00",
        "data": {
            "task_id": "M18-T1",
            "unit": unit,
            "progress_pct": 40,
            "note": "",
            "reported_at": "2026-03-02T09:30:00+08:00",
            **data,
        },
    }
    [event] = parse_http("application/cloudevents+json", {}, json.dumps(body).encode())
    return event


def status_of(event: CloudEvent, who: Principal) -> int:
    try:
        _check_event(event, None, CATALOG, who)
    except Problem as problem:
        return problem.status
    return 202


def test_a_department_posts_for_its_own_unit() -> None:
    assert status_of(progress(), JUSTICE) == 202


def test_a_department_cannot_post_for_another_unit() -> None:
    assert status_of(progress("audit"), JUSTICE) == 403


def test_a_department_cannot_report_for_another_unit_inside_data() -> None:
    event = progress()
    forged = event.model_copy(update={"data": {**event.data, "unit": "audit"}})
    assert status_of(forged, JUSTICE) == 403


def test_an_operator_posts_for_any_known_unit_but_not_unknown_ones() -> None:
    assert status_of(progress("audit"), OPERATOR) == 202
    unknown = progress().model_copy(update={"source": "/units/nowhere"})
    assert status_of(unknown, OPERATOR) == 422


def test_a_supervisor_key_does_not_post_department_events() -> None:
    assert status_of(progress(), SUPERVISOR) == 403


def test_derived_and_unknown_types_are_refused_with_the_accepted_list() -> None:
    for kind in ("supervision.task.overdue", "supervision.task.teleported"):
        with pytest.raises(Problem) as refused:
            _check_event(progress().model_copy(update={"type": kind}), None, CATALOG, OPERATOR)
        assert refused.value.status == 400
        assert refused.value.extensions["accepted_types"] == [
            "supervision.finding.recorded",
            "supervision.item.accepted",
            "supervision.item.rectified",
            "supervision.item.reopened",
            "supervision.task.completed",
            "supervision.task.progress_reported",
            "supervision.training.recorded",
        ]


def test_invalid_data_names_the_fields() -> None:
    with pytest.raises(Problem) as refused:
        _check_event(progress(progress_pct=101, unit="justice"), 3, CATALOG, JUSTICE)
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["[3].data.progress_pct"]


def test_a_source_outside_units_is_forbidden_to_departments_and_invalid_for_operators() -> None:
    event = progress().model_copy(update={"source": "urn:x"})
    assert status_of(event, JUSTICE) == 403
    assert status_of(event, OPERATOR) == 422


def test_the_subject_must_name_the_aggregate_so_its_events_stay_in_order() -> None:
    event = progress().model_copy(update={"subject": "M18-T2"})
    with pytest.raises(Problem) as refused:
        _check_event(event, None, CATALOG, JUSTICE)
    assert refused.value.status == 422
    assert refused.value.extensions["errors"][0]["field"] == "subject"


def test_an_operator_reports_only_for_the_unit_it_posts_as() -> None:
    event = progress("audit")
    mixed = event.model_copy(update={"data": {**event.data, "unit": "justice"}})
    assert status_of(mixed, OPERATOR) == 422


def test_the_checked_event_comes_back_with_its_type_and_validated_data() -> None:
    event_type, data = _check_event(progress(), None, CATALOG, JUSTICE)
    assert event_type.aggregate_id(data) == "M18-T1"
    assert event_type.collection == "tasks"
