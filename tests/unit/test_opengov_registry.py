"""The publication registry on the in-memory store: versions, numbers, reviews, validity, the
clean-up year and the proactive publication clock; and the domain rules behind them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.contracts.opengov import Review, ReviewResult, Validity
from fazhi.rules.statemachine import IllegalTransition
from open_government.domain.documents import (
    change_validity,
    format_number,
    record_review,
    review_year,
)
from open_government.portal.search import search
from open_government.search.index import SearchIndex
from open_government.store import DOCUMENT_HISTORY, DOCUMENT_VERSIONS, DOCUMENTS, NUMBERS
from open_government.worker import WORKER
from tests.support.harness import Harness

AT = datetime(2026, 3, 10, 10, 0, tzinfo=CHINA_TZ)


def published(doc_id: str, day: int = 10, **data: Any) -> CloudEvent:
    at = AT.replace(day=day)
    payload = {
        "document_id": doc_id,
        "doc_kind": "normative",
        "title": "碑林区行政规范性文件管理办法",
        "number": "碑政规〔2026〕1号",
        "issuing_unit": "gov-office",
        "body": "第一条 为规范行政规范性文件管理，联系人张三，电话13991234567。",
        "published_at": at.isoformat(),
        **data,
    }
    return new_event(
        type="opengov.document.published",
        source="/units/gov-office",
        subject=doc_id,
        time=at,
        data=payload,
    )


def _doc_event(kind: str, doc_id: str, data: dict[str, Any]) -> CloudEvent:
    return new_event(
        type=f"opengov.document.{kind}",
        source="/units/gov-office",
        subject=doc_id,
        time=AT,
        data={"document_id": doc_id, **data},
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


def test_numbers_are_formatted_per_unit_and_year() -> None:
    assert format_number("gov-office", 2026, 1) == "碑政规〔2026〕1号"
    assert format_number("justice", 2026, 12) == "碑司规〔2026〕12号"
    with pytest.raises(ValueError, match="start at 1"):
        format_number("justice", 2026, 0)


def test_a_document_is_reviewed_five_years_on_or_in_the_year_it_ends() -> None:
    assert review_year(date(2026, 3, 10), None) == 2031
    assert review_year(date(2026, 3, 10), date(2028, 3, 9)) == 2028


def test_a_repealed_document_stays_repealed() -> None:
    assert change_validity(Validity.EFFECTIVE, Validity.EXPIRED, document="D") is Validity.EXPIRED
    with pytest.raises(IllegalTransition, match="废止 is final"):
        change_validity(Validity.REPEALED, Validity.EFFECTIVE, document="D")


def test_a_decided_review_is_not_reopened_unless_it_failed() -> None:
    passed = record_review(
        ReviewResult.SUBMITTED, Review.LEGALITY, ReviewResult.PASSED, document="D"
    )
    assert passed is ReviewResult.PASSED
    assert record_review(ReviewResult.FAILED, Review.FILING, ReviewResult.SUBMITTED, document="D")
    with pytest.raises(IllegalTransition):
        record_review(ReviewResult.PASSED, Review.LEGALITY, ReviewResult.FAILED, document="D")


async def test_an_amendment_is_a_new_version_and_the_old_one_stays_readable(h: Harness) -> None:
    amended = published(
        "D1", day=20, title="碑林区行政规范性文件管理办法（修订）", version_note="修订第三条"
    )
    assert await h.run(published("D1"), amended) == [Outcome.APPLIED] * 2
    doc = h.doc(DOCUMENTS, "D1")
    assert (doc["version"], doc["title"]) == (2, "碑林区行政规范性文件管理办法（修订）")
    versions = sorted(h.rows(DOCUMENT_VERSIONS, document_id="D1"), key=lambda r: r["version"])
    assert [v["title"] for v in versions] == [
        "碑林区行政规范性文件管理办法",
        "碑林区行政规范性文件管理办法（修订）",
    ]
    assert versions[1]["version_note"] == "修订第三条"


async def test_published_text_is_redacted_and_indexed(h: Harness) -> None:
    await h.run(published("D1"))
    doc = h.doc(DOCUMENTS, "D1")
    assert "13991234567" not in doc["body"]
    assert "tokens" not in doc  # the api's search index reads the stored text instead
    index = SearchIndex(None)
    index.put([doc])
    index.commit()
    assert [hit.doc["_id"] for hit in search(index, "管理").hits] == ["D1"]
    assert search(index, "13991234567").total == 0
    assert (doc["year"], doc["month"], doc["review_year"]) == (2026, "2026-03", 2031)
    assert doc["validity"] == "effective"
    assert doc["registered"] is False


async def test_a_number_the_registry_issued_to_another_number_is_refused(h: Harness) -> None:
    h.store.table(NUMBERS)["D1"] = {"_id": "D1", "number": "碑政规〔2026〕2号"}
    h.store.table(NUMBERS)["D2"] = {"_id": "D2", "number": "碑政规〔2026〕1号"}
    outcomes = await h.run(published("D1"), published("D2"))
    assert outcomes == [Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert h.doc(DOCUMENTS, "D2")["registered"] is True


async def test_the_proactive_publication_clock_says_whether_it_was_on_time(h: Harness) -> None:
    # Made Monday 2026-01-05: its 20 working days end on 2026-02-02, long before 03-10.
    late = published("D1", day=10, made_on="2026-01-05")
    await h.run(late, published("D2", made_on="2026-03-02"))
    assert h.doc(DOCUMENTS, "D1")["published_on_time"] is False
    assert h.doc(DOCUMENTS, "D1")["publication_due"] == "2026-02-02"
    assert h.doc(DOCUMENTS, "D2")["published_on_time"] is True


async def test_reviews_and_validity_are_recorded_with_their_history(h: Harness) -> None:
    events = [
        published("D1"),
        _doc_event(
            "reviewed",
            "D1",
            {"review": "filing", "result": "submitted", "reviewed_at": AT.isoformat()},
        ),
        _doc_event(
            "reviewed",
            "D1",
            {"review": "filing", "result": "passed", "reviewed_at": AT.isoformat()},
        ),
        _doc_event(
            "validity_changed",
            "D1",
            {"validity": "repealed", "changed_at": AT.isoformat(), "reason": "被新办法代替"},
        ),
        _doc_event(
            "validity_changed", "D1", {"validity": "effective", "changed_at": AT.isoformat()}
        ),
        published("D1", day=21),
    ]
    outcomes = await h.run(*events)
    assert outcomes == [Outcome.APPLIED] * 4 + [Outcome.DEAD_LETTERED] * 2
    doc = h.doc(DOCUMENTS, "D1")
    assert (doc["filing_review"], doc["validity"], doc["version"]) == ("passed", "repealed", 1)
    assert len(h.rows(DOCUMENT_HISTORY, document_id="D1")) == 3


async def test_reconsideration_decisions_and_emergency_notices_are_published(h: Harness) -> None:
    decided = new_event(
        type="mediation.decision.published",
        source="/units/justice",
        subject="C-1",
        time=AT,
        data={
            "case_id": "C-1",
            "case_type": "reconsideration",
            "category": "行政处罚",
            "outcome": "revoked",
            "respondent_unit": "market-regulation",
            "decided_at": AT.isoformat(),
            "title": "行政复议决定书（碑政复决〔2026〕3号）",
            "text": "申请人王某，身份证号610103198503021234，电话13991234567。本机关决定撤销。",
        },
    )
    notice = {
        "notice_id": "N-1",
        "source_kind": "alert",
        "source_id": "A-1",
        "unit": "emergency-management",
        "title": "暴雨红色预警",
        "body": "未来3小时将出现100毫米以上降水",
        "level": "red",
        "area": "碑林区",
        "published_at": AT.isoformat(),
    }
    issued, withdrawn = (
        new_event(
            type="emergency.notice.published",
            source="/units/emergency-management",
            subject="N-1",
            time=AT,
            data={**notice, "state": state},
        )
        for state in ("active", "withdrawn")
    )
    assert await h.run(decided, issued, withdrawn) == [Outcome.APPLIED] * 3
    decision = h.doc(DOCUMENTS, "RD-C-1")
    assert decision["doc_kind"] == "reconsideration"
    assert "610103198503021234" not in decision["body"]
    assert "13991234567" not in decision["body"]
    assert decision["owner_units"] == []
    notice_doc = h.doc(DOCUMENTS, "EN-N-1")
    assert (notice_doc["notice_state"], notice_doc["version"]) == ("withdrawn", 2)
    # A department cannot post over them.
    assert await h.run(published("RD-C-1")) == [Outcome.DEAD_LETTERED]
