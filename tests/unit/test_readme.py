"""The README's worked deadline example is what the code computes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fazhi.clocks import readme_example, start_clock

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_deadline_example_matches_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## How deadlines are computed", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert block.rstrip("\n") == readme_example().rstrip("\n")
    assert (
        readme_example() == start_clock("disclosure.reply", date(2026, 9, 25)).explain().to_text()
    )


def test_readme_shows_both_commands_and_why_not_motor() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text
    assert "2026-05-14" in text
