"""A case document as the worker keeps it: the machine's state, the clock board, and the fields
the reads and timers find it by (a due day of each running clock, the years whose schedule a
provisional clock waits for, the day it lapses, the units party to it); and the overdue reports
its clocks owe."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.mediation import CaseDueSoon, CaseOverdue, CaseType
from fazhi.contracts.models import Applicant
from fazhi.rules import Party
from fazhi.store import Document, clock_summary, decode, encode
from petition_mediation.cases.commands import after
from petition_mediation.codec import encode_case
from petition_mediation.domain import (
    Case,
    LitigationCase,
    MediationCase,
    PetitionCase,
    ReconsiderationCase,
    acceptance_review_ends,
    review_window_ends,
)
from petition_mediation.domain.board import (
    Actor,
    Board,
    TrackedClock,
    met_late,
    overdue,
    running,
    track,
)
from petition_mediation.store import CLOSE_UNREVIEWED_DAY, DEEM_ACCEPTED_DAY, PRIVATE

BOARD = "board"
"""The clock board as stored (rules and events, replayed on the current calendar when read)."""
FINAL = frozenset(
    {"not_accepted", "closed", "agreed", "failed", "rejected", "withdrawn", "executed"}
)
"""States in which a case is done with (a failed mediation may still be referred on)."""


def today() -> date:
    return datetime.now(CHINA_TZ).date()


def parties_of(doc: Document) -> list[Party]:
    """The case's known parties, so redaction removes their names, numbers and address."""
    known = doc.get(PRIVATE, {})
    return [Applicant(**known["applicant"]).party()] if "applicant" in known else []


def board_of(doc: Document) -> Board:
    return tuple(decode(TrackedClock, raw) for raw in doc.get(BOARD, []))


def acting_unit(doc: Document, tracked: TrackedClock) -> str:
    return str(doc["respondent_unit"] if tracked.actor is Actor.RESPONDENT else doc["unit"])


Derivation = tuple[CaseOverdue | CaseDueSoon, str]
"""An overdue report or a reminder, and what it derives from (its cause)."""


def keep_case(
    doc: Document, before: Case | None, case: Case, on: date, now: date
) -> list[Derivation]:
    """Put `case` (what a step taken on `on` made of `before`) into `doc`; the overdue reports
    of its running clocks already past due on `now`."""
    board = track(board_of(doc), before, case, on)
    doc.update(status=str(case.state), case=encode_case(case), clock=clock_summary(case.clock))
    if isinstance(case, LitigationCase):
        doc["hearings"] = len(case.hearings)
        doc["head_appearances"] = sum(1 for h in case.hearings if h.head_appeared)
    if isinstance(case, MediationCase):
        doc["channel"] = str(case.channel)
        doc["referrals"] = len(case.referrals)
    lapse_days(doc, case, now)
    return refresh(doc, board, now)


def lapse_days(doc: Document, case: Case, now: date) -> None:
    """The days the timers move `case` by itself unless a step comes first: a reconsideration
    whose acceptance review ended is deemed accepted, a petition whose review window ended is
    closed, each the day after. A case projected after that day is looked at on the day it is
    projected, since the timers have looked past the day it lapsed."""
    review = acceptance_review_ends(case) if isinstance(case, ReconsiderationCase) else None
    window = review_window_ends(case) if isinstance(case, PetitionCase) else None
    for name, ends in ((DEEM_ACCEPTED_DAY, review), (CLOSE_UNREVIEWED_DAY, window)):
        if ends is None:
            doc.pop(name, None)
        else:
            doc[name] = max(after(ends), now).isoformat()


def refresh(doc: Document, board: Board, now: date) -> list[Derivation]:
    """The board's fields in `doc` as of `now` (also after a schedule moved its dates)."""
    doc[BOARD] = [encode(t) for t in board]
    doc["clocks"] = [t.view(now) for t in board]
    doc["due_days"] = sorted({t.clock.due_on.isoformat() for t in running(board)})
    doc["provisional_years"] = sorted(
        {y for t in running(board) for y in t.clock.explain().provisional_years}
    )
    late = overdue(board, now)
    doc["overdue"] = bool(late)
    doc["late"] = bool(late) or met_late(board)
    doc["final"] = doc["status"] in FINAL
    return [*overdue_reports(doc, late, now), *reminders(doc, board, now)]


def overdue_reports(doc: Document, clocks: Iterable[TrackedClock], now: date) -> list[Derivation]:
    """`mediation.case.overdue` for each clock, derived from the case, the clock's slot and its
    due date, so a replay, a second timer tick or the projection and the timer together derive
    the same id and never double it."""
    return [
        (
            CaseOverdue(
                case_id=doc["_id"],
                case_type=CaseType(doc["case_type"]),
                clock=tracked.name,
                unit=acting_unit(doc, tracked),
                due_date=tracked.clock.due_on,
                days_overdue=tracked.days_overdue(now),
            ),
            clock_cause(doc, tracked),
        )
        for tracked in clocks
    ]


def clock_cause(doc: Document, tracked: TrackedClock) -> str:
    """What a clock's derived events (reminder, overdue report) derive from: the case, the
    clock's slot and its due date, so each goes out once per due date."""
    return f"{doc['_id']}/{tracked.slot}/{tracked.clock.due_on.isoformat()}"


def reminders(doc: Document, clocks: Iterable[TrackedClock], now: date) -> list[Derivation]:
    """`mediation.case.due_soon` for each running clock about to pass on `now` (临期), derived
    from the case, the clock's slot and its due date like its overdue report, so it goes out
    once however often the case moves or the timer looks in those days."""
    return [
        (
            CaseDueSoon(
                case_id=doc["_id"],
                case_type=CaseType(doc["case_type"]),
                clock=tracked.name,
                unit=acting_unit(doc, tracked),
                due_date=tracked.clock.due_on,
                days_left=left,
            ),
            clock_cause(doc, tracked),
        )
        for tracked in clocks
        if tracked.running and (left := tracked.clock.days_left(now)) is not None
    ]


def case_source(doc: Document) -> str:
    """The source of what the platform derives about a case: its filing unit."""
    return f"/units/{doc['unit']}"


def clock_views(doc: Document, now: date, calendar: Any = None) -> list[dict[str, Any]]:
    """The clocks of a stored case as of `now`, on `calendar` when given (a read recomputes
    them on the schedules loaded since the case last moved)."""
    board = board_of(doc)
    if calendar is not None:
        board = tuple(t.on_calendar(calendar) for t in board)
    return [t.view(now) for t in board]
