"""What the cases are exported as: CSV (`fazhi.web.csvfile`: a spreadsheet runs no formula from
it) and the yearly statistics by type, category and unit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

from fastapi.responses import StreamingResponse

from fazhi.web import BOM, csv_row
from fazhi.web import csv_response as csv_file

CSV_COLUMNS = (
    "case_id",
    "case_type",
    "category",
    "unit",
    "respondent_unit",
    "status",
    "filed_at",
    "overdue",
    "late",
    "clocks",
)


def csv_response(items: AsyncIterator[dict[str, Any]], filename: str) -> StreamingResponse:
    async def rows() -> AsyncIterator[list[Any]]:
        async for item in items:
            clocks = "; ".join(
                f"{c['name']} {c['due_date']} {c['status']}" for c in item.get("clocks", [])
            )
            yield [*(item.get(name, "") for name in CSV_COLUMNS[:-1]), clocks]

    return csv_file(CSV_COLUMNS, rows(), filename=filename)


def year_stats(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts by case type, category and (respondent) unit."""
    tables: dict[str, dict[str, dict[str, int]]] = {
        "by_type": defaultdict(_zero),
        "by_category": defaultdict(_zero),
        "by_unit": defaultdict(_zero),
    }
    for doc in docs:
        keys = {
            "by_type": str(doc.get("case_type")),
            "by_category": str(doc.get("category")),
            "by_unit": str(doc.get("respondent_unit")),
        }
        for table, key in keys.items():
            row = tables[table][key]
            row["received"] += 1
            row["closed"] += int(bool(doc.get("final")))
            row["closed_on_time"] += int(bool(doc.get("final")) and not doc.get("late"))
            row["overdue"] += int(bool(doc.get("overdue")))
            row["hearings"] += int(doc.get("hearings", 0))
            row["head_appearances"] += int(doc.get("head_appearances", 0))
    return {
        name: {key: _with_rate(row) for key, row in sorted(table.items())}
        for name, table in tables.items()
    }


def _zero() -> dict[str, int]:
    return dict.fromkeys(
        ("received", "closed", "closed_on_time", "overdue", "hearings", "head_appearances"), 0
    )


def _with_rate(row: dict[str, int]) -> dict[str, Any]:
    hearings = row["hearings"]
    rate = round(row["head_appearances"] / hearings, 4) if hearings else None
    return {**row, "court_appearance_rate": rate}


def stats_csv(body: dict[str, Any]) -> str:
    columns = (
        "received",
        "closed",
        "closed_on_time",
        "overdue",
        "hearings",
        "head_appearances",
        "court_appearance_rate",
    )
    lines = [BOM + csv_row(("year", "by", "key", *columns))]
    for table in ("by_type", "by_category", "by_unit"):
        for key, row in body[table].items():
            values = ["" if row[c] is None else row[c] for c in columns]
            lines.append(csv_row((body["year"], table.removeprefix("by_"), key, *values)))
    return "".join(lines)
