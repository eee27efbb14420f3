"""The plan's task catalogue: chapters, the 31 measures, their tasks, units and milestones.

The facts live in ``supervision/data/plan.json`` (hand-checked against the seed text of
碑林区法治政府建设实施方案（2021—2025年）). ``load_plan()`` reads and validates it once;
unit fields are codes of :mod:`fazhi.rules.units`, so a measure's units resolve to concrete units.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Literal

from fazhi.rules import units

__all__ = [
    "CatalogueError",
    "Chapter",
    "Measure",
    "Milestone",
    "Plan",
    "RecurringDuty",
    "Task",
    "UnknownMeasureError",
    "chinese_numeral",
    "load_plan",
    "parse_plan",
]

MAX_SUMMARY_CHARS = 40
MAX_SOURCE_CHARS = 30

_DIGITS = "一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """Chinese numeral of 1 ≤ n ≤ 99, as the plan numbers its chapters and measures."""
    if not 1 <= n <= 99:
        raise ValueError(f"chinese_numeral supports 1..99, got {n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens - 1] + "十")
    return head + (_DIGITS[ones - 1] if ones else "")


class CatalogueError(ValueError):
    """The plan data is malformed: unknown unit code, bad date, duplicate number..."""


class UnknownMeasureError(KeyError):
    """No measure has this number or sequence."""

    def __str__(self) -> str:
        return f"no measure {self.args[0]!r} in the plan (use 一…三十一 or 1…31)"


@dataclass(frozen=True)
class Milestone:
    id: str
    measure_seq: int
    title: str
    due: date
    source: str


@dataclass(frozen=True)
class Task:
    id: str
    measure_seq: int
    summary: str
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]


@dataclass(frozen=True)
class Chapter:
    number: str
    seq: int
    title: str
    aim: str


@dataclass(frozen=True)
class Measure:
    number: str
    seq: int
    chapter: str
    title: str
    weight: float
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]
    tasks: tuple[Task, ...]
    milestones: tuple[Milestone, ...]

    def units(self, role: Literal["all", "lead", "responsible"] = "all") -> frozenset[str]:
        """Concrete unit codes of the measure, groups resolved through ``fazhi.rules.units``."""
        codes = {
            "all": (*self.lead_units, *self.responsible_units),
            "lead": self.lead_units,
            "responsible": self.responsible_units,
        }[role]
        return frozenset().union(*(units.resolve(code) for code in codes))


@dataclass(frozen=True)
class RecurringDuty:
    id: str
    measure: str
    title: str
    frequency: str
    amount: int
    amount_unit: str
    applies_to: str
    units: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Plan:
    title: str
    document_number: str
    issued_by: tuple[str, ...]
    start_year: int
    end_year: int
    end_date: date
    chapters: tuple[Chapter, ...]
    measures: tuple[Measure, ...]
    recurring: tuple[RecurringDuty, ...]
    notes: tuple[str, ...]

    def measure(self, number_or_seq: str | int) -> Measure:
        """A measure by Chinese number ("十", "（十）") or sequence (10)."""
        if isinstance(number_or_seq, str):
            key = number_or_seq.strip().strip("（）() ")
            found = next((m for m in self.measures if m.number == key), None)
        elif isinstance(number_or_seq, int) and not isinstance(number_or_seq, bool):
            found = next((m for m in self.measures if m.seq == number_or_seq), None)
        else:
            found = None
        if found is None:
            raise UnknownMeasureError(number_or_seq)
        return found

    def chapter(self, number: str) -> Chapter:
        for c in self.chapters:
            if c.number == number:
                return c
        raise KeyError(number)

    def milestones(self) -> tuple[Milestone, ...]:
        """All milestones, ordered by due date then measure."""
        every = (ms for m in self.measures for ms in m.milestones)
        return tuple(sorted(every, key=lambda ms: (ms.due, ms.measure_seq, ms.id)))

    def milestones_due_between(self, start: date, end: date) -> tuple[Milestone, ...]:
        """Milestones with ``start <= due <= end``, ordered by due date then measure."""
        return tuple(ms for ms in self.milestones() if start <= ms.due <= end)


# --- parsing and validation -------------------------------------------------------------


def _get(raw: Mapping[str, object], key: str, kind: type, where: str) -> object:
    value = raw.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CatalogueError(f"{where}: {key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _str(raw: Mapping[str, object], key: str, where: str) -> str:
    value = _get(raw, key, str, where)
    assert isinstance(value, str)
    if not value.strip():
        raise CatalogueError(f"{where}: {key!r} is empty")
    return value


def _int(raw: Mapping[str, object], key: str, where: str) -> int:
    value = _get(raw, key, int, where)
    assert isinstance(value, int)
    return value


def _objects(raw: Mapping[str, object], key: str, where: str) -> list[Mapping[str, object]]:
    value = _get(raw, key, list, where)
    assert isinstance(value, list)
    if not all(isinstance(item, Mapping) for item in value):
        raise CatalogueError(f"{where}: every entry of {key!r} must be an object")
    return value


def _strs(raw: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = _get(raw, key, list, where)
    assert isinstance(value, list)
    if not all(isinstance(item, str) for item in value):
        raise CatalogueError(f"{where}: {key!r} must be a list of strings")
    return tuple(value)


def _date(raw: Mapping[str, object], key: str, where: str) -> date:
    text = _str(raw, key, where)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CatalogueError(f"{where}: {key!r} is not a YYYY-MM-DD date: {text!r}") from None


def _unit_codes(raw: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    codes = _strs(raw, key, where)
    if not codes:
        raise CatalogueError(f"{where}: {key!r} is empty")
    for code in codes:
        if not (units.is_unit_code(code) or units.is_group_code(code)):
            raise CatalogueError(f"{where}: {key!r} names unknown unit code {code!r}")
    if len(set(codes)) != len(codes):
        raise CatalogueError(f"{where}: {key!r} repeats a unit code")
    return codes


def _short(text: str, limit: int, what: str, where: str) -> str:
    if len(text) > limit:
        raise CatalogueError(f"{where}: {what} longer than {limit} characters: {text!r}")
    return text


def _ordered_union(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for part in parts for code in part))


def _measure(raw: Mapping[str, object], chapters: set[str], start: date, end: date) -> Measure:
    seq = _int(raw, "seq", "measure")
    number = _str(raw, "number", f"measure {seq}")
    where = f"measure ({number})"
    if seq < 1 or chinese_numeral(seq) != number:
        raise CatalogueError(f"{where}: number does not match seq {seq}")
    chapter = _str(raw, "chapter", where)
    if chapter not in chapters:
        raise CatalogueError(f"{where}: unknown chapter {chapter!r}")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
        raise CatalogueError(f"{where}: weight must be a positive number, got {weight!r}")
    lead = _unit_codes(raw, "lead_units", where)
    responsible = _unit_codes(raw, "responsible_units", where)

    tasks: list[Task] = []
    for i, item in enumerate(_objects(raw, "tasks", where), start=1):
        task_where = f"{where} task {i}"
        tasks.append(
            Task(
                id=f"M{seq:02d}-T{i}",
                measure_seq=seq,
                summary=_short(
                    _str(item, "summary", task_where), MAX_SUMMARY_CHARS, "summary", task_where
                ),
                lead_units=_unit_codes(item, "lead_units", task_where)
                if "lead_units" in item
                else lead,
                responsible_units=_unit_codes(item, "responsible_units", task_where)
                if "responsible_units" in item
                else responsible,
            )
        )
    if not tasks:
        raise CatalogueError(f"{where}: has no tasks")
    if _ordered_union([t.lead_units for t in tasks]) != lead:
        raise CatalogueError(f"{where}: lead_units differ from the union of its tasks' leads")
    if _ordered_union([t.responsible_units for t in tasks]) != responsible:
        raise CatalogueError(
            f"{where}: responsible_units differ from the union of its tasks' responsible units"
        )

    milestones: list[Milestone] = []
    for i, item in enumerate(_objects(raw, "milestones", where), start=1):
        ms_where = f"{where} milestone {i}"
        due = _date(item, "due", ms_where)
        if not start <= due <= end:
            raise CatalogueError(f"{ms_where}: due {due} is outside the plan period")
        milestones.append(
            Milestone(
                id=f"M{seq:02d}-D{i}",
                measure_seq=seq,
                title=_str(item, "title", ms_where),
                due=due,
                source=_short(_str(item, "source", ms_where), MAX_SOURCE_CHARS, "source", ms_where),
            )
        )
    return Measure(
        number=number,
        seq=seq,
        chapter=chapter,
        title=_str(raw, "title", where),
        weight=float(weight),
        lead_units=lead,
        responsible_units=responsible,
        tasks=tuple(tasks),
        milestones=tuple(milestones),
    )


def _recurring(raw: Mapping[str, object], measures: set[str]) -> RecurringDuty:
    duty_id = _str(raw, "id", "recurring duty")
    where = f"recurring duty {duty_id!r}"
    measure = _str(raw, "measure", where)
    if measure not in measures:
        raise CatalogueError(f"{where}: unknown measure {measure!r}")
    amount = _int(raw, "amount", where)
    if amount < 1:
        raise CatalogueError(f"{where}: amount must be at least 1")
    return RecurringDuty(
        id=duty_id,
        measure=measure,
        title=_str(raw, "title", where),
        frequency=_str(raw, "frequency", where),
        amount=amount,
        amount_unit=_str(raw, "amount_unit", where),
        applies_to=_str(raw, "applies_to", where),
        units=_unit_codes(raw, "units", where),
        source=_short(_str(raw, "source", where), MAX_SOURCE_CHARS, "source", where),
    )


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise CatalogueError(f"duplicate {what} {value!r}")
        seen.add(value)


def parse_plan(raw: object) -> Plan:
    """Build and validate a :class:`Plan` from the parsed JSON document."""
    if not isinstance(raw, Mapping):
        raise CatalogueError("plan data must be a JSON object")
    period = raw.get("period")
    if not isinstance(period, Mapping):
        raise CatalogueError("plan: 'period' must be an object")
    start_year = _int(period, "start_year", "plan period")
    end_year = _int(period, "end_year", "plan period")
    end_date = _date(raw, "end_date", "plan")
    if start_year > end_year or end_date.year != end_year:
        raise CatalogueError(f"plan: inconsistent period {start_year}-{end_year} / {end_date}")

    chapters: list[Chapter] = []
    for seq, item in enumerate(_objects(raw, "chapters", "plan"), start=1):
        number = _str(item, "number", f"chapter {seq}")
        if number != chinese_numeral(seq):
            raise CatalogueError(f"chapter {seq}: expected number {chinese_numeral(seq)!r}")
        chapters.append(
            Chapter(
                number=number,
                seq=seq,
                title=_str(item, "title", f"chapter {number}"),
                aim=_str(item, "aim", f"chapter {number}"),
            )
        )
    chapter_numbers = {c.number for c in chapters}
    first_day = date(start_year, 1, 1)

    measures = [
        _measure(item, chapter_numbers, first_day, end_date)
        for item in _objects(raw, "measures", "plan")
    ]
    _unique([m.number for m in measures], "measure number")
    if [m.seq for m in measures] != list(range(1, len(measures) + 1)):
        raise CatalogueError("measures must be listed in order, seq 1, 2, 3, ...")
    chapter_order = [c.number for c in chapters]
    positions = [chapter_order.index(m.chapter) for m in measures]
    if positions != sorted(positions):
        raise CatalogueError("measures must follow the order of their chapters")

    measure_numbers = {m.number for m in measures}
    recurring = [_recurring(item, measure_numbers) for item in _objects(raw, "recurring", "plan")]
    _unique([r.id for r in recurring], "recurring duty id")

    return Plan(
        title=_str(raw, "title", "plan"),
        document_number=_str(raw, "document_number", "plan"),
        issued_by=_strs(raw, "issued_by", "plan"),
        start_year=start_year,
        end_year=end_year,
        end_date=end_date,
        chapters=tuple(chapters),
        measures=tuple(measures),
        recurring=tuple(recurring),
        notes=_strs(raw, "notes", "plan"),
    )


@functools.cache
def load_plan() -> Plan:
    """The plan shipped in ``supervision/data/plan.json``, validated (read once)."""
    text = resources.files("supervision").joinpath("data", "plan.json").read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"plan.json is not valid JSON: {exc}") from exc
    return parse_plan(raw)
