"""CSV files for spreadsheet programs: UTF-8 with a byte order mark (so they read the Chinese),
CRLF rows, and no cell a spreadsheet would run as a formula.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a
leading `'`, which spreadsheet programs take as "this is text" (OWASP, CSV injection): a title
a department typed, such as `=HYPERLINK("http://x.example","点击")`, stays words."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from fastapi.responses import StreamingResponse

BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Rows = Iterable[Iterable[Any]] | AsyncIterable[Iterable[Any]]


def csv_cell(value: Any) -> str:
    """A value as one cell: empty for None, 是/否 for a boolean, ISO 8601 for a date or time,
    a list's values separated by spaces; text that could start a formula is guarded."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number's text is never a formula ("-3" is minus three)
    text = _text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return str(value)


def csv_row(values: Iterable[Any]) -> str:
    """One row, each value a `csv_cell`, ended by CRLF."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([csv_cell(v) for v in values])
    return out.getvalue()


async def csv_lines(header: Sequence[str], rows: Rows) -> AsyncIterator[str]:
    """The file as it is sent: the byte order mark and the header, then each row."""
    yield BOM + csv_row(header)
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield csv_row(row)
    else:
        for row in rows:
            yield csv_row(row)


def csv_response(header: Sequence[str], rows: Rows, *, filename: str) -> StreamingResponse:
    """A CSV download, streamed row by row (`filename`: ASCII, no quote)."""
    return StreamingResponse(
        csv_lines(header, rows),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
