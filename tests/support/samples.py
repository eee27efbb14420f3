"""One valid `data` of every event type a department posts, by service, for tests that mutate
valid events (strictness, hostile input, document sizes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.store.catalog import EventCatalog

AT = datetime(2026, 11, 27, 10, 0, tzinfo=CHINA_TZ).isoformat()
LATER = datetime(2026, 11, 28, 10, 0, tzinfo=CHINA_TZ).isoformat()
APPLICANT = {"name": "王五", "id_number": "610103198503021234", "phone": "13991234567"}

Sample = Callable[[str, str], dict[str, Any]]
"""(aggregate id, unit) -> data."""

SAMPLES: dict[str, Sample] = {
    "supervision.task.progress_reported": lambda agg, unit: {
        "task_id": agg,
        "unit": unit,
        "progress_pct": 60,
        "note": "行政复议决定书网上公开已上线",
        "reported_at": AT,
    },
    "supervision.task.completed": lambda agg, unit: {
        "task_id": agg,
        "unit": unit,
        "completed_at": AT,
        "evidence": "验收报告",
    },
    "supervision.item.rectified": lambda agg, unit: {
        "item_id": agg,
        "unit": unit,
        "rectified_at": AT,
        "note": "已完成整改，制度已修订",
    },
    "supervision.item.accepted": lambda agg, unit: {
        "item_id": agg,
        "accepted_at": LATER,
        "note": "整改到位",
    },
    "supervision.item.reopened": lambda agg, unit: {
        "item_id": agg,
        "reopened_at": LATER,
        "reason": "整改不到位",
    },
    "supervision.finding.recorded": lambda agg, unit: {
        "finding_id": agg,
        "target_unit": "market-regulation",
        "title": "行政执法公示不及时",
        "description": "抽查发现执法结果未在七个工作日内公示",
        "level": "yellow",
        "due_date": "2026-12-31",
        "recorded_at": AT,
    },
    "supervision.training.recorded": lambda agg, unit: {
        "training_id": agg,
        "unit": unit,
        "kind": "study",
        "title": "行政复议法专题培训",
        "study_hours": 12,
        "held_on": "2026-11-20",
    },
    "mediation.case.filed": lambda agg, unit: {
        "case_id": agg,
        "case_type": "reconsideration",
        "category": "行政处罚",
        "applicant": dict(APPLICANT),
        "respondent_unit": "market-regulation",
        "summary": "申请人王五不服行政处罚决定",
        "filed_at": AT,
    },
    "mediation.case.accepted": lambda agg, unit: {
        "case_id": agg,
        "accepted_at": LATER,
        "procedure": "general",
    },
    "mediation.case.decided": lambda agg, unit: {
        "case_id": agg,
        "decision": "撤销原行政处罚决定",
        "decided_at": LATER,
        "document_text": "本机关决定撤销。",
        "outcome": "revoked",
    },
    "mediation.case.not_accepted": lambda agg, unit: {
        "case_id": agg,
        "decided_at": LATER,
        "reason": "不属于行政复议范围",
    },
    "mediation.case.correction_requested": lambda agg, unit: {
        "case_id": agg,
        "requested_at": LATER,
    },
    "mediation.case.corrected": lambda agg, unit: {"case_id": agg, "received_at": LATER},
    "mediation.case.extended": lambda agg, unit: {
        "case_id": agg,
        "extended_at": LATER,
        "approved_by": "区司法局局长",
        "reason": "案情复杂",
    },
    "mediation.case.procedure_converted": lambda agg, unit: {
        "case_id": agg,
        "converted_at": LATER,
        "approved_by": "区司法局局长",
    },
    "mediation.case.suspended": lambda agg, unit: {
        "case_id": agg,
        "suspended_at": LATER,
        "reason": "需等待相关案件审理结果",
    },
    "mediation.case.resumed": lambda agg, unit: {"case_id": agg, "resumed_at": LATER},
    "mediation.case.hearing_opened": lambda agg, unit: {"case_id": agg, "opened_at": LATER},
    "mediation.case.hearing_closed": lambda agg, unit: {"case_id": agg, "closed_at": LATER},
    "mediation.case.review_requested": lambda agg, unit: {
        "case_id": agg,
        "requested_at": LATER,
        "reply_received_at": LATER,
        "to_unit": "区人民政府",
    },
    "mediation.case.referred": lambda agg, unit: {
        "case_id": agg,
        "referred_at": LATER,
        "to_channel": "peoples",
        "body": "南院门街道人民调解委员会",
    },
    "mediation.case.failed": lambda agg, unit: {
        "case_id": agg,
        "failed_at": LATER,
        "reason": "双方未达成一致",
    },
    "mediation.case.defence_filed": lambda agg, unit: {"case_id": agg, "defence_filed_at": LATER},
    "mediation.case.hearing_held": lambda agg, unit: {
        "case_id": agg,
        "held_at": LATER,
        "head_appeared": True,
    },
    "mediation.case.recommendation_received": lambda agg, unit: {
        "case_id": agg,
        "recommendation_id": "JY-2026-001",
        "kind": "judicial",
        "text": "建议规范行政处罚程序",
        "received_at": LATER,
    },
    "mediation.case.recommendation_answered": lambda agg, unit: {
        "case_id": agg,
        "recommendation_id": "JY-2026-001",
        "answer": "已完成整改",
        "answered_at": LATER,
    },
    "mediation.case.withdrawn": lambda agg, unit: {
        "case_id": agg,
        "withdrawn_at": LATER,
        "reason": "申请人撤回申请",
    },
    "mediation.case.closed": lambda agg, unit: {
        "case_id": agg,
        "closed_at": LATER,
        "reason": "结案",
    },
    "mediation.matters.published": lambda agg, unit: {
        "list_id": agg,
        "unit": unit,
        "title": "区司法局行政裁决事项清单",
        "matters": [{"name": "自然资源权属争议", "basis": "《中华人民共和国土地管理法》第十四条"}],
        "published_at": AT,
    },
    "mediation.decision.executed": lambda agg, unit: {
        "case_id": agg,
        "executed_at": LATER,
        "note": "已按决定退还罚款",
    },
    "emergency.incident.reported": lambda agg, unit: {
        "incident_id": agg,
        "category": "自然灾害",
        "grade": "relatively_serious",
        "title": "暴雨引发内涝",
        "location": "碑林区长安路",
        "occurred_at": AT,
    },
    "emergency.response.level_changed": lambda agg, unit: {
        "incident_id": agg,
        "level": "III",
        "changed_at": LATER,
    },
    "emergency.response.ended": lambda agg, unit: {
        "incident_id": agg,
        "ended_at": LATER,
        "note": "积水已排除",
    },
    "emergency.incident.closed": lambda agg, unit: {
        "incident_id": agg,
        "closed_at": LATER,
        "assessment": "内涝处置及时，无人员伤亡。",
    },
    "emergency.plan.registered": lambda agg, unit: {
        "plan_id": agg,
        "kind": "special",
        "title": "碑林区防汛应急预案",
        "owner_unit": "emergency-management",
        "approved_on": "2025-05-01",
        "revision_due_on": "2028-05-01",
    },
    "emergency.plan.drilled": lambda agg, unit: {
        "plan_id": agg,
        "drilled_on": "2026-06-15",
        "note": "防汛桌面推演",
    },
    "emergency.supply.stocked": lambda agg, unit: {
        "supply_id": agg,
        "item": "救生衣",
        "depot": "碑林区应急物资库",
        "quantity": 120,
        "minimum": 200,
        "measure": "件",
        "counted_at": AT,
    },
    "emergency.force.registered": lambda agg, unit: {
        "force_id": agg,
        "name": "碑林区蓝天救援队",
        "capabilities": ["水域救援", "山地搜救"],
        "members": 45,
        "contact": "赵六 13800138000",
        "insured": True,
        "registered_on": "2026-01-10",
    },
    "emergency.force.called_up": lambda agg, unit: {
        "force_id": agg,
        "task": "长安路积水区域人员转移",
        "called_at": AT,
    },
    "emergency.force.compensated": lambda agg, unit: {
        "force_id": agg,
        "amount_yuan": 12000,
        "basis": "征用补偿",
        "compensated_at": LATER,
    },
    "emergency.alert.issued": lambda agg, unit: {
        "alert_id": agg,
        "msg_type": "alert",
        "level": "red",
        "category": "气象",
        "headline": "暴雨红色预警",
        "description": "未来3小时将出现100毫米以上降水",
        "area": "碑林区",
        "effective": AT,
        "expires": LATER,
    },
    "emergency.alert.acknowledged": lambda agg, unit: {
        "alert_id": agg,
        "staff_id": "staff-042",
        "acknowledged_at": LATER,
    },
    "opengov.request.received": lambda agg, unit: {
        "request_id": agg,
        "applicant": dict(APPLICANT),
        "content": "申请公开2026年度行政复议案件统计",
        "channel": "online",
        "received_at": AT,
    },
    "opengov.request.answered": lambda agg, unit: {
        "request_id": agg,
        "answer_type": "disclosed",
        "answered_at": LATER,
    },
    "opengov.request.correction_requested": lambda agg, unit: {
        "request_id": agg,
        "items": "请写明所需信息的名称、文号或者便于查询的其他特征性描述",
        "requested_at": LATER,
    },
    "opengov.request.corrected": lambda agg, unit: {"request_id": agg, "corrected_at": LATER},
    "opengov.request.abandoned": lambda agg, unit: {"request_id": agg, "abandoned_at": LATER},
    "opengov.request.consultation_started": lambda agg, unit: {
        "request_id": agg,
        "consultee_kind": "third_party",
        "started_at": LATER,
    },
    "opengov.request.consultation_ended": lambda agg, unit: {
        "request_id": agg,
        "agrees": True,
        "ended_at": LATER,
    },
    "opengov.request.extended": lambda agg, unit: {
        "request_id": agg,
        "approved_by": "政务公开办公室主任",
        "extended_at": LATER,
    },
    "opengov.decision.listed": lambda agg, unit: {
        "decision_id": agg,
        "year": 2026,
        "title": "碑林区老旧小区改造三年行动计划",
        "unit": unit,
        "summary": "改造老旧小区120个",
        "listed_at": AT,
    },
    "opengov.decision.withdrawn": lambda agg, unit: {
        "decision_id": agg,
        "unit": unit,
        "reason": "上级政策调整",
        "withdrawn_at": LATER,
    },
    "opengov.decision.step_recorded": lambda agg, unit: {
        "decision_id": agg,
        "unit": unit,
        "step": "hearing",
        "status": "done",
        "started_on": "2026-11-20",
        "ended_on": "2026-11-20",
        "note": "听证会在区政府召开",
        "recorded_at": LATER,
    },
    "opengov.decision.adopted": lambda agg, unit: {
        "decision_id": agg,
        "year": 2026,
        "title": "碑林区老旧小区改造三年行动计划",
        "unit": unit,
        "adopted_at": AT,
    },
    "opengov.decision.evaluated": lambda agg, unit: {
        "decision_id": agg,
        "unit": unit,
        "evaluated_at": LATER,
        "summary": "决策执行情况良好，建议继续实施",
    },
    "opengov.document.published": lambda agg, unit: {
        "document_id": agg,
        "doc_kind": "normative",
        "title": "碑林区行政规范性文件管理办法",
        "number": "碑政规〔2026〕1号",
        "issuing_unit": unit,
        "body": "第一条 为规范行政规范性文件管理……",
        "published_at": AT,
    },
    "opengov.document.reviewed": lambda agg, unit: {
        "document_id": agg,
        "review": "filing",
        "result": "passed",
        "reviewed_at": LATER,
    },
    "opengov.document.validity_changed": lambda agg, unit: {
        "document_id": agg,
        "validity": "repealed",
        "changed_at": LATER,
        "reason": "已被新文件代替",
    },
}


def sample(event_type: str, aggregate: str, unit: str = "justice") -> dict[str, Any]:
    return SAMPLES[event_type](aggregate, unit)


def catalogs() -> dict[str, EventCatalog]:
    """The catalogues of the four services, by service name."""
    from emergency.events import CATALOG as EMERGENCY
    from open_government.events import CATALOG as OPENGOV
    from petition_mediation.events import CATALOG as MEDIATION
    from supervision.events import CATALOG as SUPERVISION

    return {
        "supervision": SUPERVISION,
        "petition-mediation": MEDIATION,
        "emergency": EMERGENCY,
        "open-government": OPENGOV,
    }
