"""Statutory terms: every enumeration a department sends takes the code or the law's term."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from fazhi.bus.publisher import FakePublisher
from fazhi.contracts import all_topics
from fazhi.contracts.emergency import (
    AlertIssued,
    AlertLevel,
    CapStatus,
    Grade,
    IncidentCategory,
    IncidentReported,
    MsgType,
    PlanKind,
    ResponseLevel,
    ResponseLevelChanged,
)
from fazhi.contracts.envelope import CloudEvent, new_event
from fazhi.contracts.mediation import (
    CaseAccepted,
    CaseType,
    Outcome,
    Procedure,
    RecommendationKind,
    SimplifiedGround,
)
from fazhi.contracts.mediation import (
    Channel as MediationChannel,
)
from fazhi.contracts.opengov import (
    AnswerType,
    Channel,
    Consultee,
    DecisionStep,
    DocKind,
    Review,
    ReviewResult,
    StepStatus,
    Validity,
)
from fazhi.contracts.supervision import ItemLevel, TrainingKind
from fazhi.contracts.terms import LABELS_KEY, Term, with_labels
from fazhi.roles import Role
from fazhi.web.auth import Principal
from fazhi.web.ingest import _check_event, as_published
from fazhi.web.problems import Problem

STATUTORY = {
    Grade: {
        "particularly_serious": "特别重大",
        "serious": "重大",
        "relatively_serious": "较大",
        "general": "一般",
    },
    AlertLevel: {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"},
    ResponseLevel: {"I": "一级", "II": "二级", "III": "三级", "IV": "四级"},
    IncidentCategory: {
        "natural_disaster": "自然灾害",
        "accident": "事故灾难",
        "public_health": "公共卫生事件",
        "social_security": "社会安全事件",
    },
    PlanKind: {"overall": "总体应急预案", "special": "专项应急预案", "department": "部门应急预案"},
    Procedure: {"general": "普通程序", "simplified": "简易程序"},
    MediationChannel: {"administrative": "行政调解", "peoples": "人民调解", "judicial": "司法调解"},
    RecommendationKind: {"judicial": "司法建议", "procuratorial": "检察建议"},
    SimplifiedGround: {
        "on_the_spot": "当场作出",
        "warning_or_criticism": "警告或者通报批评",
        "amount_up_to_3000": "款额三千元以下",
        "open_government": "政府信息公开案件",
        "parties_agree": "当事人各方同意",
    },
    Outcome: {
        "changed": "变更",
        "revoked": "撤销",
        "confirmed_illegal": "确认违法",
        "ordered_to_perform": "责令履行",
        "confirmed_invalid": "确认无效",
        "upheld": "维持",
        "dismissed": "驳回",
        "mediated": "调解书",
    },
    CaseType: {
        "petition": "信访",
        "mediation": "行政调解",
        "adjudication": "行政裁决",
        "reconsideration": "行政复议",
        "litigation": "行政应诉",
    },
    Channel: {"in_person": "当面提交", "mail": "邮寄", "online": "互联网渠道"},
    AnswerType: {
        "already_public": "已主动公开",
        "disclosed": "予以公开",
        "not_disclosed": "不予公开",
        "not_held": "信息不存在",
        "not_our_remit": "不属于本机关负责公开",
        "duplicate": "不予重复处理",
        "special_procedure": "依特别规定办理",
        "partially_disclosed": "部分公开",
        "not_processed": "不予处理",
    },
    Consultee: {"third_party": "第三方", "agency": "共同制作机关"},
    DocKind: {
        "normative": "行政规范性文件",
        "policy": "政策文件",
        "power_list": "权责清单",
        "no_penalty": "不予处罚清单",
        "adjudicable": "行政裁决事项清单",
        "dishonesty": "政务失信记录",
        "enforcement": "行政执法公示",
        "news": "新闻动态",
        "reconsideration": "行政复议决定书",
        "emergency_notice": "突发事件信息发布",
    },
    Validity: {"effective": "有效", "expired": "失效", "repealed": "废止"},
    Review: {"legality": "合法性审核", "filing": "备案审查"},
    ReviewResult: {"submitted": "已报送", "passed": "通过", "failed": "未通过"},
    DecisionStep: {
        "public_comment": "公众参与",
        "hearing": "听证",
        "expert_argument": "专家论证",
        "risk_assessment": "风险评估",
        "legality_review": "合法性审查",
        "collective_discussion": "集体讨论决定",
    },
    StepStatus: {
        "planned": "未开始",
        "in_progress": "进行中",
        "done": "已完成",
        "not_applicable": "不适用",
    },
    MsgType: {"alert": "发布", "update": "更新", "cancel": "解除"},
    ItemLevel: {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"},
    TrainingKind: {"study": "学法培训", "lecture": "法治专题讲座"},
    CapStatus: {
        "actual": "实际",
        "exercise": "演练",
        "system": "系统",
        "test": "测试",
        "draft": "草稿",
    },
}
EMERGENCY_STAFF = Principal(
    key_id="k1", unit="emergency-management", roles=frozenset({Role.DEPARTMENT})
)


def _enums_in(model: type[BaseModel]) -> set[type[Enum]]:
    found: set[type[Enum]] = set()
    for field in model.model_fields.values():
        for kind in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(kind, type) and issubclass(kind, Enum):
                found.add(kind)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= _enums_in(kind)
    return found


@pytest.mark.parametrize("term", list(STATUTORY), ids=lambda t: t.__name__)
def test_each_code_carries_its_statutory_term(term: type[Term]) -> None:
    assert {m.value: m.label_zh for m in term} == STATUTORY[term]


def test_every_enumeration_a_department_sends_is_a_term() -> None:
    sent = {
        enum
        for topic in all_topics()
        for contract in topic.types.values()
        if not contract.derived
        for enum in _enums_in(contract.model)
    }
    assert sent == set(STATUTORY)


@pytest.mark.parametrize("term", list(STATUTORY), ids=lambda t: t.__name__)
def test_no_wording_names_two_members(term: type[Term]) -> None:
    wordings = [w for m in term for w in (m.value, *m.terms)]
    assert len(wordings) == len(set(wordings))


@pytest.mark.parametrize(
    ("wording", "member"),
    [
        ("一般", Grade.GENERAL),
        ("较大", Grade.RELATIVELY_SERIOUS),
        ("红色", AlertLevel.RED),
        ("一级", AlertLevel.RED),
        ("Ⅰ级", ResponseLevel.I),
        ("四级", ResponseLevel.IV),
        ("一般程序", Procedure.GENERAL),
        ("普通程序", Procedure.GENERAL),
        ("行政复议", CaseType.RECONSIDERATION),
        ("传真", Channel.ONLINE),
        ("Update", MsgType.UPDATE),
    ],
)
def test_a_term_is_looked_up_by_code_and_by_its_wordings(wording: str, member: Term) -> None:
    assert type(member)(wording) is member
    assert type(member)(member.value) is member


def test_an_unknown_wording_is_no_member() -> None:
    with pytest.raises(ValueError, match="'紫色' is not a valid AlertLevel"):
        AlertLevel("紫色")


@pytest.mark.parametrize("grade", ["一般", "general"])
def test_json_and_python_input_give_the_code(grade: str) -> None:
    data = {
        "incident_id": "I-1",
        "category": "自然灾害",
        "grade": grade,
        "title": "暴雨",
        "location": "碑林区",
        "occurred_at": "2026-07-01T08:00:00+08:00",
    }
    from_python = IncidentReported.model_validate(data)
    from_json = IncidentReported.model_validate_json(json.dumps(data))
    assert from_python.grade is from_json.grade is Grade.GENERAL
    assert from_json.model_dump(mode="json")["grade"] == "general"


def test_the_default_and_a_posted_term_are_members_alike() -> None:
    assert (
        CaseAccepted.model_validate_json(
            '{"case_id": "C-1", "accepted_at": "2026-03-02T09:00:00+08:00"}'
        ).procedure
        is Procedure.GENERAL
    )
    accepted = CaseAccepted.model_validate(
        {"case_id": "C-1", "accepted_at": "2026-03-02T09:00:00+08:00", "procedure": "简易程序"}
    )
    assert accepted.procedure is Procedure.SIMPLIFIED


def test_an_unknown_term_lists_every_accepted_value() -> None:
    with pytest.raises(ValidationError) as refused:
        IncidentReported.model_validate_json(
            '{"incident_id": "I-1", "category": "自然灾害", "grade": "很大", "title": "t", '
            '"location": "l", "occurred_at": "2026-07-01T08:00:00+08:00"}'
        )
    [error] = refused.value.errors()
    assert error["loc"] == ("grade",)
    assert error["type"] == "enum"
    assert error["msg"] == (
        "Input should be a code or its statutory term: particularly_serious (特别重大), "
        "serious (重大), relatively_serious (较大), general (一般)"
    )


def test_input_schemas_list_codes_and_terms_output_schemas_the_codes() -> None:
    accepted = IncidentReported.model_json_schema()["$defs"]["Grade"]
    returned = IncidentReported.model_json_schema(mode="serialization")["$defs"]["Grade"]
    codes = ["particularly_serious", "serious", "relatively_serious", "general"]
    assert accepted["enum"] == [*codes, "特别重大", "重大", "较大", "一般"]
    assert returned["enum"] == codes
    assert accepted[LABELS_KEY] == returned[LABELS_KEY] == STATUTORY[Grade]
    assert "突发事件应对法 art. 3" in accepted["description"]
    assert "general 一般" in accepted["description"]


def test_other_wordings_are_in_the_input_schema_too() -> None:
    alert_levels = AlertIssued.model_json_schema()["$defs"]["AlertLevel"]["enum"]
    response_levels = ResponseLevelChanged.model_json_schema()["$defs"]["ResponseLevel"]["enum"]
    assert {"红色", "一级"} <= set(alert_levels)
    assert set(ResponseLevel.I.terms) == {"一级", "Ⅰ级", "I级"} <= set(response_levels)


def test_a_term_without_its_chinese_term_cannot_be_declared() -> None:
    with pytest.raises(TypeError, match="needs its Chinese term"):

        class Colour(Term):
            RED = "red"


def test_read_models_get_the_label_beside_each_known_code() -> None:
    doc: dict[str, Any] = {"grade": "serious", "response_level": "II", "title": "t"}
    labelled = with_labels(doc, {"grade": Grade, "response_level": ResponseLevel})
    assert labelled == {
        "grade": "serious",
        "grade_label_zh": "重大",
        "response_level": "II",
        "response_level_label_zh": "二级",
        "title": "t",
    }
    assert with_labels({"grade": None, "x": 1}, {"grade": Grade, "level": AlertLevel}) == {
        "grade": None,
        "x": 1,
    }
    assert with_labels({"grade": "huge"}, {"grade": Grade}) == {"grade": "huge"}


def _incident(grade: str) -> CloudEvent:
    return new_event(
        type="emergency.incident.reported",
        source="/units/emergency-management",
        subject="I-1",
        id="e-1",
        data={
            "incident_id": "I-1",
            "category": "自然灾害",
            "grade": grade,
            "title": "暴雨",
            "location": "碑林区",
            "occurred_at": "2026-07-01T08:00:00+08:00",
        },
    )


def test_posting_the_term_or_the_code_gives_the_same_data() -> None:
    from emergency.events import CATALOG

    _, by_term = _check_event(_incident("一般"), None, CATALOG, EMERGENCY_STAFF)
    _, by_code = _check_event(_incident("general"), None, CATALOG, EMERGENCY_STAFF)
    assert by_term == by_code
    assert by_term.model_dump(mode="json")["grade"] == "general"


def test_posting_an_unknown_term_is_a_422_naming_the_field_and_the_accepted_values() -> None:
    from emergency.events import CATALOG

    with pytest.raises(Problem) as refused:
        _check_event(_incident("很大"), None, CATALOG, EMERGENCY_STAFF)
    assert refused.value.status == 422
    [error] = refused.value.extensions["errors"]
    assert error["field"] == "data.grade"
    assert "general (一般)" in error["message"]
    assert "particularly_serious (特别重大)" in error["message"]


def test_the_event_is_published_with_the_code_and_only_what_was_posted() -> None:
    from emergency.events import CATALOG

    posted = _incident("一般")
    event_type, data = _check_event(posted, None, CATALOG, EMERGENCY_STAFF)
    published = as_published(posted, data, event_type, EMERGENCY_STAFF)
    assert published.data == {**posted.data, "grade": "general", "category": "natural_disaster"}
    assert (published.id, published.subject, published.time) == (
        posted.id,
        posted.subject,
        posted.time,
    )
    accepted = new_event(
        type="mediation.case.accepted",
        source="/units/justice",
        subject="C-1",
        data={"case_id": "C-1", "accepted_at": "2026-03-02T09:00:00+08:00"},
    )
    from petition_mediation.events import CATALOG as MEDIATION

    case_accepted = MEDIATION.types["mediation.case.accepted"]
    republished = as_published(
        accepted, CaseAccepted.model_validate(accepted.data), case_accepted, EMERGENCY_STAFF
    )
    assert republished.data == {"case_id": "C-1", "accepted_at": "2026-03-02T09:00:00+08:00"}
    assert republished.dataschema == "urn:fazhi:schema:mediation.case.accepted:v1"
    assert (republished.model_extra or {})["keyid"] == EMERGENCY_STAFF.key_id


def test_the_openapi_document_lists_each_posted_type_with_codes_and_terms() -> None:
    from emergency.api import create_app

    spec = create_app(publisher=FakePublisher()).openapi()
    types = spec["paths"]["/v1/events"]["post"]["x-event-types"]
    assert types["emergency.incident.reported"] == {"$ref": "#/components/schemas/IncidentReported"}
    schemas = spec["components"]["schemas"]
    assert schemas["IncidentReported"]["properties"]["grade"] == {
        "$ref": "#/components/schemas/Grade"
    }
    assert {"general", "一般", "relatively_serious", "较大"} <= set(schemas["Grade"]["enum"])
    assert {"red", "红色"} <= set(schemas["AlertLevel"]["enum"])
