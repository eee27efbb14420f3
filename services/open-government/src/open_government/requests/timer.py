"""The overdue timer: each tick looks up the requests due on each of the last days (one
indexed equality per day on `due_date`), and publishes `opengov.request.overdue` for those still
unanswered, with the id `overdue_event` derives, so every worker replica and every tick publish
the same event and its consumers keep one."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.codec import decode
from fazhi.contracts import derived_event
from fazhi.envelope import CloudEvent
from open_government.domain.requests import DisclosureRequest
from open_government.requests.flows import OPEN_STATES, overdue, overdue_cause
from open_government.store import REQUESTS

log = logging.getLogger(__name__)

LOOKBACK_DAYS = 60
"""How many past due days each tick looks at; a request older than that which was never found
overdue (the worker was down two months) is found when its next event is projected."""
_FIELDS = {"request": 1, "status": 1, "unit": 1, "owner_units": 1, "overdue": 1}


async def find_overdue(
    db: AsyncDatabase[dict[str, Any]], today: date, *, lookback_days: int = LOOKBACK_DAYS
) -> list[CloudEvent]:
    found: list[CloudEvent] = []
    for back in range(1, lookback_days + 1):
        day = (today - timedelta(days=back)).isoformat()
        for doc in await db[REQUESTS].find({"due_date": day}, _FIELDS).to_list(None):
            if doc.get("overdue") or doc.get("status") not in OPEN_STATES:
                continue
            late = overdue(doc, decode(DisclosureRequest, doc["request"]), today)
            if late is not None:
                found.append(
                    derived_event(late, cause=overdue_cause(late), source=f"/units/{late.unit}")
                )
    return found
