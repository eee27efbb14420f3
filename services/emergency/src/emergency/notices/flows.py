"""Public notices 权威信息发布: derived from actual orange and red alerts and from incidents
graded 较大 or above, published, updated and withdrawn as their source is, and kept as last
published. Their words are redacted (`fazhi.rules.redaction`): no personal data leaves emergency."""

from __future__ import annotations

from datetime import datetime

from emergency.domain import notice_change
from emergency.store import NOTICES
from fazhi.bus import HandlerContext, Reactions
from fazhi.contracts.emergency import NoticePublished, NoticeSourceKind, NoticeState
from fazhi.contracts.envelope import ID_MAX_LENGTH, derived_id
from fazhi.rules import redact
from fazhi.store import Document

BODY_MAX = 20_000
NOTICE = "notice"
"""The field of a source document (an alert chain's head, an incident) naming its notice and
its last state: `{"notice_id": ..., "state": ...}`."""


async def on_notice_published(ctx: HandlerContext, data: NoticePublished) -> None:
    doc: Document = await ctx.get(NOTICES, data.notice_id) or {"_id": data.notice_id}
    doc.update(data.model_dump(exclude={"notice_id"}))
    ctx.save(NOTICES, doc)


def notice_id(kind: NoticeSourceKind, source_id: str) -> str:
    name = f"notice-{kind}-{source_id}"
    return name if len(name) <= ID_MAX_LENGTH else f"notice-{derived_id(name, 'notice-id')}"


def tell_public(
    ctx: HandlerContext,
    source: Document,
    *,
    kind: NoticeSourceKind,
    wanted: bool,
    ended: bool,
    title: str,
    body: str,
    level: str,
    area: str,
    at: datetime,
) -> None:
    """Publish, update or withdraw the notice of `source` as the domain decides, and record its
    state on `source` (which the caller saves)."""
    known = source.get(NOTICE) or {}
    state = notice_change(
        bool(known) and known.get("state") != NoticeState.WITHDRAWN, wanted, ended
    )
    if state is None:
        return
    unit = ctx.event.unit or ""
    the_id = known.get("notice_id") or notice_id(kind, source["_id"])
    data = NoticePublished(
        notice_id=the_id,
        source_kind=kind,
        source_id=source["_id"],
        unit=unit,
        title=redact(title).text[:500] or "突发事件信息",
        body=_shortened(redact(body).text),
        level=level,
        area=redact(area).text[:500],
        published_at=at,
        state=state,
    )
    ctx.emit(data, rule=str(kind), time=at)
    source[NOTICE] = {"notice_id": the_id, "state": str(state)}


def _shortened(text: str) -> str:
    """A notice is for reading on a page: long texts are cut, and an event stays small."""
    return text if len(text) <= BODY_MAX else text[: BODY_MAX - 1] + "…"


REACTIONS: Reactions = {NoticePublished: [on_notice_published]}
