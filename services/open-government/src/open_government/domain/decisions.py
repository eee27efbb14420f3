"""Major administrative decisions 重大行政决策 (重大行政决策程序暂行条例 2019): the procedure
steps and their minimum periods, the catalogue, adoption. Pure: dates are passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fazhi.contracts.opengov import DecisionStep, StepStatus
from fazhi.rules import IllegalTransition, Machine, start_clock

_MINIMUM_RULES = {
    DecisionStep.PUBLIC_COMMENT: "decision.public_comment",  # art. 15: at least 30 days
    DecisionStep.LEGALITY_REVIEW: "decision.legality_review",  # art. 26: at least 7 working days
}

REQUIRED_BEFORE_ADOPTION = (
    DecisionStep.PUBLIC_COMMENT,
    DecisionStep.LEGALITY_REVIEW,
    DecisionStep.COLLECTIVE_DISCUSSION,
)
"""Arts. 6, 25, 30: every major decision takes public comment, legality review and collective
discussion; hearings, expert argument and risk assessment as the matter needs."""


def check_step(
    decision: str,
    step: DecisionStep,
    status: StepStatus,
    started_on: date | None,
    ended_on: date | None,
    *,
    withdrawn: bool,
) -> None:
    """Refuses a step record the law does not allow: on a withdrawn decision, ending before it
    started, done without its dates, or shorter than the step's minimum period."""

    def refuse(reason: str) -> None:
        raise IllegalTransition(f"decision {decision!r}", status, f"record {step}", (), reason)

    if withdrawn:
        refuse("it was taken out of the catalogue (调出目录)")
    if started_on and ended_on and ended_on < started_on:
        refuse(f"{step.label_zh} ends on {ended_on}, before it started")
    rule = _MINIMUM_RULES.get(step)
    if status is not StepStatus.DONE or rule is None:
        return
    if started_on is None or ended_on is None:
        refuse(f"{step.label_zh} is done only with the days it ran")
        return
    earliest = start_clock(rule, started_on).due_on
    if ended_on < earliest:
        refuse(f"{step.label_zh} started on {started_on} may not end before {earliest}")


def missing_steps(done: set[DecisionStep]) -> list[DecisionStep]:
    """The required steps not yet done (or declared not applicable)."""
    return [step for step in REQUIRED_BEFORE_ADOPTION if step not in done]


class DecisionStatus(StrEnum):
    NEW = "new"
    """Not known yet: the first event about it creates it."""
    LISTED = "listed"
    """In the year's catalogue (重大行政决策事项年度目录)."""
    WITHDRAWN = "withdrawn"
    """Taken out of the catalogue (调出目录)."""
    ADOPTED = "adopted"
    EVALUATED = "evaluated"
    """Post-evaluated (决策后评估)."""


@dataclass(frozen=True)
class List:
    """Entered in the catalogue, or adjusted (调整) when listed again."""


@dataclass(frozen=True)
class Withdraw:
    pass


@dataclass(frozen=True)
class RecordStep:
    pass


@dataclass(frozen=True)
class Adopt:
    pass


@dataclass(frozen=True)
class Evaluate:
    pass


Command = List | Withdraw | RecordStep | Adopt | Evaluate

MACHINE: Machine[DecisionStatus] = Machine(
    "major decision",
    {
        DecisionStatus.NEW: {List, Adopt},
        DecisionStatus.LISTED: {List, Withdraw, RecordStep, Adopt},
        DecisionStatus.WITHDRAWN: {List, Withdraw, RecordStep},
        DecisionStatus.ADOPTED: {List, RecordStep, Adopt, Evaluate},
        DecisionStatus.EVALUATED: {List, RecordStep, Adopt, Evaluate},
    },
)
"""What each state accepts. An adopted decision stays in the catalogue (no withdrawal), a
withdrawn one is adopted only after it is listed again, and only an adopted one is evaluated.
Listing again adjusts the entry in any state, and brings a withdrawn one back."""

_REASONS: dict[tuple[DecisionStatus, type], str] = {
    (DecisionStatus.NEW, Withdraw): "it is not in a catalogue (yet)",
    (DecisionStatus.NEW, RecordStep): "it is not in a catalogue (yet)",
    (DecisionStatus.NEW, Evaluate): "it is not adopted: nothing to evaluate",
    (DecisionStatus.LISTED, Evaluate): "it is not adopted: nothing to evaluate",
    (DecisionStatus.WITHDRAWN, Evaluate): "it is not adopted: nothing to evaluate",
    (DecisionStatus.WITHDRAWN, Adopt): "it was taken out of the catalogue (调出目录)",
    (DecisionStatus.ADOPTED, Withdraw): "it is adopted: it stays in the catalogue",
    (DecisionStatus.EVALUATED, Withdraw): "it is adopted: it stays in the catalogue",
}


def decision_status(stored: str | None) -> DecisionStatus:
    return DecisionStatus(stored) if stored else DecisionStatus.NEW


def transition(stored: str | None, command: Command) -> DecisionStatus:
    """The status after `command` on a decision in status `stored` (None: not known yet), or
    `IllegalTransition` with the reason the procedure gives."""
    state = decision_status(stored)
    if type(command) not in MACHINE.accepts(state):
        MACHINE.refuse(state, command, _REASONS.get((state, type(command))))
    match command:
        case List():
            relisted = state in (DecisionStatus.NEW, DecisionStatus.WITHDRAWN)
            return DecisionStatus.LISTED if relisted else state
        case Withdraw():
            return DecisionStatus.WITHDRAWN
        case Adopt():
            return DecisionStatus.ADOPTED
        case Evaluate():
            return DecisionStatus.EVALUATED
        case RecordStep():
            return state
