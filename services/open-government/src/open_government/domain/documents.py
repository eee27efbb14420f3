"""The publication registry's rules: unified numbering of normative documents 行政规范性文件
(统一登记、统一编号), their reviews and validity, the clean-up schedule, and the proactive
publication deadline (政府信息公开条例 art. 26). Pure: dates are passed in."""

from __future__ import annotations

from datetime import date

from fazhi.contracts.opengov import Review, ReviewResult, Validity
from fazhi.rules import Clock, IllegalTransition, get_unit, start_clock

REVIEW_AFTER_YEARS = 5
"""A normative document without an end date is reviewed (清理) five years after it took effect,
the longest validity such documents usually get; one with an end date, in the year it ends."""

_PREFIXES = {"gov-office": "碑政规", "party-office": "碑办规"}


def number_prefix(unit: str) -> str:
    """The issuing unit's number prefix (发文字号): 碑政规 for the district government, else
    碑 + the first character of the unit's name after 区/市 (区司法局 → 碑司规)."""
    if unit in _PREFIXES:
        return _PREFIXES[unit]
    name = get_unit(unit).name.removeprefix("区").removeprefix("市")
    return f"碑{name[:1]}规"


def format_number(unit: str, year: int, seq: int) -> str:
    """碑政规〔2026〕1号: the unit's prefix, the year in 〔〕, the sequence number."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{number_prefix(unit)}〔{year}〕{seq}号"


def sequence_key(unit: str, year: int) -> str:
    """The id of the one sequence document that numbers `unit`'s documents of `year`."""
    return f"{unit}:{year}"


def review_year(effective_on: date, valid_until: date | None) -> int:
    """The year a normative document is due for its clean-up review."""
    if valid_until is not None:
        return valid_until.year
    return effective_on.year + REVIEW_AFTER_YEARS


def change_validity(current: Validity, new: Validity, *, document: str) -> Validity:
    """A repealed document (废止) stays repealed; the others may change."""
    if current is Validity.REPEALED:
        raise IllegalTransition(
            f"document {document!r}", current, f"become {new}", (), "废止 is final"
        )
    if current is new:
        raise IllegalTransition(
            f"document {document!r}", current, f"become {new}", (), f"already {new.label_zh}"
        )
    return new


def record_review(
    current: ReviewResult | None, review: Review, result: ReviewResult, *, document: str
) -> ReviewResult:
    """A review goes submitted → passed or failed; a decided review is not reopened, except a
    failed one submitted again after the document was corrected."""
    if current in (None, ReviewResult.FAILED) or (
        current is ReviewResult.SUBMITTED and result is not ReviewResult.SUBMITTED
    ):
        return result
    raise IllegalTransition(
        f"document {document!r} {review} review",
        current,
        f"become {result}",
        (),
        f"the {review.label_zh} is decided",
    )


def publication_clock(made_or_changed_on: date) -> Clock:
    """Art. 26: information in the proactive-disclosure scope is published within 20 working
    days of being made or changed; `clock.status(today, met_on=published_on)` says if it was."""
    return start_clock("publication.proactive", made_or_changed_on)
