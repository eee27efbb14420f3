"""What the workers keep where the read endpoints can return it is redacted; the words as posted
go to the document's private part (or, for a task's reports, are not kept at all)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from emergency.store import INCIDENTS
from emergency.worker import WORKER as EMERGENCY
from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from open_government.store import REQUESTS
from open_government.worker import WORKER as OPENGOV
from petition_mediation.store import CASE_HISTORY, CASES, PRIVATE
from petition_mediation.worker import WORKER as MEDIATION
from supervision.store import TASK_HISTORY
from supervision.worker import WORKER as SUPERVISION
from tests.support.harness import Harness

AT = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)
PHONE = "138.0013.8000"
ID_NUMBER = "610103\u200b19850302\u200b1234"
ADDRESS = "西安市碑林区东关南街88号"
APPLICANT = {"name": "张三", "phone": "13991234567", "address": ADDRESS}
SECRETS = ("张三", "13800138000", "138.0013.8000", "1985", ADDRESS, "东关南街88号", "李四")


def _event(kind: str, unit: str, subject: str, data: dict[str, Any]) -> CloudEvent:
    return new_event(type=kind, source=f"/units/{unit}", subject=subject, time=AT, data=data)


def public(doc: dict[str, Any]) -> str:
    """What a read endpoint may return of the document: all but its private part."""
    return json.dumps(
        {k: v for k, v in doc.items() if k != PRIVATE}, ensure_ascii=False, default=str
    )


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret
    assert "13800138000" not in "".join(c for c in text if c.isdigit())


async def test_a_cases_category_decision_and_summary_are_redacted() -> None:
    h = Harness(MEDIATION)
    filed = _event(
        "mediation.case.filed",
        "justice",
        "C1",
        {
            "case_id": "C1",
            "case_type": "petition",
            "category": f"张三反映邻里纠纷（电话{PHONE}）",
            "applicant": APPLICANT,
            "respondent_unit": "market-regulation",
            "summary": f"信访人张三，住{ADDRESS}，反映东关南街88号楼道堆物。",
            "filed_at": AT.isoformat(),
        },
    )
    accepted = _event(
        "mediation.case.accepted", "justice", "C1", {"case_id": "C1", "accepted_at": AT.isoformat()}
    )
    decided = _event(
        "mediation.case.decided",
        "justice",
        "C1",
        {
            "case_id": "C1",
            "decision": f"支持张三的请求，身份证{ID_NUMBER}",
            "decided_at": AT.isoformat(),
            "document_text": "信访人张三反映的问题属实。",
        },
    )
    assert await h.run(filed, accepted, decided) == [Outcome.APPLIED] * 3
    doc = h.doc(CASES, "C1")
    assert_no_secrets(public(doc))
    assert_no_secrets(
        json.dumps(h.rows(CASE_HISTORY, case_id="C1"), ensure_ascii=False, default=str)
    )
    assert doc["category"] == "张某反映邻里纠纷（电话[电话已隐去]）"
    assert doc["summary"] == "信访人张某，住[地址已隐去]，反映[地址已隐去]楼道堆物。"
    assert doc["decision"] == "支持张某的请求，身份证[身份证号已隐去]"
    assert doc[PRIVATE]["category"] == filed.data["category"]
    assert doc[PRIVATE]["decision"] == decided.data["decision"]
    assert doc[PRIVATE]["summary"] == filed.data["summary"]


async def test_an_incidents_title_and_location_are_redacted() -> None:
    h = Harness(EMERGENCY)
    reported = _event(
        "emergency.incident.reported",
        "emergency-management",
        "I1",
        {
            "incident_id": "I1",
            "category": "事故灾难",
            "grade": "relatively_serious",
            "title": f"当事人李四称家中燃气泄漏，联系人电话{PHONE}",
            "location": f"碑林区长安路1号（报警人手机１３８００１３８０００，身份证{ID_NUMBER}）",
            "occurred_at": AT.isoformat(),
        },
    )
    level = _event(
        "emergency.response.level_changed",
        "emergency-management",
        "I1",
        {"incident_id": "I1", "level": "IV", "changed_at": AT.isoformat()},
    )
    assert await h.run(reported, level) == [Outcome.APPLIED] * 2
    doc = h.doc(INCIDENTS, "I1")
    assert_no_secrets(public(doc))
    assert doc["title"] == "当事人李某称家中燃气泄漏，联系人电话[电话已隐去]"
    assert doc["location"].startswith("碑林区长安路1号（报警人手机[电话已隐去]")
    assert doc["status"] == "responding"
    assert doc[PRIVATE] == {
        "title": reported.data["title"],
        "location": reported.data["location"],
    }


async def test_a_tasks_reports_keep_only_their_redacted_text() -> None:
    h = Harness(SUPERVISION)
    report = _event(
        "supervision.task.progress_reported",
        "justice",
        "T1",
        {
            "task_id": "T1",
            "unit": "justice",
            "progress_pct": 40,
            "note": f"联系人李四，电话{PHONE}，已完成初稿",
            "reported_at": AT.isoformat(),
        },
    )
    done = _event(
        "supervision.task.completed",
        "justice",
        "T1",
        {
            "task_id": "T1",
            "unit": "justice",
            "completed_at": AT.isoformat(),
            "evidence": f"联系人李四，身份证{ID_NUMBER}",
        },
    )
    assert await h.run(report, done) == [Outcome.APPLIED] * 2
    rows = h.rows(TASK_HISTORY, task_id="T1")
    assert_no_secrets(json.dumps(rows, ensure_ascii=False, default=str))
    assert_no_secrets(public(h.doc("tasks", "T1")))
    assert [row.get("note") for row in rows] == ["联系人李某，电话[电话已隐去]，已完成初稿", None]
    assert rows[1]["evidence"] == "联系人李某，身份证[身份证号已隐去]"


async def test_a_requests_content_loses_the_applicants_address() -> None:
    h = Harness(OPENGOV)
    received = _event(
        "opengov.request.received",
        "justice",
        "R1",
        {
            "request_id": "R1",
            "applicant": APPLICANT,
            "content": f"本人张三，住{ADDRESS}，申请公开东关南街88号的拆迁补偿方案",
            "channel": "online",
            "received_at": AT.isoformat(),
        },
    )
    assert await h.run(received) == [Outcome.APPLIED]
    doc = h.doc(REQUESTS, "R1")
    assert_no_secrets(public(doc))
    assert doc["content"] == "本人张某，住[地址已隐去]，申请公开[地址已隐去]的拆迁补偿方案"
    assert doc[PRIVATE]["applicant"]["address"] == ADDRESS
