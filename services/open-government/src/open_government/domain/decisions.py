"""Major administrative decisions 重大行政决策 (重大行政决策程序暂行条例 2019): the procedure
steps and their minimum periods, the catalogue, adoption. Pure: dates are passed in."""

from __future__ import annotations

from datetime import date

from fazhi.clocks import start_clock
from fazhi.contracts.opengov import DecisionStep, StepStatus
from fazhi.statemachine import IllegalTransition

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
