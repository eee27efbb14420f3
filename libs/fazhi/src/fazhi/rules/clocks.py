"""Statutory clocks: one table of named rules and an engine that computes and explains
due dates on China's working-day calendar."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from fazhi.rules.statutes import ClockError, DayUnit, Rule, get_rule
from fazhi.rules.workdays import WorkCalendar, _require_date, default_calendar

_ONE_DAY = timedelta(days=1)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    OVERDUE = "overdue"


REMINDER_DAYS = 3
"""A running statutory clock is about to pass (临期) from this many calendar days before its due
date: the acting unit is told once (`mediation.case.due_soon`, `opengov.request.due_soon`)."""


class EventKind(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    RESTART = "restart"


class StepKind(StrEnum):
    DAY = "day"
    EVENT = "event"


# 行政复议法 art. 88(2) makes its 三日/五日/七日/十日 periods working days; longer ones are
# calendar days, so the citation names both articles.


@dataclass(frozen=True)
class ClockEvent:
    kind: EventKind
    on: date


@dataclass(frozen=True)
class ExplainedDay:
    """One line of an explanation: a day (counted or skipped, and why) or an event."""

    date: date
    counted: bool
    reason: str
    kind: StepKind = StepKind.DAY


def _unit_words(unit: DayUnit, n: int) -> str:
    plural = "" if n == 1 else "s"
    return f"working day{plural} (工作日)" if unit is DayUnit.WORKING else f"day{plural} (日)"


def _dow(d: date) -> str:
    return f"{d.isoformat()} {_WEEKDAYS[d.weekday()]}"


# Counted days with these reasons are unremarkable, so to_text() folds runs of them into ranges.
_FOLDABLE = ("working day", "calendar day")


@dataclass(frozen=True)
class Explanation:
    """How a due date was worked out: every day from the start to the due date, and events."""

    rule: Rule
    started_on: date
    due_on: date
    provisional: bool
    provisional_years: tuple[int, ...]
    extended: bool
    paused_on: date | None
    days_required: int
    days_counted: int
    steps: tuple[ExplainedDay, ...]

    def to_text(self) -> str:
        rule = self.rule
        period = f"{rule.days} {_unit_words(rule.unit, rule.days)}"
        if rule.minimum:
            period = f"不少于 at least {period}"
        if rule.unit is DayUnit.CALENDAR:
            period += (
                "; if the last day is a rest day the period ends on the next working day (顺延)"
            )
        if rule.extension_days is not None:
            period += f"; extendable once by {rule.extension_days} more (延长)"
        lines = [
            f"{rule.title} [{rule.name}]",
            f"依据 Basis: {rule.law}{rule.article}",
            f"期限 Period: {period}",
            f"起算 Start: {_dow(self.started_on)}, not counted (起算日不计入)",
        ]
        if self.extended:
            required = _unit_words(rule.unit, self.days_required)
            lines.append(f"延长 Extended: period is now {self.days_required} {required}")
        due_label = "最早届满 Earliest end" if rule.minimum else "届满 Due"
        if self.paused_on is not None:
            left = self.days_required - self.days_counted
            lines.append(
                f"{due_label}: paused (暂停计算) since {_dow(self.paused_on)} with {left} of "
                f"{self.days_required} {_unit_words(rule.unit, self.days_required)} left; "
                f"no earlier than {_dow(self.due_on)}"
            )
        else:
            lines.append(f"{due_label}: {_dow(self.due_on)}")
        if self.provisional:
            years = ", ".join(str(y) for y in self.provisional_years)
            lines.append(
                f"暂定 Provisional: no official holiday schedule for {years}; weekends-only "
                "assumed until an operator loads the schedule"
            )
        lines.append("计算 Days:")
        lines.extend(f"  {line}" for line in self._step_lines())
        return "\n".join(lines)

    def _step_lines(self) -> list[str]:
        out: list[str] = []
        total = 0
        steps = self.steps
        i = 0
        while i < len(steps):
            step = steps[i]
            if step.kind is StepKind.EVENT:
                out.append(f"{_dow(step.date)}: {step.reason}")
                i += 1
                continue
            if not step.counted:
                out.append(f"{_dow(step.date)}: not counted — {step.reason}")
                i += 1
                continue
            j = i + 1
            if step.reason.startswith(_FOLDABLE):
                while (
                    j < len(steps)
                    and steps[j].kind is StepKind.DAY
                    and steps[j].counted
                    and steps[j].reason == step.reason
                ):
                    j += 1
            n = j - i
            total += n
            tally = f"({total}/{self.days_required})"
            if step.reason.startswith(_FOLDABLE):
                base = next(f for f in _FOLDABLE if step.reason.startswith(f))
                rest = step.reason[len(base) :]
                noun = base if n == 1 else f"{base}s"
                span = _dow(step.date) if n == 1 else f"{step.date} – {steps[j - 1].date}"
                out.append(f"{span}: {n} {noun} counted {tally}{rest}")
            else:
                out.append(f"{_dow(step.date)}: counted {tally} — {step.reason}")
            i = j
        return out


@dataclass(frozen=True)
class _Timeline:
    due_on: date
    required: int
    counted: int
    provisional_years: tuple[int, ...]
    steps: tuple[ExplainedDay, ...]


def _window(events: tuple[ClockEvent, ...]) -> tuple[ClockEvent, ...]:
    """The events since the latest start or restart: earlier ones no longer affect the period."""
    begin = max(i for i, e in enumerate(events) if e.kind in (EventKind.START, EventKind.RESTART))
    return events[begin:]


def _build(rule: Rule, events: tuple[ClockEvent, ...], calendar: WorkCalendar) -> _Timeline:
    window = _window(events)
    started_on = window[0].on
    extended = any(e.kind is EventKind.EXTEND for e in window)
    required = rule.days + ((rule.extension_days or 0) if extended else 0)
    # A pause on P resumed on R suspends days P+1..R: like any period, the consultation
    # starts the day after it was sent, and counting resumes the day after the reply.
    pauses: list[tuple[date, date]] = []
    open_pause: date | None = None
    for e in window:
        if e.kind is EventKind.PAUSE:
            open_pause = e.on
        elif e.kind is EventKind.RESUME and open_pause is not None:
            pauses.append((open_pause, e.on))
            open_pause = None

    years: set[int] = set()
    days: list[ExplainedDay] = [ExplainedDay(started_on, False, "start day (起算日不计入)")]
    count = 0
    d = started_on
    while count < required:
        d += _ONE_DAY
        if any(p < d <= r for p, r in pauses):
            days.append(ExplainedDay(d, False, "paused (暂停计算)"))
            continue
        if rule.unit is DayUnit.CALENDAR:
            count += 1
            days.append(ExplainedDay(d, True, "calendar day"))
            continue
        info = calendar.day_info(d)
        if info.provisional:
            years.add(d.year)
        if info.working:
            count += 1
        days.append(ExplainedDay(d, info.working, info.reason))

    if rule.unit is DayUnit.CALENDAR:
        info = calendar.day_info(d)
        if info.provisional:
            years.add(d.year)
        if not info.working:
            days[-1] = ExplainedDay(
                d,
                True,
                f"last day of the period is a rest day ({info.reason}): "
                "moved to next working day (顺延)",
            )
            while True:
                d += _ONE_DAY
                info = calendar.day_info(d)
                if info.provisional:
                    years.add(d.year)
                if info.working:
                    break
                days.append(
                    ExplainedDay(
                        d,
                        False,
                        f"{info.reason} (period ends on a rest day: moved to next working day)",
                    )
                )
            days.append(
                ExplainedDay(d, False, "due date: the first working day after the period (顺延)")
            )

    counted = required
    if open_pause is not None:
        # Paused with no resume yet: the days after the pause are unknown, so stop there.
        days = [s for s in days if s.date <= open_pause]
        counted = sum(1 for s in days if s.counted)

    starts = [e.on for e in events if e.kind in (EventKind.START, EventKind.RESTART)]
    marks: list[tuple[date, int, ExplainedDay]] = [(s.date, 1, s) for s in days]
    for e in window:
        if e.kind is EventKind.RESTART:
            reason = (
                "restarted (补正): the corrected request arrived, the period starts again "
                f"(previously started {starts[-2]})"
            )
            marks.append((e.on, 0, ExplainedDay(e.on, False, reason, StepKind.EVENT)))
        elif e.kind is EventKind.PAUSE:
            reason = "paused (暂停计算): the following days do not count until resumed"
            marks.append((e.on, 2, ExplainedDay(e.on, False, reason, StepKind.EVENT)))
        elif e.kind is EventKind.RESUME:
            reason = "resumed (恢复计算): counting continues the next day"
            marks.append((e.on, 2, ExplainedDay(e.on, False, reason, StepKind.EVENT)))
        elif e.kind is EventKind.EXTEND:
            ext = rule.extension_days or 0
            reason = (
                f"extended (延长) by {ext} {_unit_words(rule.unit, ext)}: the period is now "
                f"{required} {_unit_words(rule.unit, required)}"
            )
            marks.append((e.on, 2, ExplainedDay(e.on, False, reason, StepKind.EVENT)))
    marks.sort(key=lambda m: (m[0], m[1]))
    return _Timeline(
        due_on=d,
        required=required,
        counted=counted,
        provisional_years=tuple(sorted(years)),
        steps=tuple(m[2] for m in marks),
    )


@dataclass(frozen=True)
class Clock:
    """A running statutory period. Immutable: every operation returns a new Clock.

    The due date is worked out when the clock is built, on the calendar as it stood then;
    call ``recompute()`` after an operator loads a schedule. While paused, ``due_on`` is
    the earliest possible due date (as if resumed on the day it was paused).
    """

    rule: Rule
    events: tuple[ClockEvent, ...]
    calendar: WorkCalendar = field(repr=False, compare=False)
    due_on: date = field(init=False, compare=False)
    provisional: bool = field(init=False, compare=False)
    _timeline: _Timeline = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.events or self.events[0].kind is not EventKind.START:
            raise ClockError("a clock's events must begin with its start")
        timeline = _build(self.rule, self.events, self.calendar)
        object.__setattr__(self, "_timeline", timeline)
        object.__setattr__(self, "due_on", timeline.due_on)
        object.__setattr__(self, "provisional", bool(timeline.provisional_years))

    @property
    def started_on(self) -> date:
        """The day the current period started: the original start, or the latest restart."""
        return _window(self.events)[0].on

    @property
    def extended(self) -> bool:
        return any(e.kind is EventKind.EXTEND for e in _window(self.events))

    @property
    def paused_on(self) -> date | None:
        paused: date | None = None
        for e in _window(self.events):
            if e.kind is EventKind.PAUSE:
                paused = e.on
            elif e.kind is EventKind.RESUME:
                paused = None
        return paused

    def _after(self, kind: EventKind, on: date) -> Clock:
        _require_date(on)
        last = self.events[-1].on
        if on < last:
            raise ClockError(f"cannot {kind} on {on}: the clock's last event was on {last}")
        return dataclasses.replace(self, events=(*self.events, ClockEvent(kind, on)))

    def _check_not_ended(self, kind: EventKind, on: date) -> None:
        if on > self.due_on:
            raise ClockError(f"cannot {kind} on {on}: the period already ended on {self.due_on}")

    def pause(self, *, on: date) -> Clock:
        """Stop counting after ``on`` (e.g. a third-party consultation is sent that day)."""
        if self.paused_on is not None:
            raise ClockError(f"cannot pause: the clock has been paused since {self.paused_on}")
        self._check_not_ended(EventKind.PAUSE, on)
        return self._after(EventKind.PAUSE, on)

    def resume(self, *, on: date) -> Clock:
        """Count again from the day after ``on`` (e.g. the consultation reply arrived)."""
        if self.paused_on is None:
            raise ClockError("cannot resume: the clock is not paused")
        return self._after(EventKind.RESUME, on)

    def extend(self, *, on: date) -> Clock:
        """Add the rule's statutory extension, once, approved on ``on``."""
        if self.rule.extension_days is None:
            raise ClockError(f"rule {self.rule.name!r} has no statutory extension")
        if self.extended:
            raise ClockError(f"rule {self.rule.name!r} allows one extension; already extended")
        if self.paused_on is None:
            self._check_not_ended(EventKind.EXTEND, on)
        return self._after(EventKind.EXTEND, on)

    def restart(self, *, on: date) -> Clock:
        """Start the period again from ``on`` (补正: the corrected request arrived), dropping
        any pause or extension of the previous period."""
        return self._after(EventKind.RESTART, on)

    def recompute(self, *, calendar: WorkCalendar | None = None) -> Clock:
        """The same clock worked out again, e.g. after a schedule was loaded."""
        return dataclasses.replace(
            self, calendar=calendar if calendar is not None else self.calendar
        )

    def status(self, on: date, *, met_on: date | None = None) -> ClockStatus:
        """The state on ``on``. Met late is still ``met`` (see ``days_overdue(met_on)``);
        a ``met_on`` after ``on`` has not happened yet on that day."""
        if met_on is not None and met_on <= on:
            return ClockStatus.MET
        paused = self.paused_on
        if paused is not None and on >= paused:
            return ClockStatus.PAUSED
        if on > self.due_on:
            return ClockStatus.OVERDUE
        return ClockStatus.RUNNING

    def days_left(self, on: date) -> int | None:
        """The calendar days left on ``on`` when the clock is about to pass (临期: running and
        due within ``REMINDER_DAYS``, the due day itself counting as 0), else None."""
        if self.status(on) is not ClockStatus.RUNNING:
            return None
        left = (self.due_on - on).days
        return left if left <= REMINDER_DAYS else None

    def days_overdue(self, on: date) -> int:
        """Calendar days past the due date on ``on``; 0 while paused or not yet due."""
        if self.paused_on is not None:
            return 0
        return max(0, (on - self.due_on).days)

    def explain(self) -> Explanation:
        t = self._timeline
        return Explanation(
            rule=self.rule,
            started_on=self.started_on,
            due_on=t.due_on,
            provisional=self.provisional,
            provisional_years=t.provisional_years,
            extended=self.extended,
            paused_on=self.paused_on,
            days_required=t.required,
            days_counted=t.counted,
            steps=t.steps,
        )


def start_clock(rule_name: str, started_on: date, *, calendar: WorkCalendar | None = None) -> Clock:
    """Start the named rule's clock on ``started_on`` (that day itself is not counted)."""
    rule = get_rule(rule_name)
    _require_date(started_on)
    return Clock(
        rule=rule,
        events=(ClockEvent(EventKind.START, started_on),),
        calendar=calendar if calendar is not None else default_calendar(),
    )


def readme_example() -> str:
    """The README's worked example: a disclosure request received on Friday 2026-09-25,
    whose 20 working days cross the Mid-autumn and National Day holidays."""
    # A fresh calendar, so schedules loaded into the shared default cannot change the text.
    clock = start_clock("disclosure.reply", date(2026, 9, 25), calendar=WorkCalendar())
    return clock.explain().to_text()


def replay_clock(
    rule_name: str, events: Iterable[ClockEvent], *, calendar: WorkCalendar | None = None
) -> Clock:
    """Rebuild a stored clock from its ``events`` (as kept in ``Clock.events``), checking
    each one as if it happened again."""
    items = iter(events)
    first = next(items, None)
    if first is None or first.kind is not EventKind.START:
        raise ClockError("a clock's events must begin with its start")
    clock = start_clock(rule_name, first.on, calendar=calendar)
    for e in items:
        if e.kind is EventKind.PAUSE:
            clock = clock.pause(on=e.on)
        elif e.kind is EventKind.RESUME:
            clock = clock.resume(on=e.on)
        elif e.kind is EventKind.EXTEND:
            clock = clock.extend(on=e.on)
        elif e.kind is EventKind.RESTART:
            clock = clock.restart(on=e.on)
        else:
            raise ClockError(f"a clock starts only once; use restart (second start on {e.on})")
    return clock
