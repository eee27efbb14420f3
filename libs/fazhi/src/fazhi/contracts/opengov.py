"""The contract of `opengov.events`, owned by open-government 政务公开: disclosure requests
依申请公开 and their answers (政府信息公开条例 2019), published documents, and major administrative
decisions 重大行政决策 (重大行政决策程序暂行条例 2019)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from fazhi.contracts import EventContract, Term, TopicContract
from fazhi.contracts.models import PERSONAL, Applicant, Id, LongText, Payload, ShortText, UnitCode
from fazhi.topology import OPEN_GOVERNMENT


class Channel(Term):
    """Art. 31: how the request came, which fixes its date of receipt. Its item (三) puts the
    internet and the disclosure office's fax under one rule, so both are `online`."""

    IN_PERSON = "in_person", "当面提交"
    MAIL = "mail", "邮寄", "信函"
    ONLINE = "online", "互联网渠道", "互联网", "传真"


class AnswerType(Term):
    """The reply to a request: art. 36's seven answers, art. 37's partial disclosure, and the
    art. 35 refusal to process an unreasonable volume of requests."""

    ALREADY_PUBLIC = "already_public", "已主动公开"  # 36(1) 告知获取方式、途径
    DISCLOSED = "disclosed", "予以公开"  # 36(2)
    NOT_DISCLOSED = "not_disclosed", "不予公开"  # 36(3) 说明理由
    NOT_HELD = "not_held", "信息不存在", "政府信息不存在"  # 36(4) 经检索没有
    NOT_OUR_REMIT = "not_our_remit", "不属于本机关负责公开", "不属于本行政机关负责公开"  # 36(5)
    DUPLICATE = "duplicate", "不予重复处理", "重复申请"  # 36(6)
    SPECIAL_PROCEDURE = "special_procedure", "依特别规定办理"  # 36(7) 工商、不动产登记资料等
    PARTIALLY_DISCLOSED = "partially_disclosed", "部分公开"  # 37 不公开部分说明理由
    NOT_PROCESSED = "not_processed", "不予处理"  # 35 数量、频次明显超过合理范围

    @property
    def needs_reason(self) -> bool:
        """Whether the law makes the answer state its reasons (说明理由)."""
        return self in _REASONED


_REASONED = frozenset(
    {
        AnswerType.NOT_DISCLOSED,
        AnswerType.NOT_OUR_REMIT,
        AnswerType.PARTIALLY_DISCLOSED,
        AnswerType.NOT_PROCESSED,
    }
)


class DocKind(Term):
    """What a published item is: 政府信息公开条例 art. 20 and the plan's measures 一, 四, 十一,
    十二, 十七, 二十四, 三十一; reconsideration decisions and emergency notices come from other
    services."""

    NORMATIVE = "normative", "行政规范性文件", "规范性文件"
    POLICY = "policy", "政策文件"
    POWER_LIST = "power_list", "权责清单"
    NO_PENALTY = "no_penalty", "不予处罚清单", "免罚清单"
    ADJUDICABLE = "adjudicable", "行政裁决事项清单"
    DISHONESTY = "dishonesty", "政务失信记录", "失信记录"
    ENFORCEMENT = "enforcement", "行政执法公示", "执法公示"
    NEWS = "news", "新闻动态", "法治宣传"
    RECONSIDERATION = "reconsideration", "行政复议决定书"
    EMERGENCY_NOTICE = "emergency_notice", "突发事件信息发布"


class Validity(Term):
    """A normative document's validity (有效性)."""

    EFFECTIVE = "effective", "有效"
    EXPIRED = "expired", "失效"
    REPEALED = "repealed", "废止"


class Review(Term):
    """The reviews a normative document passes: 合法性审核 before it is issued, 备案审查 after."""

    LEGALITY = "legality", "合法性审核"
    FILING = "filing", "备案审查"


class ReviewResult(Term):
    SUBMITTED = "submitted", "已报送", "审查中"
    PASSED = "passed", "通过", "审查通过"
    FAILED = "failed", "未通过", "审查未通过"


class Consultee(Term):
    """Who is consulted before an answer: art. 32 third party, art. 34 co-authoring agency."""

    THIRD_PARTY = "third_party", "第三方"
    AGENCY = "agency", "共同制作机关"


class DecisionStep(Term):
    """The procedure of a major decision (重大行政决策程序暂行条例 chapter 3)."""

    PUBLIC_COMMENT = "public_comment", "公众参与", "公开征求意见"  # arts. 14-18
    HEARING = "hearing", "听证"  # arts. 16-18
    EXPERT_ARGUMENT = "expert_argument", "专家论证"  # arts. 19-21
    RISK_ASSESSMENT = "risk_assessment", "风险评估"  # arts. 22-24
    LEGALITY_REVIEW = "legality_review", "合法性审查"  # arts. 25-28
    COLLECTIVE_DISCUSSION = "collective_discussion", "集体讨论决定"  # arts. 30-32


class StepStatus(Term):
    PLANNED = "planned", "未开始"
    IN_PROGRESS = "in_progress", "进行中"
    DONE = "done", "已完成"
    NOT_APPLICABLE = "not_applicable", "不适用"


class RequestReceived(Payload):
    request_id: Id
    applicant: Annotated[Applicant, PERSONAL]
    content: Annotated[LongText, PERSONAL]
    channel: Channel
    received_at: AwareDatetime


class RequestAnswered(Payload):
    request_id: Id
    answer_type: AnswerType
    answered_at: AwareDatetime
    reason: Annotated[ShortText, PERSONAL] = ""
    """Why it is not (fully) disclosed: required for the answers of arts. 35, 36(3), 36(5), 37."""


class CorrectionRequested(Payload):
    """Art. 30: the one notice listing what to correct (补正), within 7 working days."""

    request_id: Id
    items: Annotated[ShortText, PERSONAL]
    """What to correct, as told to the applicant (may name them)."""
    requested_at: AwareDatetime


class RequestCorrected(Payload):
    """The corrected request arrived: the reply period starts again (art. 30)."""

    request_id: Id
    corrected_at: AwareDatetime


class RequestAbandoned(Payload):
    """Art. 30: no correction in time, so the request is deemed abandoned."""

    request_id: Id
    abandoned_at: AwareDatetime


class ConsultationStarted(Payload):
    """Arts. 32, 34: the time a consultation takes does not count (art. 33(3))."""

    request_id: Id
    consultee_kind: Consultee = Consultee.THIRD_PARTY
    started_at: AwareDatetime


class ConsultationEnded(Payload):
    request_id: Id
    agrees: bool | None = None
    """The consultee's answer; none when the 15 working days passed without one."""
    ended_at: AwareDatetime


class RequestExtended(Payload):
    """Art. 33(2): 20 more working days, approved by the head of the disclosure office."""

    request_id: Id
    approved_by: ShortText
    extended_at: AwareDatetime


class RequestDueSoon(Payload):
    """A request's reply period is about to end unanswered (临期提醒): `days_left` calendar
    days before its due date (0: due today). Once per request and due date."""

    request_id: Id
    unit: UnitCode
    """The receiving unit, which must answer."""
    due_date: date
    days_left: int = Field(ge=0)


class RequestOverdue(Payload):
    """A request's reply period ended unanswered (derived by the open-government timer)."""

    request_id: Id
    unit: UnitCode
    """The receiving unit, which must answer."""
    due_date: date
    days_overdue: int = Field(ge=1)


class DecisionListed(Payload):
    """A decision is entered in (or adjusted within) its year's catalogue 重大行政决策事项目录
    (art. 10): posting it again with other words is an adjustment, kept as a change."""

    decision_id: Id
    year: int = Field(ge=2000, le=2100)
    title: ShortText
    unit: UnitCode
    summary: LongText = ""
    listed_at: AwareDatetime


class DecisionWithdrawn(Payload):
    """A decision is taken out of its year's catalogue (调出目录), with the reason."""

    decision_id: Id
    unit: UnitCode
    reason: ShortText
    withdrawn_at: AwareDatetime


class DecisionStepRecorded(Payload):
    """One procedure step of a decision: its status and dates."""

    decision_id: Id
    unit: UnitCode
    step: DecisionStep
    status: StepStatus
    started_on: date | None = None
    ended_on: date | None = None
    note: ShortText | None = None
    recorded_at: AwareDatetime


class DecisionAdopted(Payload):
    """A major administrative decision (重大行政决策) is adopted (作出决策); its execution and
    post-evaluation (决策后评估) are tracked from here (重大行政决策程序暂行条例 arts. 36-39)."""

    decision_id: Id
    year: int = Field(ge=2000, le=2100)
    """The year of the catalogue (重大行政决策事项目录) that lists it."""
    title: ShortText
    unit: UnitCode
    """The unit that carries it out (决策承办单位)."""
    adopted_at: AwareDatetime


class DecisionEvaluated(Payload):
    """The post-evaluation (决策后评估) of an adopted decision is done."""

    decision_id: Id
    unit: UnitCode
    evaluated_at: AwareDatetime
    summary: LongText


class DocumentPublished(Payload):
    """A document made public, or a new version of it (publishing the same id again amends
    it; every version stays readable)."""

    document_id: Id
    doc_kind: DocKind
    title: ShortText
    number: str = Field(default="", max_length=64)
    """The document number; a normative document's comes from `POST /v1/registry/numbers`."""
    issuing_unit: UnitCode
    body: LongText
    published_at: AwareDatetime
    made_on: date | None = None
    """The day it was made or changed: proactive publication is due 20 working days later."""
    valid_from: date | None = None
    valid_until: date | None = None
    code: str | None = Field(default=None, max_length=64)
    """A power list item's code (权责清单编码)."""
    basis: ShortText | None = None
    """The legal basis (设定依据) of a list item."""
    item_type: ShortText | None = None
    """A power list item's type (权力类型: 行政许可, 行政处罚, …)."""
    version_note: ShortText | None = None
    """What an amendment changed (修订说明)."""


class DocumentReviewed(Payload):
    """A normative document's legality review (合法性审核) or filing review (备案审查)."""

    document_id: Id
    review: Review
    result: ReviewResult
    reviewed_at: AwareDatetime
    note: ShortText | None = None


class ValidityChanged(Payload):
    """A normative document expires (失效) or is repealed (废止), or is declared effective again."""

    document_id: Id
    validity: Validity
    changed_at: AwareDatetime
    reason: ShortText | None = None


CONTRACT = TopicContract.of(
    OPEN_GOVERNMENT,
    "Disclosure requests 依申请公开, published documents and major decisions 重大行政决策 of "
    "open-government 政务公开.",
    [
        EventContract(
            "opengov.request.received",
            RequestReceived,
            "request_id",
            "A disclosure request is received (art. 31); its reply clock starts.",
        ),
        EventContract(
            "opengov.request.answered",
            RequestAnswered,
            "request_id",
            "A disclosure request is answered (arts. 35-37).",
        ),
        EventContract(
            "opengov.request.correction_requested",
            CorrectionRequested,
            "request_id",
            "The applicant is asked once to correct the request (补正, art. 30); the clock stops.",
        ),
        EventContract(
            "opengov.request.corrected",
            RequestCorrected,
            "request_id",
            "The corrected request arrived; the reply period starts again (art. 30).",
        ),
        EventContract(
            "opengov.request.abandoned",
            RequestAbandoned,
            "request_id",
            "No correction came in time: the request is deemed abandoned (art. 30).",
        ),
        EventContract(
            "opengov.request.consultation_started",
            ConsultationStarted,
            "request_id",
            "A third party or agency is consulted (arts. 32, 34); the clock pauses.",
        ),
        EventContract(
            "opengov.request.consultation_ended",
            ConsultationEnded,
            "request_id",
            "The consultation ended (or lapsed); the clock resumes.",
        ),
        EventContract(
            "opengov.request.extended",
            RequestExtended,
            "request_id",
            "The reply period is extended by 20 working days with approval (art. 33(2)).",
        ),
        EventContract(
            "opengov.request.due_soon",
            RequestDueSoon,
            "request_id",
            "A disclosure request's reply period is about to end unanswered: the receiving "
            "unit is reminded a few days before (once per request and due date).",
            derived=True,
        ),
        EventContract(
            "opengov.request.overdue",
            RequestOverdue,
            "request_id",
            "A disclosure request's reply period ended unanswered.",
            derived=True,
        ),
        EventContract(
            "opengov.decision.listed",
            DecisionListed,
            "decision_id",
            "A major decision is entered in, or adjusted within, its year's catalogue.",
        ),
        EventContract(
            "opengov.decision.withdrawn",
            DecisionWithdrawn,
            "decision_id",
            "A major decision is taken out of its year's catalogue.",
        ),
        EventContract(
            "opengov.decision.step_recorded",
            DecisionStepRecorded,
            "decision_id",
            "A procedure step of a major decision (public comment, hearing, …) is recorded.",
        ),
        EventContract(
            "opengov.decision.adopted",
            DecisionAdopted,
            "decision_id",
            "A major administrative decision is adopted; its execution is tracked.",
        ),
        EventContract(
            "opengov.decision.evaluated",
            DecisionEvaluated,
            "decision_id",
            "The post-evaluation of an adopted major decision is done.",
        ),
        EventContract(
            "opengov.document.published",
            DocumentPublished,
            "document_id",
            "A government document is published proactively (主动公开), or amended.",
        ),
        EventContract(
            "opengov.document.reviewed",
            DocumentReviewed,
            "document_id",
            "A normative document's legality or filing review has a result.",
        ),
        EventContract(
            "opengov.document.validity_changed",
            ValidityChanged,
            "document_id",
            "A normative document expires, is repealed, or is effective again.",
        ),
    ],
)
