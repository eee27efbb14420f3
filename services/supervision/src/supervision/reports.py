"""What supervisors read of a year: scorecards per unit (`GET /v1/scorecards?year=`) and the
draft annual report 法治政府建设年度报告 (`GET /v1/reports/annual/{year}`, HTML or Markdown),
drafted from the plan's progress, the items and the training records. Every query is an
equality on an indexed field (`kind`, `opened_year`, `year`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.supervision import Escalation, ItemKind, ItemStatus
from fazhi.roles import Role
from fazhi.rules import find_unit, units
from fazhi.web import Caller, Principal, Problem, ServiceRuntime, runtime
from supervision.domain import LECTURES_DUTY, STUDY_HOURS_DUTY, median
from supervision.pages import PAGES
from supervision.plan import load_plan
from supervision.responses import documented, strict_query
from supervision.store import ITEMS, MEASURE, MILESTONE, TASK, TASKS, TRAININGS

Year = Annotated[int, Query(ge=2021, le=2100, description="The year (e.g. 2025)")]
READ_SCOPE = "supervisor and operator keys; any other key: 403"

KIND_ZH = {
    ItemKind.TASK_OVERDUE: "任务逾期",
    ItemKind.ALERT: "预警",
    ItemKind.ALERT_UNACKNOWLEDGED: "预警未确认",
    ItemKind.CASE_OVERDUE: "案件超期",
    ItemKind.REQUEST_OVERDUE: "依申请公开超期",
    ItemKind.DECISION_EXECUTION: "决定执行",
    ItemKind.INSPECTION_FINDING: "督查发现问题",
    ItemKind.DELIVERY_FAILING: "推送接收失败",
}


def unit_name(code: str) -> str:
    unit = find_unit(code)
    return unit.name if unit else code


def _duty_units(duty_id: str) -> frozenset[str]:
    for duty in load_plan().recurring:
        if duty.id == duty_id:
            return frozenset().union(*(units.resolve(c) for c in duty.units))
    return frozenset()


@dataclass
class YearData:
    year: int
    today: date
    measures: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    items: list[dict[str, Any]]
    trainings: list[dict[str, Any]]


async def year_data(db: AsyncDatabase[dict[str, Any]], year: int, today: date) -> YearData:
    measures = await db[TASKS].find({"kind": MEASURE}).to_list(None)
    measures.sort(key=lambda m: m.get("measure_seq", 0))
    tasks = []
    for kind in (TASK, MILESTONE):
        tasks += await db[TASKS].find({"kind": kind}).to_list(None)
    items = await db[ITEMS].find({"opened_year": year}).to_list(None)
    trainings = await db[TRAININGS].find({"year": year}).to_list(None)
    return YearData(year, today, measures, tasks, items, trainings)


def _due_on(doc: dict[str, Any]) -> date | None:
    due = doc.get("due_at")
    return due.astimezone(CHINA_TZ).date() if isinstance(due, datetime) else None


def scorecards(data: YearData) -> list[dict[str, Any]]:
    """Per unit: its tasks and milestones due in the year on time / late / open, the items
    opened in the year and closed, the median days to close, and training against the duties
    of measure (三十)."""
    cards: dict[str, dict[str, Any]] = {}

    def card(unit: str) -> dict[str, Any]:
        return cards.setdefault(
            unit,
            {
                "unit": unit,
                "unit_name": unit_name(unit),
                "tasks_on_time": 0,
                "tasks_late": 0,
                "tasks_open": 0,
                "items_opened": 0,
                "items_closed": 0,
                "_days": [],
                "study_hours": 0.0,
                "lectures": 0,
            },
        )

    for task in data.tasks:
        due = _due_on(task)
        if due is None or due.year != data.year or not task.get("unit"):
            continue
        c = card(task["unit"])
        completed = task.get("completed_at")
        if isinstance(completed, datetime):
            late = completed.astimezone(CHINA_TZ).date() > due
            c["tasks_late" if late else "tasks_on_time"] += 1
        elif data.today > due:
            c["tasks_late"] += 1
        else:
            c["tasks_open"] += 1
    for item in data.items:
        c = card(item["unit"])
        c["items_opened"] += 1
        if item.get("status") == ItemStatus.CLOSED:
            c["items_closed"] += 1
            if item.get("days_to_close") is not None:
                c["_days"].append(float(item["days_to_close"]))
    for training in data.trainings:
        c = card(training["unit"])
        if training.get("kind") == "lecture":
            c["lectures"] += 1
        else:
            c["study_hours"] += float(training.get("hours", 0))
    study_units, lecture_units = _duty_units("study-hours"), _duty_units("legal-lectures")
    out = []
    for unit in sorted(cards):
        c = cards[unit]
        days = c.pop("_days")
        c["median_days_to_close"] = median(days)
        c["study_hours_duty"] = STUDY_HOURS_DUTY if unit in study_units else None
        c["study_duty_met"] = c["study_hours"] >= STUDY_HOURS_DUTY if unit in study_units else None
        c["lectures_duty"] = LECTURES_DUTY if unit in lecture_units else None
        c["lecture_duty_met"] = c["lectures"] >= LECTURES_DUTY if unit in lecture_units else None
        out.append(c)
    return out


def annual_markdown(data: YearData) -> str:
    plan = load_plan()
    measures = data.measures
    weight = sum(m.get("weight", 1.0) for m in measures) or 1.0
    overall = sum(m.get("progress_pct", 0) * m.get("weight", 1.0) for m in measures) / weight
    completed = [m for m in measures if m.get("status") == "completed"]
    overdue = [m for m in measures if m.get("overdue")]
    kinds = Counter(i["kind"] for i in data.items)
    closed = [i for i in data.items if i.get("status") == ItemStatus.CLOSED]
    steps = Counter(i.get("escalation", Escalation.SUPERVISE) for i in data.items)
    cards = scorecards(data)
    lines = [
        f"# 碑林区{data.year}年法治政府建设年度报告（草稿）",
        "",
        f"依据《{plan.title}》（{plan.document_number}），根据督查督办系统数据自动生成，"
        f"数据截至{data.today.isoformat()}。",
        "",
        "## 一、总体进展",
        "",
        f"- 方案共{len(measures)}项措施，加权平均完成进度{overall:.1f}%。",
        f"- 已完成{len(completed)}项，逾期未完成{len(overdue)}项。",
        "",
        "## 二、各项措施推进情况",
        "",
        "| 措施 | 名称 | 牵头单位 | 进度 | 状态 |",
        "|---|---|---|---|---|",
    ]
    for m in measures:
        status = (
            "逾期"
            if m.get("overdue")
            else {"completed": "已完成", "in_progress": "推进中"}.get(m.get("status", ""), "未启动")
        )
        leads = "、".join(unit_name(u) for u in m.get("lead_units", [])[:3])
        lines.append(
            f"| （{m.get('measure')}） | {m.get('title')} | {leads} | "
            f"{m.get('progress_pct', 0)}% | {status} |"
        )
    lines += [
        "",
        "## 三、督查督办",
        "",
        f"- 全年立项督办事项{len(data.items)}件，已办结{len(closed)}件。",
    ]
    for kind, count in sorted(kinds.items()):
        lines.append(f"- {KIND_ZH.get(ItemKind(kind), kind)}：{count}件")
    lines.append(
        f"- 升级约谈{steps.get(Escalation.INTERVIEW, 0)}件，"
        f"通报{steps.get(Escalation.PUBLIC_NOTICE, 0)}件。"
    )
    lines += [
        "",
        "## 四、学法用法",
        "",
        "| 单位 | 学法学时 | 法治专题讲座 |",
        "|---|---|---|",
    ]
    for c in cards:
        if c["study_hours"] or c["lectures"] or c["study_hours_duty"] or c["lectures_duty"]:
            lines.append(f"| {c['unit_name']} | {c['study_hours']:g} | {c['lectures']} |")
    lines += ["", "## 五、存在的问题和下一步打算", ""]
    if overdue:
        lines.append("以下措施逾期未完成，须加大督办力度：")
        lines.append("")
        for m in overdue:
            lines.append(
                f"- （{m.get('measure')}）{m.get('title')}，逾期{m.get('days_overdue', 0)}天"
            )
    else:
        lines.append("各项措施均按期推进。")
    lines.append("")
    return "\n".join(lines)


def markdown_blocks(text: str) -> list[dict[str, Any]]:
    """The report's own small Markdown (headings, lists, tables, paragraphs) as blocks for
    `templates/report.html`: `{"kind": "h1" | "h2" | "p", "text"}`, `{"kind": "ul", "entries"}`,
    `{"kind": "table", "head", "rows"}`."""
    blocks: list[dict[str, Any]] = []
    table: list[list[str]] = []
    items: list[str] = []

    def end_table() -> None:
        if table:
            head, *rows = table
            blocks.append({"kind": "table", "head": head, "rows": rows})
            table.clear()

    def end_list() -> None:
        if items:
            blocks.append({"kind": "ul", "entries": list(items)})
            items.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            end_list()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                table.append(cells)
            continue
        end_table()
        if line.startswith("- "):
            items.append(line[2:])
            continue
        end_list()
        if line.startswith("## "):
            blocks.append({"kind": "h2", "text": line[3:]})
        elif line.startswith("# "):
            blocks.append({"kind": "h1", "text": line[2:]})
        elif line.strip():
            blocks.append({"kind": "p", "text": line})
    end_table()
    end_list()
    return blocks


def report_page(text: str, title: str) -> str:
    return PAGES.text("report.html", title=title, blocks=markdown_blocks(text))


def _supervisor(who: Principal) -> None:
    if not who.has(Role.SUPERVISOR, Role.OPERATOR):
        raise Problem(403, "This needs a supervisor or operator key.", kind="forbidden-role")


def router() -> APIRouter:
    api = APIRouter(tags=["reports"])

    @api.get(
        "/v1/scorecards",
        summary="Scorecards per unit for a year: tasks on time / late / open, items, training",
        responses=documented(supervisor=True),
        dependencies=[Depends(strict_query("year"))],
    )
    async def get_scorecards(
        who: Caller, year: Year, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> dict[str, Any]:
        _supervisor(who)
        data = await year_data(rt.db, year, datetime.now(CHINA_TZ).date())
        return {"year": year, "units": scorecards(data)}

    @api.get(
        "/v1/reports/annual/{year}",
        summary="The draft annual report 法治政府建设年度报告 (HTML; Markdown with "
        "`format=md` or `Accept: text/markdown`)",
        description=f"Who reads it: {READ_SCOPE}. Drafted from the plan's progress, the year's "
        "items and its training records.",
        openapi_extra={"x-fazhi-read-scope": READ_SCOPE},
        response_class=HTMLResponse,
        responses=documented(supervisor=True, media=("text/html", "text/markdown")),
        dependencies=[Depends(strict_query("format"))],
    )
    async def annual_report(
        who: Caller,
        year: Annotated[int, Path(ge=2021, le=2100)],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        format: Annotated[Literal["html", "md"] | None, Query()] = None,
        accept: Annotated[str | None, Header()] = None,
    ) -> Response:
        _supervisor(who)
        data = await year_data(rt.db, year, datetime.now(CHINA_TZ).date())
        text = annual_markdown(data)
        if format == "md" or (format is None and "text/markdown" in (accept or "")):
            return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
        return HTMLResponse(report_page(text, f"碑林区{year}年法治政府建设年度报告"))

    return api
