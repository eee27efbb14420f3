"""How incident events change an incident: the incidents machine of the domain decides.
Incidents graded 较大 or above get a public notice, updated as the response changes; the
persons a report names are kept in the private part only, until the retention ends."""

from __future__ import annotations

from datetime import timedelta

from emergency.domain import (
    ChangeResponseLevel,
    CloseIncident,
    EndResponse,
    Incident,
    IncidentAction,
    IncidentState,
    StartResponse,
    needs_public_notice,
    transition_incident,
)
from emergency.notices.flows import tell_public
from emergency.store import CLOSED_DAY, INCIDENT_LEVELS, INCIDENTS, PRIVATE
from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.emergency import (
    Grade,
    IncidentCategory,
    IncidentClosed,
    IncidentReported,
    NoticeSourceKind,
    PersonalDataPurged,
    ResponseEnded,
    ResponseLevel,
    ResponseLevelChanged,
)
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.rules import Party, redact
from fazhi.store import Document


async def on_incident_reported(ctx: HandlerContext, data: IncidentReported) -> None:
    doc: Document = await ctx.get(INCIDENTS, data.incident_id) or {
        "_id": data.incident_id,
        "status": str(IncidentState.REPORTED),
        "response_level": None,
    }
    parties = [
        Party(name=p.name, id_number=p.id_number, phone=p.phone) for p in data.affected_persons
    ]
    # A title or location may name a person or a phone: the public part keeps their redacted
    # text, the private part the words as reported and the persons named.
    doc.update(
        data.model_dump(exclude={"incident_id", "title", "location", "affected_persons"}),
        title=redact(data.title, parties).text,
        location=redact(data.location, parties).text,
        affected_count=len(data.affected_persons),
    )
    doc[PRIVATE] = {"title": data.title, "location": data.location}
    if data.affected_persons:
        doc[PRIVATE]["affected_persons"] = [p.model_dump() for p in data.affected_persons]
    _notice(ctx, doc, ended=False)
    ctx.save(INCIDENTS, doc)


async def on_level_changed(ctx: HandlerContext, data: ResponseLevelChanged) -> None:
    """The incidents machine decides: a reported incident starts its response at the level, a
    responding one changes it; any other state refuses. The level's scope, expected duration
    and measures (art. 72) are the incident's current response and a row of its timeline."""
    doc, before = await _load(ctx, data.incident_id)
    action: IncidentAction = (
        StartResponse(data.level, data.changed_at)
        if before.state is IncidentState.REPORTED
        else ChangeResponseLevel(data.level, data.changed_at)
    )
    after = transition_incident(before, action)
    response = {
        "level": str(data.level),
        "since": data.changed_at,
        "scope": redact(data.scope).text,
        "expected_hours": data.expected_hours,
        "expected_end": data.changed_at + timedelta(hours=data.expected_hours)
        if data.expected_hours
        else None,
        "measures": [redact(m).text for m in data.measures],
    }
    doc.update(status=str(after.state), response_level=str(after.response_level), response=response)
    _notice(ctx, doc, ended=False)
    ctx.save(INCIDENTS, doc)
    ctx.append(
        INCIDENT_LEVELS,
        {
            "incident_id": data.incident_id,
            "seq": ctx.record.offset,
            **response,
            "changed_at": data.changed_at,
        },
    )


async def on_response_ended(ctx: HandlerContext, data: ResponseEnded) -> None:
    doc, before = await _load(ctx, data.incident_id)
    after = transition_incident(before, EndResponse(data.ended_at))
    doc.update(status=str(after.state), response_level=None, response_ended_at=data.ended_at)
    doc.pop("response", None)
    _notice(ctx, doc, ended=False)
    ctx.save(INCIDENTS, doc)
    ctx.append(
        INCIDENT_LEVELS,
        {
            "incident_id": data.incident_id,
            "seq": ctx.record.offset,
            "level": None,
            "changed_at": data.ended_at,
        },
    )


async def on_incident_closed(ctx: HandlerContext, data: IncidentClosed) -> None:
    """Closed with its assessment report (public part redacted); the worker's timer purges the
    persons it names when the retention after the closing day ends (`CLOSED_DAY`)."""
    doc, before = await _load(ctx, data.incident_id)
    after = transition_incident(before, CloseIncident(data.closed_at))
    private = dict(doc.get(PRIVATE) or {})
    parties = [
        Party(name=p["name"], id_number=p.get("id_number"), phone=p.get("phone"))
        for p in private.get("affected_persons", [])
    ]
    doc.update(
        status=str(after.state),
        closed_at=data.closed_at,
        assessment=redact(data.assessment, parties).text,
    )
    private["assessment"] = data.assessment
    doc[PRIVATE] = private
    if private.get("affected_persons"):
        doc[CLOSED_DAY] = data.closed_at.astimezone(CHINA_TZ).date().isoformat()
    _notice(ctx, doc, ended=False, closing=True)
    ctx.save(INCIDENTS, doc)


async def on_personal_data_purged(ctx: HandlerContext, data: PersonalDataPurged) -> None:
    """The persons are erased from the private part (the redacted public texts never had them)."""
    doc = await ctx.get(INCIDENTS, data.incident_id)
    if doc is None:
        raise PoisonError(f"incident {data.incident_id!r} does not exist (yet)")
    private = dict(doc.get(PRIVATE) or {})
    private.pop("affected_persons", None)
    private.pop("assessment", None)
    doc[PRIVATE] = private
    doc.pop(CLOSED_DAY, None)
    doc["personal_data_purged_at"] = data.purged_at
    ctx.save(INCIDENTS, doc)


def _notice(ctx: HandlerContext, doc: Document, *, ended: bool, closing: bool = False) -> None:
    grade = Grade(doc["grade"])
    state = {
        "reported": "已发生",
        "responding": "应急响应中",
        "recovering": "应急响应已结束，进入恢复重建",
        "closed": "处置完毕",
    }[doc["status"]]
    category = IncidentCategory(doc["category"]).label_zh
    lines = [f"{category}：{doc['title']}，地点：{doc['location']}。当前状态：{state}。"]
    response = doc.get("response")
    if response:
        lines.append(f"已启动{ResponseLevel(response['level']).label_zh}应急响应。")
        if response.get("scope"):
            lines.append(f"范围：{response['scope']}。")
        if response.get("measures"):
            lines.append("措施：" + "；".join(response["measures"]) + "。")
    if closing:
        lines.append("事件已处置完毕，调查评估报告已形成。")
    tell_public(
        ctx,
        doc,
        kind=NoticeSourceKind.INCIDENT,
        wanted=needs_public_notice(grade),
        ended=ended,
        title=f"【{grade.label_zh}】{doc['title']}",
        body="\n".join(lines),
        level=str(grade),
        area=doc["location"],
        at=ctx.event.time,
    )


async def _load(ctx: HandlerContext, incident_id: str) -> tuple[Document, Incident]:
    doc = await ctx.get(INCIDENTS, incident_id)
    if doc is None:
        raise PoisonError(f"incident {incident_id!r} does not exist (yet)")
    incident = Incident(
        incident_id=incident_id,
        category=doc.get("category", ""),
        grade=Grade(doc["grade"]),
        title=doc.get("title", ""),
        location=doc.get("location", ""),
        occurred_at=doc["occurred_at"],
        state=IncidentState(doc["status"]),
        response_level=ResponseLevel(doc["response_level"]) if doc.get("response_level") else None,
    )
    return doc, incident


REACTIONS: Reactions = {
    IncidentReported: [on_incident_reported],
    ResponseLevelChanged: [on_level_changed],
    ResponseEnded: [on_response_ended],
    IncidentClosed: [on_incident_closed],
    PersonalDataPurged: [on_personal_data_purged],
}
