"""How notice events are kept: the latest words and state of each notice."""

from __future__ import annotations

from emergency.store import NOTICES
from fazhi.consumer import HandlerContext
from fazhi.contracts.emergency import NoticePublished
from fazhi.projection import Document
from fazhi.reactions import Reactions


async def on_notice_published(ctx: HandlerContext, data: NoticePublished) -> None:
    doc: Document = await ctx.get(NOTICES, data.notice_id) or {"_id": data.notice_id}
    doc.update(data.model_dump(exclude={"notice_id"}))
    ctx.save(NOTICES, doc)


REACTIONS: Reactions = {NoticePublished: [on_notice_published]}
