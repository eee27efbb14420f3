"""Every event type a department may post, through HTTP to the read endpoints: each service's
lifecycle posted event by event, and what the owning worker made of it read back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from emergency.events import CATALOG as EMERGENCY
from open_government.events import CATALOG as OPENGOV
from petition_mediation.events import CATALOG as MEDIATION
from supervision.events import CATALOG as SUPERVISION
from tests.conftest import client_for, create_key
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

NOW = datetime.now(CST).replace(microsecond=0)
COVERED: set[str] = set()
APPLICANT = {"name": "王五", "id_number": "610103198503021234", "phone": "13991234567"}


def _at(days: float = 0) -> str:
    return (NOW + timedelta(days=days)).isoformat()


def _post(http: httpx.Client, posted: dict[str, Any]) -> None:
    response = http.post("/v1/events", **structured(posted))
    assert response.status_code == 202, response.text
    COVERED.add(posted["type"])


def _read(http: httpx.Client, path: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    def fetch() -> dict[str, Any] | None:
        response = http.get(path)
        body = response.json() if response.status_code == 200 else None
        return body if body is not None and ready(body) else None

    result: dict[str, Any] = wait_until(fetch, timeout=60, what=f"{path} projected")
    return result


def test_a_task_is_reported_then_completed(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    task = f"T-{uuid.uuid4().hex[:8]}"
    kinds = ("supervision.task.progress_reported", "supervision.task.completed")
    with client_for(SERVICES["supervision"], keys["justice"]) as http:
        _post(
            http,
            event(
                kinds[0],
                "justice",
                task,
                {
                    "task_id": task,
                    "unit": "justice",
                    "progress_pct": 80,
                    "note": "已完成初稿",
                    "reported_at": _at(),
                },
            ),
        )
        _post(
            http,
            event(
                kinds[1],
                "justice",
                task,
                {
                    "task_id": task,
                    "unit": "justice",
                    "completed_at": _at(1),
                    "evidence": "验收报告",
                },
            ),
        )
        doc = _read(http, f"/v1/tasks/{task}", lambda d: d.get("status") == "completed")
    assert doc["progress_pct"] == 100
    assert [h["type"] for h in doc["history"]] == list(kinds)


def test_a_reconsideration_is_filed_accepted_and_decided(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    case = f"C-{uuid.uuid4().hex[:8]}"
    with client_for(SERVICES["petition-mediation"], keys["justice"]) as http:
        _post(
            http,
            event(
                "mediation.case.filed",
                "justice",
                case,
                {
                    "case_id": case,
                    "case_type": "reconsideration",
                    "category": "行政处罚",
                    "applicant": APPLICANT,
                    "respondent_unit": "market-regulation",
                    "summary": "申请人王五不服行政处罚决定",
                    "filed_at": _at(),
                },
            ),
        )
        _post(
            http,
            event(
                "mediation.case.accepted",
                "justice",
                case,
                {"case_id": case, "accepted_at": _at(1), "procedure": "general"},
            ),
        )
        accepted = _read(http, f"/v1/cases/{case}", lambda d: d.get("status") == "accepted")
        assert accepted["clock"]["name"] == "reconsideration.decision.general"
        _post(
            http,
            event(
                "mediation.case.decided",
                "justice",
                case,
                {
                    "case_id": case,
                    "decision": "撤销原行政处罚决定",
                    "decided_at": _at(20),
                    "document_text": "申请人王五，电话13991234567。本机关决定撤销。",
                    "outcome": "revoked",
                },
            ),
        )
        _read(http, f"/v1/cases/{case}", lambda d: d.get("status") == "decided")
    with client_for(
        SERVICES["petition-mediation"], create_key("market-regulation", "department")
    ) as http:
        _post(
            http,
            event(
                "mediation.decision.executed",
                "market-regulation",
                case,
                {"case_id": case, "executed_at": _at(30), "note": "已撤销处罚并退还罚款"},
            ),
        )
        doc = _read(http, f"/v1/cases/{case}", lambda d: d.get("status") == "executed")
    steps = [step["action"] for step in doc["history"]]
    assert steps == ["file", "accept", "decide", "publish", "record_execution"]
    assert "13991234567" not in doc["document_text"]
    assert "王五" not in str(doc)


def _lifecycle(
    keys: dict[str, str], case_type: str, steps: list[tuple[str, dict[str, Any]]], final: str
) -> list[str]:
    """File a case of `case_type`, post its `steps` (kind, data) in order, and answer the
    actions of its timeline once it reached `final`."""
    case = f"C-{uuid.uuid4().hex[:8]}"
    with client_for(SERVICES["petition-mediation"], keys["justice"]) as http:
        filed = {
            "case_id": case,
            "case_type": case_type,
            "category": "行政处罚",
            "applicant": APPLICANT,
            "respondent_unit": "market-regulation",
            "summary": "申请人王五（电话13991234567）不服行政处罚决定",
            "filed_at": _at(),
        }
        _post(http, event("mediation.case.filed", "justice", case, filed))
        for kind, data in steps:
            _post(http, event(f"mediation.case.{kind}", "justice", case, {"case_id": case, **data}))
        doc = _read(http, f"/v1/cases/{case}", lambda d: d.get("status") == final)
    assert "王五" not in str(doc)
    assert "13991234567" not in str(doc)
    return [step["action"] for step in doc["history"] if step["action"] != "overdue"]


def test_a_petition_is_not_accepted(services_up: ServiceProcesses, keys: dict[str, str]) -> None:
    steps = [("not_accepted", {"decided_at": _at(1), "reason": "不属于信访事项"})]
    assert _lifecycle(keys, "petition", steps, "not_accepted") == ["file", "not_accept"]


def test_a_petition_is_handled_reviewed_and_re_reviewed_after_a_hearing(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    def opinion(days: int) -> dict[str, Any]:
        return {"decision": "处理意见", "decided_at": _at(days), "document_text": "意见书"}

    def review(days: int) -> dict[str, Any]:
        return {"requested_at": _at(days), "reply_received_at": _at(days - 1), "to_unit": "区政府"}

    steps = [
        ("accepted", {"accepted_at": _at(1)}),
        ("extended", {"extended_at": _at(2), "approved_by": "局长", "reason": "情况复杂"}),
        ("decided", opinion(3)),
        ("review_requested", review(5)),
        ("decided", opinion(6)),
        ("review_requested", review(8)),
        ("hearing_opened", {"opened_at": _at(9)}),
        ("hearing_closed", {"closed_at": _at(10)}),
        ("decided", opinion(11)),
    ]
    assert _lifecycle(keys, "petition", steps, "closed") == [
        "file",
        "accept",
        "extend",
        "issue_opinion",
        "request_review",
        "issue_opinion",
        "request_review",
        "open_hearing",
        "close_hearing",
        "issue_opinion",
    ]


def test_a_mediation_is_referred_between_channels_on_one_thread(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    steps = [
        ("accepted", {"accepted_at": _at(1)}),
        (
            "referred",
            {"referred_at": _at(2), "to_channel": "peoples", "body": "南院门街道人民调解委员会"},
        ),
        ("accepted", {"accepted_at": _at(3)}),
        ("failed", {"failed_at": _at(4), "reason": "双方未达成一致"}),
    ]
    assert _lifecycle(keys, "mediation", steps, "failed") == [
        "file",
        "start_mediation",
        "refer",
        "start_mediation",
        "record_failure",
    ]


def test_a_reconsideration_is_corrected_converted_suspended_and_withdrawn(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    steps = [
        ("correction_requested", {"requested_at": _at(1)}),
        ("corrected", {"received_at": _at(2)}),
        (
            "accepted",
            {
                "accepted_at": _at(3),
                "procedure": "simplified",
                "simplified_ground": "parties_agree",
            },
        ),
        ("procedure_converted", {"converted_at": _at(4), "approved_by": "局长"}),
        ("suspended", {"suspended_at": _at(5), "reason": "等待相关案件结果"}),
        ("resumed", {"resumed_at": _at(6)}),
        ("withdrawn", {"withdrawn_at": _at(7), "reason": "申请人撤回"}),
    ]
    assert _lifecycle(keys, "reconsideration", steps, "withdrawn") == [
        "file",
        "request_correction",
        "receive_correction",
        "accept",
        "convert_to_general",
        "suspend",
        "resume",
        "withdraw",
    ]


def test_a_litigation_is_defended_heard_judged_and_its_recommendation_answered(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    rec = "JY-2026-7"
    steps = [
        ("defence_filed", {"defence_filed_at": _at(1)}),
        ("hearing_held", {"held_at": _at(2), "head_appeared": True}),
        (
            "recommendation_received",
            {"recommendation_id": rec, "kind": "judicial", "text": "建议", "received_at": _at(3)},
        ),
        (
            "decided",
            {"decision": "驳回诉讼请求", "decided_at": _at(4), "document_text": "判决书"},
        ),
        (
            "recommendation_answered",
            {"recommendation_id": rec, "answer": "已整改", "answered_at": _at(5)},
        ),
        ("closed", {"closed_at": _at(6), "reason": "结案"}),
    ]
    assert _lifecycle(keys, "litigation", steps, "closed") == [
        "file",
        "file_defence",
        "record_hearing",
        "receive_recommendation",
        "record_judgment",
        "answer_recommendation",
        "close",
    ]


def test_a_unit_publishes_its_list_of_adjudicable_matters(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    list_id = f"L-{uuid.uuid4().hex[:8]}"
    matters = [
        {"name": "自然资源权属争议", "basis": "《中华人民共和国土地管理法》第十四条"},
        {"name": "政府采购投诉", "basis": "《中华人民共和国政府采购法》第五十六条"},
    ]
    with client_for(SERVICES["petition-mediation"], keys["justice"]) as http:
        data = {
            "list_id": list_id,
            "unit": "justice",
            "title": "区司法局行政裁决事项清单",
            "matters": matters,
            "published_at": _at(),
        }
        _post(http, event("mediation.matters.published", "justice", list_id, data))
    with client_for(SERVICES["petition-mediation"], keys["staff"]) as http:
        doc = _read(http, f"/v1/matters/{list_id}", lambda d: True)
    assert doc["matters"] == matters
    assert doc["unit"] == "justice"


def test_an_incident_gets_a_response_level_and_an_alert_its_acknowledgement(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    incident, alert = f"I-{uuid.uuid4().hex[:8]}", f"A-{uuid.uuid4().hex[:8]}"
    unit = "emergency-management"
    with client_for(SERVICES["emergency"], keys["emergency"]) as http:
        _post(
            http,
            event(
                "emergency.incident.reported",
                unit,
                incident,
                {
                    "incident_id": incident,
                    "category": "自然灾害",
                    "grade": "relatively_serious",
                    "title": "暴雨引发内涝",
                    "location": "碑林区长安路",
                    "occurred_at": _at(),
                },
            ),
        )
        _post(
            http,
            event(
                "emergency.response.level_changed",
                unit,
                incident,
                {"incident_id": incident, "level": "III", "changed_at": _at(0.1)},
            ),
        )
        _post(
            http,
            event(
                "emergency.alert.issued",
                unit,
                alert,
                {
                    "alert_id": alert,
                    "msg_type": "alert",
                    "level": "red",
                    "category": "气象",
                    "headline": "暴雨红色预警",
                    "description": "未来3小时将出现100毫米以上降水",
                    "area": "碑林区",
                    "effective": _at(),
                    "expires": _at(0.5),
                },
            ),
        )
        doc = _read(http, f"/v1/incidents/{incident}", lambda d: d.get("status") == "responding")
        assert [row["level"] for row in doc["level_history"]] == ["III"]
    with client_for(SERVICES["emergency"], keys["staff"]) as http:
        _post(
            http,
            event(
                "emergency.alert.acknowledged",
                unit,
                alert,
                {"alert_id": alert, "staff_id": "staff-042", "acknowledged_at": _at(0.01)},
            ),
        )
        acked = _read(http, f"/v1/alerts/{alert}", lambda d: bool(d.get("acknowledgements")))
    assert acked["level"] == "red"
    assert [a["staff_id"] for a in acked["acknowledgements"]] == ["staff-042"]


def test_a_request_is_answered_and_a_document_published(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    request, document = f"R-{uuid.uuid4().hex[:8]}", f"D-{uuid.uuid4().hex[:8]}"
    with client_for(SERVICES["open-government"], keys["justice"]) as http:
        _post(
            http,
            event(
                "opengov.request.received",
                "justice",
                request,
                {
                    "request_id": request,
                    "applicant": APPLICANT,
                    "content": "申请公开2026年度行政复议案件统计",
                    "channel": "online",
                    "received_at": _at(),
                },
            ),
        )
        received = _read(http, f"/v1/requests/{request}", lambda d: d.get("status") == "received")
        assert received["due_date"] > NOW.date().isoformat()
        _post(
            http,
            event(
                "opengov.request.answered",
                "justice",
                request,
                {"request_id": request, "answer_type": "disclosed", "answered_at": _at(3)},
            ),
        )
        _post(
            http,
            event(
                "opengov.document.published",
                "justice",
                document,
                {
                    "document_id": document,
                    "doc_kind": "normative",
                    "title": "碑林区行政规范性文件管理办法",
                    "number": "碑政规〔2026〕1号",
                    "issuing_unit": "justice",
                    "body": "第一条 为规范行政规范性文件管理……",
                    "published_at": _at(),
                },
            ),
        )
        answered = _read(http, f"/v1/requests/{request}", lambda d: d.get("status") == "answered")
        published = _read(http, f"/v1/documents/{document}", lambda d: "title" in d)
    assert answered["answered_on_time"] is True
    assert published["number"] == "碑政规〔2026〕1号"


def test_a_request_is_corrected_consulted_and_extended_and_another_abandoned(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    request, dropped = f"R-{uuid.uuid4().hex[:8]}", f"R-{uuid.uuid4().hex[:8]}"
    with client_for(SERVICES["open-government"], keys["justice"]) as http:
        for rid in (request, dropped):
            _post(
                http,
                event(
                    "opengov.request.received",
                    "justice",
                    rid,
                    {
                        "request_id": rid,
                        "applicant": APPLICANT,
                        "content": "申请公开某项目审批文件",
                        "channel": "in_person",
                        "received_at": _at(),
                    },
                ),
            )
            _post(
                http,
                event(
                    "opengov.request.correction_requested",
                    "justice",
                    rid,
                    {"request_id": rid, "items": "请写明项目名称", "requested_at": _at(1)},
                ),
            )
        steps: list[tuple[str, dict[str, Any]]] = [
            ("corrected", {"corrected_at": _at(3)}),
            ("consultation_started", {"consultee_kind": "第三方", "started_at": _at(4)}),
            ("consultation_ended", {"agrees": False, "ended_at": _at(10)}),
            ("extended", {"approved_by": "政务公开办公室主任", "extended_at": _at(11)}),
        ]
        for kind, data in steps:
            _post(
                http,
                event(
                    f"opengov.request.{kind}", "justice", request, {"request_id": request, **data}
                ),
            )
        _post(
            http,
            event(
                "opengov.request.abandoned",
                "justice",
                dropped,
                {"request_id": dropped, "abandoned_at": _at(20)},
            ),
        )
        extended = _read(http, f"/v1/requests/{request}", lambda d: d.get("status") == "extended")
        abandoned = _read(http, f"/v1/requests/{dropped}", lambda d: d.get("status") == "abandoned")
    assert [row["action"] for row in extended["history"]] == [
        "receive",
        "request_correction",
        "receive_correction",
        "consult_third_party",
        "end_consultation",
        "extend",
    ]
    assert extended["provisional"] in (True, False)
    assert "延长" in extended["explanation"]
    assert abandoned["status_label_zh"] == "视为放弃申请"


def test_a_normative_document_is_reviewed_and_repealed_and_a_decision_catalogued(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    document, decision = f"D-{uuid.uuid4().hex[:8]}", f"MD-{uuid.uuid4().hex[:8]}"
    with client_for(SERVICES["open-government"], keys["justice"]) as http:
        _post(
            http,
            event(
                "opengov.document.published",
                "justice",
                document,
                {
                    "document_id": document,
                    "doc_kind": "行政规范性文件",
                    "title": "碑林区行政执法公示办法",
                    "issuing_unit": "justice",
                    "body": "第一条",
                    "published_at": _at(),
                },
            ),
        )
        for kind, data in (
            ("reviewed", {"review": "备案审查", "result": "通过", "reviewed_at": _at(1)}),
            ("validity_changed", {"validity": "废止", "changed_at": _at(2), "reason": "已替代"}),
        ):
            _post(
                http,
                event(
                    f"opengov.document.{kind}",
                    "justice",
                    document,
                    {"document_id": document, **data},
                ),
            )
        for kind, data in (
            ("listed", {"year": NOW.year, "title": "某专项规划", "listed_at": _at()}),
            (
                "step_recorded",
                {
                    "step": "风险评估",
                    "status": "已完成",
                    "started_on": NOW.date().isoformat(),
                    "ended_on": NOW.date().isoformat(),
                    "recorded_at": _at(),
                },
            ),
            ("withdrawn", {"reason": "上级规划调整", "withdrawn_at": _at(1)}),
        ):
            _post(
                http,
                event(
                    f"opengov.decision.{kind}",
                    "justice",
                    decision,
                    {"decision_id": decision, "unit": "justice", **data},
                ),
            )
        repealed = _read(
            http, f"/v1/documents/{document}", lambda d: d.get("validity") == "repealed"
        )
        withdrawn = _read(
            http, f"/v1/decisions/{decision}", lambda d: d.get("status") == "withdrawn"
        )
    assert repealed["filing_review"] == "passed"
    assert [row["what"] for row in repealed["history"]] == ["filing_review", "validity"]
    assert [row["change"] for row in withdrawn["history"]] == ["listed", "step", "withdrawn"]
    assert withdrawn["steps"]["risk_assessment"]["status"] == "done"


def test_a_major_decision_is_adopted_then_evaluated(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    decision = f"MD-{uuid.uuid4().hex[:8]}"
    with client_for(SERVICES["open-government"], keys["justice"]) as http:
        for kind, data in (
            ("adopted", {"year": 2026, "title": "碑林区法治政府建设考核办法", "adopted_at": _at()}),
            ("evaluated", {"evaluated_at": _at(1), "summary": "执行良好，继续实施"}),
        ):
            _post(
                http,
                event(
                    f"opengov.decision.{kind}",
                    "justice",
                    decision,
                    {"decision_id": decision, "unit": "justice", **data},
                ),
            )
        evaluated = _read(
            http, f"/v1/decisions/{decision}", lambda d: d.get("status") == "evaluated"
        )
    assert evaluated["title"] == "碑林区法治政府建设考核办法"
    assert evaluated["evaluation"] == "执行良好，继续实施"


def test_a_red_alert_becomes_a_supervision_item_in_real_time(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    alert = f"A-{uuid.uuid4().hex[:8]}"
    unit = "emergency-management"
    with client_for(SERVICES["emergency"], keys["emergency"]) as http:
        _post(
            http,
            event(
                "emergency.alert.issued",
                unit,
                alert,
                {
                    "alert_id": alert,
                    "msg_type": "alert",
                    "level": "红色",
                    "category": "气象",
                    "headline": "暴雨红色预警",
                    "description": "未来3小时将出现100毫米以上降水",
                    "area": "碑林区",
                    "effective": _at(),
                    "expires": _at(0.5),
                },
            ),
        )
    with client_for(SERVICES["supervision"], keys["supervisor"]) as http:
        item = _read(http, f"/v1/items/alert-{alert}", lambda d: d.get("status") == "open")
    assert (item["kind"], item["unit"], item["level"], item["escalation"]) == (
        "alert",
        unit,
        "red",
        "supervise",
    )
    assert [row["type"] for row in item["history"]] == ["supervision.item.opened"]


def test_an_incident_response_ends_and_the_incident_closes_with_its_assessment(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    incident = f"I-{uuid.uuid4().hex[:8]}"
    unit = "emergency-management"
    with client_for(SERVICES["emergency"], keys["emergency"]) as http:
        for kind, data in (
            (
                "emergency.incident.reported",
                {
                    "category": "事故灾难",
                    "grade": "general",
                    "title": "燃气泄漏",
                    "location": "碑林区东大街",
                    "occurred_at": _at(),
                },
            ),
            ("emergency.response.level_changed", {"level": "IV", "changed_at": _at(0.01)}),
            ("emergency.response.ended", {"ended_at": _at(0.1)}),
            ("emergency.incident.closed", {"closed_at": _at(1), "assessment": "处置及时。"}),
        ):
            _post(http, event(kind, unit, incident, {"incident_id": incident, **data}))
        doc = _read(http, f"/v1/incidents/{incident}", lambda d: d.get("status") == "closed")
    assert [row["level"] for row in doc["level_history"]] == ["IV", None]
    assert doc["assessment"] == "处置及时。"


def test_plans_supplies_and_forces_are_registered(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    plan, supply, force = (f"{p}-{uuid.uuid4().hex[:8]}" for p in ("P", "S", "F"))
    unit = "emergency-management"
    with client_for(SERVICES["emergency"], keys["emergency"]) as http:
        for kind, subject, data in (
            (
                "emergency.plan.registered",
                plan,
                {
                    "kind": "special",
                    "title": "碑林区防汛应急预案",
                    "owner_unit": unit,
                    "approved_on": "2025-05-01",
                    "revision_due_on": "2028-05-01",
                },
            ),
            ("emergency.plan.drilled", plan, {"drilled_on": "2026-06-15", "note": "桌面推演"}),
            (
                "emergency.supply.stocked",
                supply,
                {
                    "item": "救生衣",
                    "depot": "区应急物资库",
                    "quantity": 80,
                    "minimum": 200,
                    "counted_at": _at(),
                },
            ),
            (
                "emergency.force.registered",
                force,
                {
                    "name": "碑林区蓝天救援队",
                    "capabilities": ["水域救援"],
                    "members": 45,
                    "contact": "赵六 13800138000",
                    "insured": True,
                    "registered_on": "2026-01-10",
                },
            ),
            ("emergency.force.called_up", force, {"task": "积水区域人员转移", "called_at": _at()}),
            (
                "emergency.force.compensated",
                force,
                {"amount_yuan": 12000, "basis": "征用补偿", "compensated_at": _at(1)},
            ),
        ):
            key = {"plan": "plan_id", "supp": "supply_id", "forc": "force_id"}[kind[10:14]]
            _post(http, event(kind, unit, subject, {key: subject, **data}))
        # A document's fields are written after its timeline rows (docs/architecture.md).
        drilled = _read(http, f"/v1/plans/{plan}", lambda d: bool(d.get("last_drill_on")))
        assert drilled["last_drill_on"] == "2026-06-15"
        assert [(d["drilled_on"], d["note"]) for d in drilled["drills"]] == [
            ("2026-06-15", "桌面推演")
        ]
        low = _read(http, f"/v1/supplies/{supply}", lambda d: bool(d.get("low_since")))
        assert low["status"] == "low"
        paid = _read(http, f"/v1/forces/{force}", lambda d: d.get("compensated_yuan") == 12000)
        assert paid["call_ups"] == 1
        assert "13800138000" not in str(paid)


def test_a_finding_is_rectified_reopened_rectified_and_accepted(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    finding = f"F-{uuid.uuid4().hex[:8]}"
    item_id = f"finding-{finding}"
    with client_for(SERVICES["supervision"], keys["supervisor"]) as supervisor:
        _post(
            supervisor,
            event(
                "supervision.finding.recorded",
                "gov-office",
                finding,
                {
                    "finding_id": finding,
                    "target_unit": "justice",
                    "title": "行政复议决定书未按时网上公开",
                    "description": "抽查发现三份决定书逾期未公开",
                    "level": "橙色",
                    "due_date": (NOW + timedelta(days=20)).date().isoformat(),
                    "recorded_at": _at(),
                },
            ),
        )
        _read(supervisor, f"/v1/items/{item_id}", lambda d: d.get("status") == "open")
        with client_for(SERVICES["supervision"], keys["justice"]) as unit:

            def rectify(note: str) -> None:
                _post(
                    unit,
                    event(
                        "supervision.item.rectified",
                        "justice",
                        item_id,
                        {
                            "item_id": item_id,
                            "unit": "justice",
                            "rectified_at": _at(),
                            "note": note,
                        },
                    ),
                )
                _read(unit, f"/v1/items/{item_id}", lambda d: d.get("status") == "rectifying")

            rectify("已公开两份")
            _post(
                supervisor,
                event(
                    "supervision.item.reopened",
                    "gov-office",
                    item_id,
                    {"item_id": item_id, "reopened_at": _at(), "reason": "仍有一份未公开"},
                ),
            )
            _read(supervisor, f"/v1/items/{item_id}", lambda d: d.get("status") == "open")
            rectify("三份均已公开")
        _post(
            supervisor,
            event(
                "supervision.item.accepted",
                "gov-office",
                item_id,
                {"item_id": item_id, "accepted_at": _at(), "note": "验收通过"},
            ),
        )
        item = _read(supervisor, f"/v1/items/{item_id}", lambda d: d.get("status") == "closed")
    assert (item["unit"], item["level"], item["level_label_zh"]) == ("justice", "orange", "橙色")
    assert [row["change"] for row in item["history"]] == [
        "opened",
        "rectified",
        "open",
        "rectified",
        "closed",
    ]


def test_training_counts_against_the_duties_of_measure_30(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    year = NOW.year
    with client_for(SERVICES["supervision"], keys["justice"]) as unit:
        for hours in (40, 25):
            training = f"TR-{uuid.uuid4().hex[:8]}"
            _post(
                unit,
                event(
                    "supervision.training.recorded",
                    "justice",
                    training,
                    {
                        "training_id": training,
                        "unit": "justice",
                        "kind": "学法培训",
                        "title": "行政复议法专题培训",
                        "study_hours": hours,
                        "held_on": NOW.date().isoformat(),
                    },
                ),
            )
        assert unit.get("/v1/scorecards", params={"year": year}).status_code == 403
    with client_for(SERVICES["supervision"], keys["supervisor"]) as supervisor:

        def card() -> dict[str, Any] | None:
            cards = supervisor.get("/v1/scorecards", params={"year": year}).json()["units"]
            found = next((c for c in cards if c["unit"] == "justice"), None)
            return found if found and found["study_hours"] >= 65 else None

        justice = wait_until(card, timeout=60, what="the training in the scorecard")
    assert (justice["study_hours_duty"], justice["study_duty_met"]) == (60, True)
    assert justice["lectures_duty"] is None  # the lectures are the district government's duty


def test_every_type_a_department_posts_has_its_end_to_end_test() -> None:
    """Runs after the lifecycles above (pytest keeps file order): a new type fails here."""
    postable = {
        name
        for catalog in (SUPERVISION, MEDIATION, EMERGENCY, OPENGOV)
        for name in catalog.accepted_over_http()
    }
    assert postable - COVERED == set()
