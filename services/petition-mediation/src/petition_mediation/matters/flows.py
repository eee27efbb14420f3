"""A unit publishes its list of adjudicable matters whole; a revision replaces it."""

from __future__ import annotations

from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.mediation import MattersPublished
from petition_mediation.store import MATTERS


async def on_matters(ctx: HandlerContext, data: MattersPublished) -> None:
    """A unit's list of adjudicable matters, as published: a revision replaces it whole."""
    if ctx.event.unit != data.unit:
        raise PoisonError(f"unit {ctx.event.unit!r} cannot publish the list of {data.unit!r}")
    ctx.save(
        MATTERS,
        {
            "_id": data.list_id,
            **data.model_dump(mode="python", exclude={"list_id"}),
        },
    )


REACTIONS: Reactions = {MattersPublished: [on_matters]}
