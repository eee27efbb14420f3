"""State-machine helpers shared by the domain modules: a transition table per aggregate, the
one error every refused move raises, `IllegalTransition`, and the history `Step`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Generic, NoReturn, TypeVar

S = TypeVar("S", bound=str)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def action_name(action: object) -> str:
    """`ReportProgress(...)` → "report_progress": the name used in errors and histories."""
    return type_name(type(action))


def type_name(kind: type) -> str:
    return _CAMEL_BOUNDARY.sub("_", kind.__name__).lower()


@dataclass(frozen=True)
class Step:
    """One line of an aggregate's history: the action, its day, the state it led to; `due_on`
    is the due date of the clock the step stopped, if it stopped one."""

    action: str
    on: date
    state: str
    note: str = ""
    due_on: date | None = None

    @property
    def late(self) -> bool:
        return self.due_on is not None and self.on > self.due_on


class IllegalTransition(ValueError):
    """A command the aggregate refuses in its current state, or whose guard fails."""

    def __init__(
        self,
        aggregate: str,
        state: str,
        action: str,
        allowed: Iterable[str],
        reason: str | None = None,
    ) -> None:
        self.aggregate = aggregate
        self.state = str(state)
        self.action = action
        self.allowed = tuple(sorted(allowed))
        self.reason = reason
        listed = ", ".join(self.allowed) or "none (terminal state)"
        why = f": {reason}" if reason else ""
        super().__init__(
            f"{aggregate} in state '{self.state}' cannot {action}{why}; allowed: {listed}"
        )


class Machine(Generic[S]):
    """Which action types each state accepts; checks a command before a transition runs."""

    def __init__(self, aggregate: str, moves: Mapping[S, Iterable[type]]) -> None:
        self.aggregate = aggregate
        self._moves = {state: frozenset(kinds) for state, kinds in moves.items()}

    def allowed(self, state: S) -> tuple[str, ...]:
        names = {type_name(kind) for kind in self._moves.get(state, frozenset())}
        return tuple(sorted(names))

    def accepts(self, state: S) -> frozenset[type]:
        return self._moves.get(state, frozenset())

    def check(self, state: S, action: object) -> None:
        if type(action) not in self._moves.get(state, frozenset()):
            self.refuse(state, action)

    def refuse(self, state: S, action: object, reason: str | None = None) -> NoReturn:
        raise IllegalTransition(
            self.aggregate, state, action_name(action), self.allowed(state), reason
        )
