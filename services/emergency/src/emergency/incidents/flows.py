"""How incident events change an incident: the incidents machine of the domain decides."""

from __future__ import annotations

from emergency.domain import (
    ChangeResponseLevel,
    Incident,
    IncidentState,
    StartResponse,
    transition_incident,
)
from emergency.store import INCIDENT_LEVELS, INCIDENTS, PRIVATE
from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.emergency import Grade, IncidentReported, ResponseLevel, ResponseLevelChanged
from fazhi.projection import Document
from fazhi.reactions import Reactions
from fazhi.redaction import redact


async def on_incident_reported(ctx: HandlerContext, data: IncidentReported) -> None:
    doc: Document = await ctx.get(INCIDENTS, data.incident_id) or {
        "_id": data.incident_id,
        "status": str(IncidentState.REPORTED),
        "response_level": None,
    }
    # A title or location may name a person or a phone: the public part keeps their redacted
    # text, the private part the words as reported.
    doc.update(
        data.model_dump(exclude={"incident_id", "title", "location"}),
        title=redact(data.title).text,
        location=redact(data.location).text,
    )
    doc[PRIVATE] = {"title": data.title, "location": data.location}
    ctx.save(INCIDENTS, doc)


async def on_level_changed(ctx: HandlerContext, data: ResponseLevelChanged) -> None:
    """The incidents machine decides: a reported incident starts its response at the level, a
    responding one changes it; any other state refuses."""
    doc = await ctx.get(INCIDENTS, data.incident_id)
    if doc is None:
        raise PoisonError(f"incident {data.incident_id!r} does not exist (yet)")
    before = Incident(
        incident_id=data.incident_id,
        category=doc.get("category", ""),
        grade=Grade(doc["grade"]),
        title=doc.get("title", ""),
        location=doc.get("location", ""),
        occurred_at=doc["occurred_at"],
        state=IncidentState(doc["status"]),
        response_level=ResponseLevel(doc["response_level"]) if doc.get("response_level") else None,
    )
    action = (
        StartResponse(data.level, data.changed_at)
        if before.state is IncidentState.REPORTED
        else ChangeResponseLevel(data.level, data.changed_at)
    )
    after = transition_incident(before, action)
    doc.update(status=str(after.state), response_level=str(after.response_level))
    ctx.save(INCIDENTS, doc)
    ctx.append(
        INCIDENT_LEVELS,
        {
            "incident_id": data.incident_id,
            "seq": ctx.record.offset,
            "level": str(data.level),
            "changed_at": data.changed_at,
        },
    )


REACTIONS: Reactions = {
    IncidentReported: [on_incident_reported],
    ResponseLevelChanged: [on_level_changed],
}
