"""The plan catalogue: 31 measures in 10 chapters, units, milestones, checked against the seed."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from fazhi.rules import units
from supervision import plan as plan_module
from supervision.plan import (
    CatalogueError,
    UnknownMeasureError,
    chinese_numeral,
    load_plan,
    parse_plan,
)

SEED = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "seed"
    / "beilin-rule-of-law-government-plan-2021-2025.txt"
)
PLAN_END = date(2025, 12, 31)
NUMBERS = [chinese_numeral(n) for n in range(1, 32)]
DATED_MILESTONES = [
    ("十", date(2023, 12, 31), "两法衔接"),
    ("十八", date(2022, 12, 31), "行政复议体制"),
    ("二十二", date(2024, 12, 31), "行政执法协调监督"),
    ("二十五", date(2023, 12, 31), "统一公开查询"),
    ("二十七", date(2022, 12, 31), "监管平台数据联通汇聚"),
]
_NOTE = re.compile(r"[（(]按照职责分工负责，\s*下\s*同\s*[)）]")
_HEADING = re.compile(r"^[（(]\s*([一二三四五六七八九十]+)\s*[)）]\s*(\S.*?)\s*$", re.MULTILINE)
_CHAPTER = re.compile(r"^([一二三四五六七八九十])、(.+?)\s*$", re.MULTILINE)
_UNIT_LINE = re.compile(r"^(牵头单位|责任单位)：(.+)$", re.MULTILINE)


def seed_text() -> str:
    if not SEED.is_file():
        pytest.fail(f"the plan's seed text is missing: expected it at {SEED}")
    text = _NOTE.sub("", SEED.read_text(encoding="utf-8"))
    return re.sub(r"、\s*\n\s*", "、", text)  # a unit list wrapped onto the next line


def seed_measures() -> list[tuple[str, str, str]]:
    """(number, title, body) of each （一）…（三十一） measure of the seed, in order."""
    text = seed_text()
    heads = list(_HEADING.finditer(text))
    ends = [h.start() for h in heads[1:]] + [len(text)]
    return [(h[1], h[2], text[h.end() : end]) for h, end in zip(heads, ends, strict=True)]


def seed_codes(body: str, label: str) -> tuple[str, ...]:
    """Unit codes of a measure's 牵头单位 or 责任单位 lines, in order of first appearance."""
    codes: dict[str, None] = {}
    for kind, line in _UNIT_LINE.findall(body):
        if kind == label:
            for name in line.split("、"):
                unit = units.find_unit(name)
                assert unit is not None, f"unknown unit string {name!r}"
                codes[unit.code] = None
    return tuple(codes)


def squeezed_seed() -> str:
    return re.sub(r"\s+", "", seed_text())


def quoted_in_seed(source: str, text: str) -> bool:
    """A short quote is in the seed; '…' may stand for an elided stretch."""
    pattern = ".*?".join(re.escape(part) for part in source.split("…"))
    return re.search(pattern, text) is not None


@pytest.fixture
def raw() -> dict[str, Any]:
    text = resources.files("supervision").joinpath("data", "plan.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return copy.deepcopy(data)


# --- the shipped catalogue ----------------------------------------------------------------


def test_load_plan_is_cached() -> None:
    assert load_plan() is load_plan()


def test_plan_identity_and_period() -> None:
    plan = load_plan()
    assert plan.title == "碑林区法治政府建设实施方案（2021—2025年）"
    assert plan.document_number == "碑发〔2022〕3号"
    assert (plan.start_year, plan.end_year, plan.end_date) == (2021, 2025, PLAN_END)
    assert plan.notes


def test_plan_has_31_measures_numbered_in_order_across_10_chapters() -> None:
    plan = load_plan()
    assert [c.number for c in plan.chapters] == [chinese_numeral(n) for n in range(1, 11)]
    assert [m.number for m in plan.measures] == NUMBERS
    assert [m.seq for m in plan.measures] == list(range(1, 32))
    per_chapter = {
        c.number: [m.seq for m in plan.measures if m.chapter == c.number] for c in plan.chapters
    }
    assert per_chapter == {
        "一": [],
        "二": [1, 2, 3],
        "三": [4],
        "四": [5, 6, 7],
        "五": [8, 9, 10, 11, 12],
        "六": [13, 14, 15],
        "七": [16, 17, 18, 19],
        "八": [20, 21, 22, 23, 24],
        "九": [25, 26, 27],
        "十": [28, 29, 30, 31],
    }


def test_seed_measure_headings_match_catalogue_titles() -> None:
    seed = [(number, title) for number, title, _ in seed_measures()]
    assert seed == [(m.number, m.title) for m in load_plan().measures]


def test_seed_chapter_headings_match_catalogue_titles_and_aims() -> None:
    seed = _CHAPTER.findall(seed_text())
    assert seed == [(c.number, f"{c.title}，{c.aim}") for c in load_plan().chapters]


def test_seed_measures_fall_in_the_catalogue_chapters() -> None:
    text = seed_text()
    chapter_at = [(m.start(), m[1]) for m in _CHAPTER.finditer(text)]
    for head in _HEADING.finditer(text):
        chapter = [number for start, number in chapter_at if start < head.start()][-1]
        assert load_plan().measure(head[1]).chapter == chapter, head[0]


def test_lead_and_responsible_units_match_the_seed_lines() -> None:
    plan = load_plan()
    for number, _, body in seed_measures():
        measure = plan.measure(number)
        assert measure.lead_units == seed_codes(body, "牵头单位"), number
        assert measure.responsible_units == seed_codes(body, "责任单位"), number


def test_every_lead_and_responsible_code_resolves_in_the_registry() -> None:
    plan = load_plan()
    codes = {
        c for m in plan.measures for t in m.tasks for c in (*t.lead_units, *t.responsible_units)
    }
    codes |= {c for m in plan.measures for c in (*m.lead_units, *m.responsible_units)}
    codes |= {c for duty in plan.recurring for c in duty.units}
    for code in codes:
        assert units.get_unit(code).code == code
        assert units.resolve(code)


def test_measure_units_resolve_groups_to_concrete_units() -> None:
    measure = load_plan().measure("八")
    assert measure.lead_units == ("establishment", "group:enforcement-departments")
    leads = measure.units("lead")
    assert "establishment" in leads
    assert units.resolve("group:enforcement-departments") <= leads
    assert all(units.is_unit_code(code) for code in measure.units())
    assert measure.units() == leads | measure.units("responsible")
    assert measure.units("responsible") == units.resolve("区级各相关部门")


@pytest.mark.parametrize(("number", "due", "words"), DATED_MILESTONES)
def test_dated_milestones_exist_with_their_dates(number: str, due: date, words: str) -> None:
    dated = [ms for ms in load_plan().measure(number).milestones if ms.due != PLAN_END]
    assert len(dated) == 1
    assert dated[0].due == due
    assert words in dated[0].title
    assert f"{due.year}年年底" in dated[0].source


def test_only_the_five_dated_milestones_fall_before_the_plan_end() -> None:
    early = load_plan().milestones_due_between(date(2021, 1, 1), date(2025, 12, 30))
    assert [(ms.measure_seq, ms.due) for ms in early] == [
        (18, date(2022, 12, 31)),
        (27, date(2022, 12, 31)),
        (10, date(2023, 12, 31)),
        (25, date(2023, 12, 31)),
        (22, date(2024, 12, 31)),
    ]


def test_every_measure_has_the_plan_end_milestone() -> None:
    for measure in load_plan().measures:
        assert PLAN_END in [ms.due for ms in measure.milestones], measure.number


def test_milestones_due_between_is_inclusive_and_ordered() -> None:
    plan = load_plan()
    in_2022 = plan.milestones_due_between(date(2022, 12, 31), date(2022, 12, 31))
    assert [ms.measure_seq for ms in in_2022] == [18, 27]
    assert len(plan.milestones_due_between(PLAN_END, PLAN_END)) == 31
    assert plan.milestones_due_between(date(2026, 1, 1), date(2026, 12, 31)) == ()
    assert plan.milestones_due_between(PLAN_END, date(2021, 1, 1)) == ()


def test_milestone_and_recurring_sources_are_short_quotes_of_the_seed() -> None:
    text = squeezed_seed()
    plan = load_plan()
    sources = [ms.source for m in plan.measures for ms in m.milestones]
    sources += [duty.source for duty in plan.recurring]
    for source in sources:
        assert len(source) <= 30
        assert quoted_in_seed(source, text), source


def test_tasks_have_short_summaries_and_unique_ids() -> None:
    plan = load_plan()
    tasks = [t for m in plan.measures for t in m.tasks]
    assert all(m.tasks for m in plan.measures)
    assert all(0 < len(t.summary) <= 40 for t in tasks)
    assert len({t.id for t in tasks}) == len(tasks)
    assert plan.measure(1).tasks[0].id == "M01-T1"
    ids = [ms.id for m in plan.measures for ms in m.milestones]
    assert len(set(ids)) == len(ids)


def test_paragraphs_with_their_own_leads_give_tasks_their_own_units() -> None:
    first = load_plan().measure("一")
    assert first.tasks[0].lead_units == ("establishment", "party-organisation")
    assert first.tasks[-1].lead_units[0] == "approval"
    single = load_plan().measure("四")
    assert all(t.lead_units == ("justice",) for t in single.tasks)


def test_every_measure_weighs_one() -> None:
    assert {m.weight for m in load_plan().measures} == {1.0}


@pytest.mark.parametrize(
    ("duty_id", "measure", "amount", "amount_unit"),
    [
        ("annual-report", "二十九", 1, "report"),
        ("study-hours", "三十", 60, "hours"),
        ("legal-lectures", "三十", 2, "lectures"),
    ],
)
def test_recurring_duties(duty_id: str, measure: str, amount: int, amount_unit: str) -> None:
    duty = next(d for d in load_plan().recurring if d.id == duty_id)
    assert (duty.measure, duty.amount, duty.amount_unit, duty.frequency) == (
        measure,
        amount,
        amount_unit,
        "annual",
    )


def test_measure_lookup_by_number_heading_or_seq() -> None:
    plan = load_plan()
    assert plan.measure("十").seq == 10
    assert plan.measure("（十）").seq == 10
    assert plan.measure(31).number == "三十一"
    assert plan.chapter("五").title == "健全行政执法工作体系"


@pytest.mark.parametrize("key", [0, 32, "三十二", "", True, 1.0])
def test_measure_lookup_of_an_unknown_measure_raises(key: Any) -> None:
    with pytest.raises(UnknownMeasureError, match="no measure"):
        load_plan().measure(key)


def test_chapter_lookup_of_an_unknown_chapter_raises() -> None:
    with pytest.raises(KeyError):
        load_plan().chapter("十一")


@pytest.mark.parametrize(
    ("n", "numeral"),
    [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (23, "二十三"), (99, "九十九")],
)
def test_chinese_numeral(n: int, numeral: str) -> None:
    assert chinese_numeral(n) == numeral


@pytest.mark.parametrize("n", [0, 100])
def test_chinese_numeral_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.99"):
        chinese_numeral(n)


# --- validation on load -------------------------------------------------------------------


def test_parse_plan_accepts_the_shipped_data(raw: dict[str, Any]) -> None:
    assert parse_plan(raw) == load_plan()


def _break(raw: dict[str, Any], how: str) -> None:
    m = raw["measures"]
    match how:
        case "unknown unit":
            m[3]["lead_units"] = ["no-such-unit"]
        case "bad date":
            m[9]["milestones"][0]["due"] = "2023-13-31"
        case "date outside period":
            m[9]["milestones"][0]["due"] = "2026-12-31"
        case "numeral mismatch":
            m[1]["number"] = "三"
        case "out of order":
            m[0], m[1] = m[1], m[0]
        case "unknown chapter":
            m[0]["chapter"] = "十一"
        case "chapter order":
            m[0]["chapter"] = "三"
        case "bad weight":
            m[0]["weight"] = 0
        case "long summary":
            m[0]["tasks"][0]["summary"] = "长" * 41
        case "long source":
            m[9]["milestones"][0]["source"] = "源" * 31
        case "lead mismatch":
            m[0]["lead_units"] = ["establishment"]
        case "responsible mismatch":
            m[0]["responsible_units"] = ["group:streets"]
        case "no tasks":
            m[3]["tasks"] = []
        case "empty units":
            m[3]["responsible_units"] = []
        case "repeated unit":
            m[4]["lead_units"] = ["justice", "justice"]
        case "units not strings":
            m[3]["lead_units"] = [1]
        case "task not object":
            m[3]["tasks"] = ["x"]
        case "empty title":
            m[3]["title"] = " "
        case "seq not int":
            m[3]["seq"] = "4"
        case "not object":
            raw.clear()
        case "no period":
            del raw["period"]
        case "inconsistent period":
            raw["period"]["end_year"] = 2024
        case "chapter numeral":
            raw["chapters"][1]["number"] = "三"
        case "recurring unknown measure":
            raw["recurring"][0]["measure"] = "三十二"
        case "recurring duplicate id":
            raw["recurring"][1]["id"] = raw["recurring"][0]["id"]
        case "recurring amount":
            raw["recurring"][0]["amount"] = 0


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("unknown unit", "unknown unit code 'no-such-unit'"),
        ("bad date", "not a YYYY-MM-DD date"),
        ("date outside period", "outside the plan period"),
        ("numeral mismatch", "does not match seq"),
        ("out of order", "in order"),
        ("unknown chapter", "unknown chapter"),
        ("chapter order", "order of their chapters"),
        ("bad weight", "weight"),
        ("long summary", "summary longer than 40"),
        ("long source", "source longer than 30"),
        ("lead mismatch", "lead_units differ"),
        ("responsible mismatch", "responsible_units differ"),
        ("no tasks", "no tasks"),
        ("empty units", "'responsible_units' is empty"),
        ("repeated unit", "repeats a unit code"),
        ("units not strings", "list of strings"),
        ("task not object", "must be an object"),
        ("empty title", "'title' is empty"),
        ("seq not int", "'seq' must be a int"),
        ("not object", "'period' must be an object"),
        ("no period", "'period' must be an object"),
        ("inconsistent period", "inconsistent period"),
        ("chapter numeral", "expected number '二'"),
        ("recurring unknown measure", "unknown measure"),
        ("recurring duplicate id", "duplicate recurring duty id"),
        ("recurring amount", "at least 1"),
    ],
)
def test_parse_plan_rejects_malformed_data(raw: dict[str, Any], how: str, message: str) -> None:
    _break(raw, how)
    with pytest.raises(CatalogueError, match=message):
        parse_plan(raw)


def test_parse_plan_rejects_a_non_object() -> None:
    with pytest.raises(CatalogueError, match="JSON object"):
        parse_plan([])


def test_duplicate_measure_numbers_are_rejected(raw: dict[str, Any]) -> None:
    raw["measures"].append(copy.deepcopy(raw["measures"][-1]))
    with pytest.raises(CatalogueError, match="duplicate measure number"):
        parse_plan(raw)


def test_load_plan_reports_invalid_json(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def joinpath(self, *parts: str) -> Broken:
            return self

        def read_text(self, encoding: str) -> str:
            return "{not json"

    monkeypatch.setattr(plan_module.resources, "files", lambda package: Broken())
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_plan.__wrapped__()
