"""The contract of `opengov.events`, owned by open-government 政务公开: disclosure requests
依申请公开 and their answers (政府信息公开条例 2019), published documents, and major administrative
decisions 重大行政决策 (重大行政决策程序暂行条例 2019)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from fazhi.contracts import EventContract, Term, TopicContract
from fazhi.models import PERSONAL, Applicant, Id, LongText, Payload, ShortText, UnitCode
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


class RequestOverdue(Payload):
    """A request's reply period ended unanswered (derived by the open-government timer)."""

    request_id: Id
    unit: UnitCode
    """The receiving unit, which must answer."""
    due_date: date
    days_overdue: int = Field(ge=1)


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
    document_id: Id
    doc_kind: ShortText
    title: ShortText
    number: str = ""
    issuing_unit: UnitCode
    body: LongText
    published_at: AwareDatetime


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
            "opengov.request.overdue",
            RequestOverdue,
            "request_id",
            "A disclosure request's reply period ended unanswered.",
            derived=True,
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
            "A government document is published proactively (主动公开).",
        ),
    ],
)
