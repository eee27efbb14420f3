"""One CSV writer (`fazhi.web.csvfile`): spreadsheet programs read the file's Chinese, and no
cell a department typed is run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import httpx
import pytest

from fazhi.bus.publisher import FakePublisher
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.web.csvfile import BOM, csv_cell, csv_lines, csv_row
from supervision.api import create_app as supervision_app
from tests.support.fakestore import FakeCollection, FakeDatabase, fake_runtime

HYPERLINK = '=HYPERLINK("http://x.example","点击")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("整改完成", "整改完成"),
        (["=cmd", "x"], "'=cmd x"),
        (-3, "-3"),
        (2.5, "2.5"),
        (True, "是"),
        (False, "否"),
        (None, ""),
        (date(2026, 7, 1), "2026-07-01"),
        (datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ), "2026-07-01T09:00:00+08:00"),
    ],
)
def test_a_cell_that_could_start_a_formula_is_written_as_text(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_rows_are_quoted_and_end_with_crlf() -> None:
    assert csv_row(["a,b", 'say "hi"', 1]) == '"a,b","say ""hi""",1\r\n'


async def test_the_file_starts_with_a_byte_order_mark_and_its_header() -> None:
    lines = [line async for line in csv_lines(["id", "title"], [["F1", "=1+1"]])]
    assert lines == [BOM + "id,title\r\n", "F1,'=1+1\r\n"]


async def test_a_finding_titled_as_a_formula_comes_out_of_the_items_csv_as_text() -> None:
    db = FakeDatabase()
    db["items"] = FakeCollection(
        [
            {
                "_id": "finding-F1",
                "kind": "inspection_finding",
                "unit": "urban-management",
                "level": "orange",
                "status": "open",
                "title": HYPERLINK,
                "opened_at": datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ),
                "opened_year": 2026,
                "source_event_ids": ["e-1"],
                "owner_units": ["urban-management"],
            }
        ]
    )
    app = supervision_app(publisher=FakePublisher())
    app.state.runtime = fake_runtime(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get(
            "/v1/items.csv",
            params={"kind": "inspection_finding"},
            headers={"authorization": "Bearer supervisor"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="items.csv"'
    assert response.text.startswith(BOM + "item_id,kind,unit,")
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix(BOM))))
    assert len(rows) == 1
    assert rows[0]["title"] == "'" + HYPERLINK  # text to a spreadsheet, not a formula
    assert rows[0]["item_id"] == "finding-F1"
    assert rows[0]["opened_at"] == "2026-07-01T09:00:00+08:00"
    assert rows[0]["source_event_ids"] == "e-1"
