"""A case's clock board: every statutory clock the case has had, by name (acceptance, handling,
review, decision, execution, defence, reply), running or met, and who must act on it.

A machine runs one clock at a time (the stage's period); the board keeps the ones it stopped,
and adds those that run beside the stages: a reconsideration decision's execution (履行督察)
and the reply to each recommendation a court or procuratorate makes. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from fazhi.contracts.mediation import ClockName
from fazhi.rules import Clock, ClockStatus, WorkCalendar, start_clock
from petition_mediation.domain.cases import Case
from petition_mediation.domain.litigation import LitigationCase
from petition_mediation.domain.reconsideration import ReconsiderationCase, ReconsiderationState


class Actor(StrEnum):
    """Who must act before a clock runs out: the unit that handles the case (its owner, the
    organ that took the filing) or the unit the case is against."""

    HANDLER = "handler"
    RESPONDENT = "respondent"


_BY_RULE: dict[str, tuple[str, ClockName, Actor]] = {
    # rule: (slot on the board, clock name, who acts)
    "petition.acceptance": ("acceptance", ClockName.ACCEPTANCE, Actor.HANDLER),
    "petition.handling": ("handling", ClockName.HANDLING, Actor.RESPONDENT),
    "petition.review": ("review", ClockName.REVIEW, Actor.HANDLER),
    "petition.rereview": ("rereview", ClockName.REVIEW, Actor.HANDLER),
    "reconsideration.acceptance": ("acceptance", ClockName.ACCEPTANCE, Actor.HANDLER),
    "reconsideration.decision.general": ("decision", ClockName.DECISION, Actor.HANDLER),
    "reconsideration.decision.simplified": ("decision", ClockName.DECISION, Actor.HANDLER),
    "reconsideration.execution": ("execution", ClockName.EXECUTION, Actor.RESPONDENT),
    "litigation.defence": ("defence", ClockName.DEFENCE, Actor.RESPONDENT),
    "litigation.reply": ("reply", ClockName.REPLY, Actor.RESPONDENT),
}
"""Rules no case type starts here (an adjudication's configured rule) get a slot of their own."""


@dataclass(frozen=True)
class TrackedClock:
    slot: str
    name: ClockName
    actor: Actor
    clock: Clock
    met_on: date | None = None

    @property
    def running(self) -> bool:
        return self.met_on is None

    def status(self, on: date) -> ClockStatus:
        return self.clock.status(on, met_on=self.met_on)

    def days_overdue(self, on: date) -> int:
        return self.clock.days_overdue(on) if self.running else 0

    def on_calendar(self, calendar: WorkCalendar) -> TrackedClock:
        return replace(self, clock=self.clock.recompute(calendar=calendar))

    def view(self, on: date) -> dict[str, Any]:
        """The clock as a case's JSON shows it on day `on`."""
        explanation = self.clock.explain().to_text()
        if self.met_on is not None:
            late = (self.met_on - self.clock.due_on).days
            when = f"{late} day(s) late" if late > 0 else "in time"
            explanation += f"\n完成 Met: {self.met_on.isoformat()}, {when}"
        return {
            "name": str(self.name),
            "rule": self.clock.rule.name,
            "started_on": self.clock.started_on.isoformat(),
            "due_date": self.clock.due_on.isoformat(),
            "provisional": self.clock.provisional,
            "status": str(self.status(on)),
            "met_on": self.met_on.isoformat() if self.met_on else None,
            "days_overdue": self.days_overdue(on),
            "explanation": explanation,
        }


Board = tuple[TrackedClock, ...]


def _tracked(clock: Clock, slot: str | None = None) -> TrackedClock:
    default = (clock.rule.name, ClockName.DECISION, Actor.HANDLER)
    found_slot, name, actor = _BY_RULE.get(clock.rule.name, default)
    return TrackedClock(slot or found_slot, name, actor, clock)


def _put(board: Board, tracked: TrackedClock) -> Board:
    others = tuple(t for t in board if t.slot != tracked.slot)
    return (*others, tracked)


def _meet(board: Board, slot: str, on: date) -> Board:
    return tuple(replace(t, met_on=on) if t.slot == slot and t.running else t for t in board)


def track(board: Board, before: Case | None, after: Case, on: date) -> Board:
    """The board once `after` is what the step taken on `on` made of `before` (None: filed)."""
    old = before.clock if before is not None else None
    new = after.clock
    new_slot = _tracked(new).slot if new is not None else None
    if old is not None and _tracked(old).slot != new_slot:
        board = _meet(board, _tracked(old).slot, on)
    if new is not None and new != old:
        board = _put(board, _tracked(new))
    if isinstance(after, ReconsiderationCase):
        board = _execution(board, before, after, on)
    if isinstance(after, LitigationCase):
        board = _replies(board, after)
    return board


def _execution(board: Board, before: Case | None, after: ReconsiderationCase, on: date) -> Board:
    was = before.state if before is not None else None
    decided_now = (
        after.state is ReconsiderationState.DECIDED and was is not ReconsiderationState.DECIDED
    )
    if decided_now and after.outcome is not None and after.outcome.binds_respondent:
        board = _put(board, _tracked(start_clock("reconsideration.execution", on)))
    if after.state is ReconsiderationState.EXECUTED:
        board = _meet(board, "execution", on)
    return board


def _replies(board: Board, case: LitigationCase) -> Board:
    for rec in case.recommendations:
        slot = f"reply:{rec.recommendation_id}"
        if not any(t.slot == slot for t in board):
            board = _put(board, _tracked(start_clock("litigation.reply", rec.received_on), slot))
        if rec.answered_on is not None:
            board = _meet(board, slot, rec.answered_on)
    return board


def running(board: Sequence[TrackedClock]) -> list[TrackedClock]:
    return [t for t in board if t.running]


def overdue(board: Sequence[TrackedClock], on: date) -> list[TrackedClock]:
    """The running clocks past their due date on `on`."""
    return [t for t in running(board) if t.status(on) is ClockStatus.OVERDUE]


def met_late(board: Sequence[TrackedClock]) -> bool:
    return any(t.met_on is not None and t.met_on > t.clock.due_on for t in board)
