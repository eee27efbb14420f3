"""A receipt from its two documents (see the package docstring); pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from fazhi.bus.publisher import Placement
from fazhi.contracts.envelope import CloudEvent
from fazhi.web.problems import PROBLEM_BASE


class State(StrEnum):
    ACCEPTED = "accepted"
    APPLIED = "applied"
    REFUSED = "refused"
    DUPLICATE = "duplicate"


_TITLES = {
    "illegal-transition": ("The domain refused the event", 422),
    "refused": ("The event cannot apply", 422),
    "handler-failed": ("The event could not be applied", 500),
}


def problem_of(refusal: Mapping[str, Any], instance: str) -> dict[str, Any]:
    """The RFC 9457 problem a refused receipt carries."""
    kind = str(refusal.get("kind", "refused"))
    title, status = _TITLES.get(kind, _TITLES["refused"])
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind,
        "title": title,
        "status": status,
        "detail": refusal.get("reason") or refusal.get("detail", ""),
        "instance": instance,
    }
    for name in ("rule", "aggregate", "state", "action", "allowed"):
        if name in refusal:
            body[name] = refusal[name]
    if "reason" in refusal:
        body["error"] = refusal.get("detail", "")
    return body


def _record(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not doc or doc.get("offset") is None:
        return None
    found = {
        "topic": doc.get("topic"),
        "partition": doc.get("partition"),
        "offset": doc.get("offset"),
    }
    at = doc.get("at") or doc.get("time")
    if at is not None:
        found["at"] = at
    return found


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if not a or not b:
        return False
    return (a.get("topic"), a.get("partition"), a.get("offset")) == (
        b.get("topic"),
        b.get("partition"),
        b.get("offset"),
    )


def _later(posted: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether the record the api saw posted came after the one the ledger holds. In one
    partition the offsets say; across partitions (a corrected event about another aggregate),
    the times."""
    if (posted.get("topic"), posted.get("partition")) == (
        entry.get("topic"),
        entry.get("partition"),
    ):
        return int(posted.get("offset", -1)) > int(entry.get("offset", -1))
    posted_at, processed_at = posted.get("time"), entry.get("processed_at")
    if isinstance(posted_at, datetime) and isinstance(processed_at, datetime):
        return posted_at.astimezone(UTC) > processed_at.astimezone(UTC)
    return False


def receipt(
    entry: Mapping[str, Any] | None, posted: Mapping[str, Any] | None, *, topic: str | None = None
) -> dict[str, Any] | None:
    """The receipt of one event from its ledger `entry` (the owning worker's) and the record
    the api saw `posted` last; None when neither knows it. An entry of another `topic` (a
    reaction the worker recorded about another service's event) is no receipt of this one."""
    if entry is not None and topic is not None and entry.get("topic") != topic:
        entry = None
    if entry is None and posted is None:
        return None
    head = entry if entry is not None else posted
    assert head is not None
    found: dict[str, Any] = {
        "id": head.get("id"),
        "source": head.get("source"),
        "type": head.get("type"),
    }
    subject = (posted or {}).get("subject") or head.get("subject")
    if subject:
        found["subject"] = subject
    instance = f"/v1/events/{head.get('id')}"
    duplicate = entry.get("duplicate") if entry is not None else None
    pending = posted is not None and (
        entry is None
        or (not _same(posted, entry) and not _same(posted, duplicate) and _later(posted, entry))
    )
    if pending:
        assert posted is not None
        found.update(state=State.ACCEPTED, accepted=_record(posted))
        if entry is not None:  # posted again after it was refused (or applied): on its way
            previous = receipt(entry, None)
            if previous is not None:
                found["previous"] = {k: previous[k] for k in ("state", "problem") if k in previous}
        return found
    assert entry is not None
    found["accepted"] = _record(posted if _same(posted, entry) else entry)
    outcome = entry.get("outcome")
    if outcome == "dead_lettered":
        found["state"] = State.REFUSED
        refusal = entry.get("refusal") or {"kind": "refused", "detail": "refused"}
        found["problem"] = problem_of(refusal, instance)
        found["refused_at"] = entry.get("processed_at")
        return found
    applied: dict[str, Any] = {"at": entry.get("processed_at")}
    if entry.get("aggregate"):
        applied["aggregate"] = entry["aggregate"]
        applied["version"] = entry.get("version")
    found["applied"] = applied
    if duplicate:
        found.update(state=State.DUPLICATE, duplicate=_record(duplicate))
    else:
        found["state"] = State.APPLIED
    return found


def accepted_doc(event: CloudEvent, placed: Placement) -> dict[str, Any]:
    return {
        "_id": event.key,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "topic": placed.topic,
        "partition": placed.partition,
        "offset": placed.offset,
        "time": placed.time,
    }


class AcceptedReceipt(BaseModel):
    """An event's receipt in the 202: where the broker put it (`GET` its `href` for the rest)."""

    id: str
    state: State = State.ACCEPTED
    topic: str
    partition: int
    offset: int
    href: str


def accepted_receipts(
    events: Sequence[CloudEvent], placed: Sequence[Placement]
) -> list[AcceptedReceipt]:
    """The receipts a 202 answers with: each event where the broker put it."""
    return [
        AcceptedReceipt(
            id=event.id,
            topic=where.topic,
            partition=where.partition,
            offset=where.offset,
            href=f"/v1/events/{event.id}",
        )
        for event, where in zip(events, placed, strict=True)
    ]
