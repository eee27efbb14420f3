"""What the case types share: the clocked case base and the helpers every
machine uses to guard a move, drive its clock and record the step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from fazhi.contracts.mediation import Procedure
from fazhi.rules import Clock, ClockError, ClockStatus, Machine, Step, action_name
from petition_mediation.domain.commands import Action

if TYPE_CHECKING:
    # Only for `C`'s bound: `cases` imports every case module, and each of them imports this one.
    from petition_mediation.domain.cases import Case


class _Clocked:
    clock: Clock | None

    @property
    def due_on(self) -> date | None:
        return self.clock.due_on if self.clock is not None else None

    def overdue(self, on: date) -> bool:
        return self.clock is not None and self.clock.status(on) is ClockStatus.OVERDUE

    def days_overdue(self, on: date) -> int:
        return self.clock.days_overdue(on) if self.clock is not None else 0


S = TypeVar("S", bound=str)
C = TypeVar("C", bound="Case")


def _general_only(m: Machine[S], state: S, action: Action, procedure: Procedure) -> None:
    if procedure is not Procedure.GENERAL:
        m.refuse(state, action, "only reconsideration has a simplified procedure")


def _approved(m: Machine[S], state: S, action: Action, by: str) -> None:
    if not by.strip():
        m.refuse(state, action, "needs the approving head's name")


def _running(case: _Clocked) -> Clock:
    assert case.clock is not None, "the machine admits clock operations only while one runs"
    return case.clock


def _clocked(m: Machine[S], state: S, action: Action, op: Callable[[], Clock]) -> Clock:
    """Run a clock operation; what the clock refuses (a date before its last event, a second
    extension, a period already over) the case refuses too, with the clock's reason."""
    try:
        return op()
    except ClockError as e:
        m.refuse(state, action, str(e))


def _step(
    case: C,
    action: Action,
    state: StrEnum,
    clock: Clock | None,
    note: str = "",
    *,
    keep: bool = False,
) -> C:
    """Move to `state` with `clock` as the running clock. Unless `keep`, the previous clock
    stops here and its due date is written into the history."""
    stopped = None if keep or case.clock is None else case.clock.due_on
    step = Step(action_name(action), action.on, state, note, stopped)
    # Each machine hands `_step` only its own case's states.
    return replace(case, state=state, clock=clock, history=(*case.history, step))  # type: ignore[arg-type]
