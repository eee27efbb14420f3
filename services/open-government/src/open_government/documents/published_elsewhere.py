"""Published from other services, through reactions: reconsideration decisions from
petition-mediation (决定书网上公开) and emergency notices from emergency (权威信息发布). Each
text goes through the one redaction module again before it is kept; the items belong to no unit
(`owner_units` empty), so no department can post over them."""

from __future__ import annotations

from fazhi.bus import HandlerContext, Reactions
from fazhi.contracts.emergency import NoticePublished
from fazhi.contracts.mediation import DecisionPublished
from fazhi.contracts.opengov import DocKind
from fazhi.rules import is_unit_code
from fazhi.store import OWNERS, Document
from open_government.documents.flows import publish
from open_government.store import DOCUMENTS

RECONSIDERATION_ORGAN = "justice"
"""区司法局, the district's reconsideration body (行政复议机构), publishes the decisions."""


def decision_document_id(case_id: str) -> str:
    return f"RD-{case_id}"


def notice_document_id(notice_id: str) -> str:
    return f"EN-{notice_id}"


async def publish_reconsideration_decision(ctx: HandlerContext, data: DecisionPublished) -> None:
    doc_id = decision_document_id(data.case_id)
    doc: Document = await ctx.get(DOCUMENTS, doc_id) or {"_id": doc_id, OWNERS: []}
    unit = ctx.event.unit if ctx.event.unit and is_unit_code(ctx.event.unit) else None
    fields = {
        "doc_kind": str(DocKind.RECONSIDERATION),
        "title": data.title,
        "number": "",
        "issuing_unit": unit or RECONSIDERATION_ORGAN,
        "body": data.text,
        "source_kind": "reconsideration",
        "source_id": data.case_id,
        "outcome": str(data.outcome),
        "outcome_label_zh": data.outcome.label_zh,
        "respondent_unit": data.respondent_unit,
        "category": data.category,
    }
    publish(ctx, doc, fields, published_at=data.decided_at)


async def publish_emergency_notice(ctx: HandlerContext, data: NoticePublished) -> None:
    doc_id = notice_document_id(data.notice_id)
    doc: Document = await ctx.get(DOCUMENTS, doc_id) or {"_id": doc_id, OWNERS: []}
    fields = {
        "doc_kind": str(DocKind.EMERGENCY_NOTICE),
        "title": data.title,
        "number": "",
        "issuing_unit": data.unit,
        "body": data.body if not data.area else f"{data.body}\n\n影响区域：{data.area}",
        "source_kind": str(data.source_kind),
        "source_id": data.source_id,
        "level": data.level,
        "notice_state": str(data.state),
        "version_note": {"active": "发布", "updated": "更新", "withdrawn": "撤销"}[str(data.state)],
    }
    publish(ctx, doc, fields, published_at=data.published_at)


REACTIONS: Reactions = {
    DecisionPublished: [publish_reconsideration_decision],
    NoticePublished: [publish_emergency_notice],
}
