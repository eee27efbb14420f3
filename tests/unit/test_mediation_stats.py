"""The yearly statistics of cases: counts by type, category and unit, and the rate at which
the heads of units appeared in court."""

from __future__ import annotations

from fazhi.web.csvfile import csv_cell as _cell
from petition_mediation.cases.reports import year_stats


def test_statistics_count_received_closed_on_time_overdue_and_court_appearances() -> None:
    docs = [
        {
            "case_type": "litigation",
            "category": "处罚",
            "respondent_unit": "market-regulation",
            "final": True,
            "late": False,
            "hearings": 2,
            "head_appearances": 1,
        },
        {
            "case_type": "litigation",
            "category": "处罚",
            "respondent_unit": "market-regulation",
            "final": True,
            "late": True,
            "hearings": 1,
            "head_appearances": 1,
        },
        {
            "case_type": "petition",
            "category": "征收",
            "respondent_unit": "housing",
            "final": False,
            "late": True,
            "overdue": True,
        },
    ]
    stats = year_stats(docs)
    litigation = stats["by_type"]["litigation"]
    assert (litigation["received"], litigation["closed"], litigation["closed_on_time"]) == (2, 2, 1)
    assert litigation["court_appearance_rate"] == round(2 / 3, 4)
    assert stats["by_type"]["petition"]["overdue"] == 1
    assert stats["by_type"]["petition"]["court_appearance_rate"] is None
    assert stats["by_unit"]["housing"]["received"] == 1
    assert stats["by_category"]["处罚"]["hearings"] == 3


def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("行政处罚") == "行政处罚"
