"""Cases through HTTP only, on the running services: the clocks each case type shows with their
explanation, an extension, a clock passed, a reconsideration deemed accepted, a published
decision, the lists, statistics and CSV, and a year's holiday schedule loaded under provisional
clocks."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from fazhi.contracts.envelope import from_kafka
from fazhi.rules.clocks import start_clock
from tests.conftest import client_for, create_key
from tests.support.kafka import end_offsets, read_topic
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

MEDIATION = SERVICES["petition-mediation"]
APPLICANT = {"name": "赵六", "id_number": "610103198503021234", "phone": "13991234567"}
SECRETS = ("赵六", "610103198503021234", "13991234567")


def at(day: str) -> str:
    return datetime.combine(date.fromisoformat(day), time(10), CST).isoformat()


def new_id() -> str:
    return f"C-{uuid.uuid4().hex[:10]}"


def step(kind: str, case: str, data: dict[str, Any], unit: str = "justice") -> dict[str, Any]:
    return event(f"mediation.{kind}", unit, case, {"case_id": case, **data})


def filing(case: str, case_type: str, day: str, category: str = "行政处罚") -> dict[str, Any]:
    return step(
        "case.filed",
        case,
        {
            "case_type": case_type,
            "category": category,
            "applicant": APPLICANT,
            "respondent_unit": "market-regulation",
            "summary": "申请人赵六（电话13991234567）不服行政处罚决定",
            "filed_at": at(day),
        },
    )


def send(http: httpx.Client, *posted: dict[str, Any]) -> None:
    """Post one event, or several as one batch. A reconsideration filed after its acceptance
    review ended is posted with its acceptance: posted apart, the worker's timer could deem it
    accepted in between."""
    if len(posted) == 1:
        response = http.post("/v1/events", **structured(posted[0]))
    else:
        response = http.post(
            "/v1/events",
            content=json.dumps(list(posted), ensure_ascii=False).encode(),
            headers={"content-type": "application/cloudevents-batch+json"},
        )
    assert response.status_code == 202, response.text


def post(
    http: httpx.Client, kind: str, case: str, data: dict[str, Any], unit: str = "justice"
) -> None:
    send(http, step(kind, case, data, unit))


def file(
    http: httpx.Client, case: str, case_type: str, day: str, category: str = "行政处罚"
) -> None:
    send(http, filing(case, case_type, day, category))


def read(http: httpx.Client, case: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    def fetch() -> dict[str, Any] | None:
        response = http.get(f"/v1/cases/{case}")
        body = response.json() if response.status_code == 200 else None
        return body if body is not None and ready(body) else None

    found: dict[str, Any] = wait_until(fetch, timeout=60, what=f"case {case} projected")
    return found


def clock(doc: dict[str, Any], name: str) -> dict[str, Any]:
    named = [c for c in doc["clocks"] if c["name"] == name]
    (found,) = [c for c in named if c["status"] != "met"] or named
    result: dict[str, Any] = found
    return result


@pytest.fixture(scope="module")
def justice(keys: dict[str, str]) -> httpx.Client:
    return client_for(MEDIATION, keys["justice"])


def test_a_reconsideration_gets_its_decision_clock_by_procedure_and_an_extension_moves_it(
    services_up: ServiceProcesses, justice: httpx.Client
) -> None:
    general, simplified = new_id(), new_id()
    send(
        justice,
        filing(general, "reconsideration", "2026-08-03"),
        step("case.accepted", general, {"accepted_at": at("2026-08-05"), "procedure": "general"}),
    )
    send(
        justice,
        filing(simplified, "reconsideration", "2026-08-03"),
        step(
            "case.accepted",
            simplified,
            {
                "accepted_at": at("2026-08-05"),
                "procedure": "simplified",
                "simplified_ground": "open_government",
            },
        ),
    )
    doc = read(justice, general, lambda d: d["status"] == "accepted")
    decision = clock(doc, "decision")
    # 60 days from 5 August end on Sunday 4 October, in the National Day holiday.
    assert decision["due_date"] == "2026-10-08"
    assert "[reconsideration.decision.general]" in decision["explanation"]
    assert "顺延" in decision["explanation"]
    doc = read(justice, simplified, lambda d: d["status"] == "accepted")
    assert clock(doc, "decision")["due_date"] == "2026-09-04"
    assert "[reconsideration.decision.simplified]" in clock(doc, "decision")["explanation"]

    post(
        justice,
        "case.extended",
        general,
        {"extended_at": at("2026-09-01"), "approved_by": "区司法局局长", "reason": "案情复杂"},
    )
    doc = read(justice, general, lambda d: clock(d, "decision")["due_date"] != "2026-10-08")
    extended = clock(doc, "decision")
    assert extended["due_date"] == "2026-11-03"  # 90 days: Tuesday 3 November
    assert "延长 Extended: period is now 90 days" in extended["explanation"]
    assert "2026-09-01 Tue: extended (延长) by 30" in extended["explanation"]
    # Past due even extended: the new due date is reported overdue too.
    assert "extend" in [s["action"] for s in doc["history"]]


@pytest.mark.parametrize(
    ("case_type", "filed_on", "name", "due", "settled", "status", "shown"),
    [
        (
            "petition",
            "2026-09-16",
            "acceptance",
            "2026-10-08",
            "filed",
            "overdue",
            "信访工作条例（2022）第二十三条",
        ),
        (
            "litigation",
            "2026-02-01",
            "defence",
            "2026-02-24",
            "served",
            "overdue",
            "行政诉讼法（2017）第六十七条",
        ),
        # Its review ended undecided long ago: the worker deems it accepted as of the last day
        # of the review (行政复议法 art. 30(3)), so the acceptance clock was met, not missed.
        (
            "reconsideration",
            "2026-09-30",
            "acceptance",
            "2026-10-13",
            "accepted",
            "met",
            "2026-10-10 Sat: counted (3/5) — make-up working day (调休)",
        ),
    ],
)
def test_each_case_type_shows_its_clock_with_its_explanation(
    services_up: ServiceProcesses,
    justice: httpx.Client,
    case_type: str,
    filed_on: str,
    name: str,
    due: str,
    settled: str,
    status: str,
    shown: str,
) -> None:
    case = new_id()
    file(justice, case, case_type, filed_on)
    # All of 2026's dates have passed by now; read the case once the timers have settled it.
    found = clock(read(justice, case, lambda d: d.get("status") == settled), name)
    assert found["due_date"] == due
    assert found["provisional"] is False
    assert found["status"] == status
    assert shown in found["explanation"]
    assert f"届满 Due: {due}" in found["explanation"]


def test_a_clock_that_passed_is_reported_overdue_once(
    services_up: ServiceProcesses, justice: httpx.Client
) -> None:
    since = asyncio.run(end_offsets(MEDIATION.topic))
    case = new_id()
    file(justice, case, "petition", "2026-09-16")
    doc = read(justice, case, lambda d: "overdue" in [s["action"] for s in d["history"]])
    assert doc["overdue"] is True

    def overdue() -> list[dict[str, Any]]:
        records = asyncio.run(read_topic(MEDIATION.topic, since=since))
        events = [from_kafka(r.value) for r in records]
        return [
            {"id": e.id, **e.data}
            for e in events
            if e.type == "mediation.case.overdue" and e.subject == case
        ]

    found = wait_until(overdue, timeout=30, what="mediation.case.overdue on the topic")
    today = datetime.now(CST).date()
    assert len({e["id"] for e in found}) == 1
    assert found[0] | {"id": ""} == {
        "id": "",
        "case_id": case,
        "case_type": "petition",
        "clock": "acceptance",
        "unit": "justice",
        "due_date": "2026-10-08",
        "days_overdue": (today - date(2026, 10, 8)).days,
    }
    listed = justice.get("/v1/cases", params={"year": 2026, "overdue": "true", "limit": 500})
    assert case in [item["case_id"] for item in listed.json()["items"]]


def test_a_reconsideration_whose_acceptance_review_passed_undecided_is_deemed_accepted(
    services_up: ServiceProcesses, justice: httpx.Client
) -> None:
    since = asyncio.run(end_offsets(MEDIATION.topic))
    case = new_id()
    filed_on = datetime.now(CST).date() - timedelta(days=30)
    review_ended = start_clock("reconsideration.acceptance", filed_on).due_on
    file(justice, case, "reconsideration", filed_on.isoformat())

    def deemed() -> dict[str, Any] | None:
        response = justice.get(f"/v1/cases/{case}")
        body: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return body if body is not None and body["status"] == "accepted" else None

    # The worker's timers look every 2 s here: the case projected after its review ended is
    # looked at on the day it was projected.
    doc = wait_until(deemed, timeout=20, what=f"case {case} deemed accepted")
    assert doc["procedure"] == "general"
    step = next(s for s in doc["history"] if s["action"] == "deem_accepted")
    assert step["note"] == f"deemed accepted on {review_ended.isoformat()}"
    assert clock(doc, "acceptance")["status"] == "met"
    decision = clock(doc, "decision")
    assert decision["rule"] == "reconsideration.decision.general"
    assert decision["started_on"] == review_ended.isoformat()  # 行政复议法 art. 30(3)
    due = start_clock("reconsideration.decision.general", review_ended).due_on
    assert decision["due_date"] == due.isoformat()

    records = asyncio.run(read_topic(MEDIATION.topic, since=since))
    found = [
        e
        for e in (from_kafka(r.value) for r in records)
        if e.type == "mediation.case.deemed_accepted" and e.subject == case
    ]
    assert len({e.id for e in found}) == 1
    assert found[0].data == {"case_id": case, "review_ended_on": review_ended.isoformat()}


def test_a_reconsideration_decision_is_published_without_the_applicants_data(
    services_up: ServiceProcesses, justice: httpx.Client
) -> None:
    since = asyncio.run(end_offsets(MEDIATION.topic))
    case = new_id()
    send(
        justice,
        filing(case, "reconsideration", "2026-11-02", category="赵六不服行政处罚"),
        step("case.accepted", case, {"accepted_at": at("2026-11-03")}),
    )
    post(
        justice,
        "case.decided",
        case,
        {
            "decision": "撤销原处罚决定",
            "decided_at": at("2026-11-20"),
            "document_text": "申请人赵六，身份证号610103198503021234，电话13991234567。本机关决定撤销原处罚决定。",
            "outcome": "revoked",
        },
    )

    def published() -> list[Any]:
        records = asyncio.run(read_topic(MEDIATION.topic, since=since))
        events = [from_kafka(r.value) for r in records]
        return [e for e in events if e.type == "mediation.decision.published" and e.subject == case]

    (found,) = wait_until(published, timeout=30, what="mediation.decision.published")
    body = json.dumps(found.data, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in body
    assert found.data["outcome"] == "revoked"
    assert found.data["respondent_unit"] == "market-regulation"
    assert "本机关决定撤销原处罚决定" in found.data["text"]
    doc = read(justice, case, lambda d: "publish" in [s["action"] for s in d["history"]])
    execution = clock(doc, "execution")
    assert execution["due_date"] == "2027-01-19"  # 60 days from 20 November 2026


def test_lists_statistics_and_csv_are_scoped_to_the_units_of_a_case(
    services_up: ServiceProcesses, keys: dict[str, str], justice: httpx.Client
) -> None:
    case = new_id()
    category = f"统计测试{uuid.uuid4().hex[:6]}"
    file(justice, case, "litigation", "2026-03-02", category=category)
    post(justice, "case.hearing_held", case, {"held_at": at("2026-04-01"), "head_appeared": True})
    post(justice, "case.hearing_held", case, {"held_at": at("2026-05-11"), "head_appeared": False})
    read(justice, case, lambda d: d.get("head_appearances") == 1 and d.get("hearings") == 2)

    listed = justice.get("/v1/cases", params={"year": 2026, "category": category})
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["case_id"] == case
    assert item["case_type_label_zh"] == "行政应诉"
    assert "private" not in item
    assert "board" not in item
    assert not any(secret in json.dumps(item, ensure_ascii=False) for secret in SECRETS)
    with client_for(MEDIATION, create_key("court", "department")) as court:
        assert (
            court.get("/v1/cases", params={"category": category, "year": 2026}).json()["items"]
            == []
        )
    with client_for(MEDIATION, keys["supervisor"]) as supervisor:
        stats = supervisor.get("/v1/stats", params={"year": 2026}).json()
        row = stats["by_category"][category]
        assert (row["received"], row["hearings"], row["head_appearances"]) == (1, 2, 1)
        assert row["court_appearance_rate"] == 0.5
        exported = supervisor.get("/v1/stats", params={"year": 2026, "format": "csv"})
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.text.removeprefix("\ufeff"))))
        assert rows[0][:3] == ["year", "by", "key"]
        assert ["2026", "category", category, "1", "0", "0"] == rows[
            [r[2] for r in rows].index(category)
        ][:6]
        cases_csv = supervisor.get(
            "/v1/cases", params={"year": 2026, "category": category, "format": "csv"}
        )
        lines = list(csv.reader(io.StringIO(cases_csv.text.removeprefix("\ufeff"))))
        assert lines[0][0] == "case_id"
        assert lines[1][0] == case
        assert "defence 2026-03-17 met" in lines[1][-1]


def test_the_applicant_is_shown_to_the_operator_and_the_units_party_to_the_case(
    services_up: ServiceProcesses, keys: dict[str, str], justice: httpx.Client
) -> None:
    case = new_id()
    file(justice, case, "petition", "2026-11-02")
    read(justice, case, lambda d: True)
    path = f"/v1/cases/{case}/applicant"
    assert justice.get(path).json()["applicant"]["name"] == "赵六"
    with client_for(MEDIATION, keys["operator"]) as operator:
        assert operator.get(path).json()["applicant"]["phone"] == "13991234567"
    with client_for(MEDIATION, create_key("market-regulation", "department")) as market:
        assert market.get(path).status_code == 200
    with client_for(MEDIATION, keys["supervisor"]) as supervisor:
        assert supervisor.get(path).status_code == 404
        assert supervisor.get(f"/v1/cases/{case}").status_code == 200


def test_loading_a_years_schedule_recomputes_its_provisional_clocks(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    justice: httpx.Client,
    mongo: MongoClient[dict[str, Any]],
) -> None:
    case = new_id()
    file(justice, case, "reconsideration", "2031-09-30")
    before = clock(read(justice, case, lambda d: bool(d.get("clocks"))), "acceptance")
    assert (before["due_date"], before["provisional"]) == ("2031-10-07", True)
    assert "暂定 Provisional: no official holiday schedule for 2031" in before["explanation"]
    with client_for(MEDIATION, keys["operator"]) as operator:
        loaded = operator.put(
            "/v1/calendar/2031",
            json={
                "holidays": [f"2031-10-0{d}" for d in range(1, 8)],
                "workdays": ["2031-09-28", "2031-10-11"],
                "note": "test schedule",
            },
        )
        assert loaded.status_code == 200, loaded.text
        try:
            after = clock(read(justice, case, lambda d: True), "acceptance")
            assert (after["due_date"], after["provisional"]) == ("2031-10-13", False)
            stored = wait_until(
                lambda: (
                    (d := mongo[MEDIATION.db]["cases"].find_one({"_id": case}))
                    and d["due_days"] == ["2031-10-13"]
                    and d
                ),
                timeout=30,
                what="the worker recomputes the stored clock",
            )
            assert stored["provisional_years"] == []
        finally:
            operator.delete("/v1/calendar/2031")


def test_a_list_refuses_a_filter_it_does_not_know(
    services_up: ServiceProcesses, justice: httpx.Client
) -> None:
    refused = justice.get("/v1/cases", params={"yaer": 2026})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "query.yaer", "message": "unknown parameter"}]
    assert justice.get("/v1/stats", params={"year": 2026, "by": "x"}).status_code == 422


def test_a_passed_clock_opens_a_supervision_item_and_a_decision_reaches_the_portal_redacted(
    services_up: ServiceProcesses, keys: dict[str, str], justice: httpx.Client
) -> None:
    from fazhi.contracts.mediation import ClockName
    from open_government.documents.published_elsewhere import decision_document_id
    from supervision.items.triggers import case_item_id

    late, decided = new_id(), new_id()
    file(justice, late, "petition", "2026-09-16")
    send(
        justice,
        filing(decided, "reconsideration", "2026-11-02"),
        step("case.accepted", decided, {"accepted_at": at("2026-11-03")}),
    )
    post(
        justice,
        "case.decided",
        decided,
        {
            "decision": "撤销原处罚决定",
            "decided_at": at("2026-11-20"),
            "document_text": "申请人赵六，电话13991234567。本机关决定撤销原处罚决定。",
            "outcome": "revoked",
        },
    )
    with client_for(SERVICES["supervision"], keys["supervisor"]) as supervision:
        item = wait_until(
            lambda: (
                (
                    r := supervision.get(f"/v1/items/{case_item_id(late, ClockName.ACCEPTANCE)}")
                ).status_code
                == 200
                and r.json()
            ),
            timeout=60,
            what="the supervision item of the overdue case",
        )
    assert item["unit"] == "justice"
    with client_for(SERVICES["open-government"], keys["justice"]) as opengov:
        document = wait_until(
            lambda: (
                (r := opengov.get(f"/v1/documents/{decision_document_id(decided)}")).status_code
                == 200
                and r.json()
            ),
            timeout=60,
            what="the decision on the portal",
        )
    body = json.dumps(document, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in body
    assert "本机关决定撤销原处罚决定" in body
