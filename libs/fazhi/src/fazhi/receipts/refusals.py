"""Why an event was refused, as its receipt keeps it: pure (the state machine's refusal and
the redaction rules only), so the worker's consumer records it without any web code."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel

from fazhi.rules.redaction import mask_for_log
from fazhi.rules.statemachine import IllegalTransition

_ARTICLE = re.compile(
    r"\barts?\.\s*\d+(?:\s*[-–]\s*\d+)?(?:\(\d+\))?|第[一二三四五六七八九十百零〇\d]+条(?:第[一二三四五六七八九十\d]+款)?"
)


def articles_in(text: str) -> list[str]:
    """The statute articles a domain's reason cites (`art. 53`, `arts. 63-73`, `第五十三条`)."""
    return list(dict.fromkeys(m.group().strip() for m in _ARTICLE.finditer(text)))


def refusal_of(exc: BaseException, *, handler_failed: bool = False) -> dict[str, Any]:
    """What a receipt keeps of the reason an event was refused: the problem's `kind`, its
    `detail`, and for a move the domain refused, the aggregate, the step it was in, the move and
    the moves it allows, and the articles its reason cites. Masked like a log line, since a
    reason may quote the event."""
    detail = mask_for_log(str(exc)[:2000])
    if isinstance(exc, IllegalTransition):
        reason = mask_for_log(exc.reason or "")
        found: dict[str, Any] = {
            "kind": "illegal-transition",
            "detail": detail,
            "reason": reason or f"cannot {exc.action} in state '{exc.state}'",
            "aggregate": exc.aggregate,
            "state": exc.state,
            "action": exc.action,
            "allowed": list(exc.allowed),
        }
        articles = articles_in(reason)
        if articles:
            found["rule"] = ", ".join(articles)
        return found
    if handler_failed:
        return {"kind": "handler-failed", "detail": mask_for_log(repr(exc)[:2000])}
    return {"kind": "refused", "detail": detail}


REFUSED_TYPE = "fazhi.receipt.refused"
"""The type of the delivery that tells a unit its event was refused (data: `RefusedReceipt`)."""


class RefusalProblem(BaseModel):
    """What a refused receipt says of the refusal (see `refusal_of`)."""

    kind: str
    detail: str = ""
    reason: str | None = None
    rule: str | None = None
    aggregate: str | None = None
    state: str | None = None
    action: str | None = None
    allowed: list[str] | None = None


class RefusedReceipt(BaseModel):
    """The data of `fazhi.receipt.refused`: the unit's event, and why it was refused (never the
    event's own data). `GET` the `receipt` path on the service it was posted to for the rest."""

    event_id: str
    event_type: str
    event_time: AwareDatetime
    state: Literal["refused"] = "refused"
    problem: RefusalProblem
    receipt: str
