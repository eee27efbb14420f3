"""Receipts through HTTP, against the running services: an event the domain refuses answers
202, then its receipt says `refused` with the domain's reason within 2 s; posted again,
corrected, with the same id, `applied`; posted once more, `duplicate`. Another unit's key gets
the answer of an unknown id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

MEDIATION = SERVICES["petition-mediation"]


def receipt_in(http: httpx.Client, event_id: str, state: str, **params: str) -> Any:
    def fetch() -> dict[str, Any] | None:
        response = http.get(f"/v1/events/{event_id}", params=params)
        body = response.json() if response.status_code == 200 else None
        return body if body is not None and body["state"] == state else None

    return fetch


def test_a_refused_event_is_refused_within_2s_and_applied_once_posted_again_corrected(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    case = f"R-{uuid.uuid4().hex[:10]}"
    now = datetime.now(CST).isoformat()
    filed = event(
        "mediation.case.filed",
        "justice",
        case,
        {
            "case_id": case,
            "case_type": "reconsideration",
            "category": "行政处罚",
            "applicant": {
                "name": "赵六",
                "id_number": "610103198503021234",
                "phone": "13991234567",
            },
            "respondent_unit": "market-regulation",
            "summary": "不服行政处罚决定",
            "filed_at": now,
        },
    )
    # 简易程序 without an art. 53 ground: the reconsideration machine refuses it.
    refused = event(
        "mediation.case.accepted",
        "justice",
        case,
        {"case_id": case, "accepted_at": now, "procedure": "simplified"},
    )
    with client_for(MEDIATION, keys["justice"]) as http:
        posted = http.post("/v1/events", **structured(filed))
        assert posted.status_code == 202, posted.text
        (placed,) = posted.json()["receipts"]
        assert (placed["id"], placed["state"], placed["topic"]) == (
            filed["id"],
            "accepted",
            MEDIATION.topic,
        )
        assert placed["offset"] >= 0
        applied = wait_until(
            receipt_in(http, filed["id"], "applied"), timeout=30, what="the filing applied"
        )
        assert applied["applied"]["aggregate"] == {"collection": "cases", "id": case}
        assert applied["applied"]["version"] == 1
        assert applied["accepted"]["offset"] == placed["offset"]

        assert http.post("/v1/events", **structured(refused)).status_code == 202
        got = wait_until(
            receipt_in(http, refused["id"], "refused"),
            timeout=2,
            interval=0.05,
            what="the refusal's receipt",
        )
        problem = got["problem"]
        assert problem["detail"] == "the simplified procedure, and only it, needs an art. 53 ground"
        assert problem["rule"] == "art. 53"
        assert problem["state"] == "acceptance_review"
        assert problem["status"] == 422
        assert problem["type"].endswith("/illegal-transition")

        corrected = {**refused, "data": {**refused["data"], "simplified_ground": "open_government"}}
        assert http.post("/v1/events", **structured(corrected)).status_code == 202
        done = wait_until(
            receipt_in(http, refused["id"], "applied"), timeout=30, what="the corrected event"
        )
        assert done["applied"]["aggregate"]["id"] == case
        assert done["applied"]["version"] == 2
        assert "problem" not in done

        assert http.post("/v1/events", **structured(corrected)).status_code == 202
        wait_until(receipt_in(http, refused["id"], "duplicate"), timeout=30, what="the duplicate")

    unknown = f"no-such-{uuid.uuid4().hex[:8]}"
    with client_for(MEDIATION, keys["emergency"]) as other:
        hidden = other.get(f"/v1/events/{refused['id']}")
        missing = other.get(f"/v1/events/{unknown}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"].replace(refused["id"], "X") == missing.json()[
            "detail"
        ].replace(unknown, "X")
        assert (
            other.get(
                f"/v1/events/{refused['id']}", params={"source": "/units/justice"}
            ).status_code
            == 404
        )  # only operators name another unit
    with client_for(MEDIATION, keys["operator"]) as operator:
        seen = operator.get(f"/v1/events/{refused['id']}", params={"source": "/units/justice"})
        assert seen.status_code == 200
        assert seen.json()["state"] == "duplicate"


def test_a_batch_answers_a_receipt_per_event(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    supervision = SERVICES["supervision"]
    events = [
        event(
            "supervision.task.progress_reported",
            "justice",
            "M18-T1",
            {
                "task_id": "M18-T1",
                "unit": "justice",
                "progress_pct": 10 + i,
                "note": "进展",
                "reported_at": datetime.now(CST).isoformat(),
            },
        )
        for i in range(3)
    ]
    with client_for(supervision, keys["justice"]) as http:
        response = http.post(
            "/v1/events",
            content=httpx.Request("POST", "/", json=events).content,
            headers={"content-type": "application/cloudevents-batch+json"},
        )
        assert response.status_code == 202, response.text
        receipts = response.json()["receipts"]
        assert [r["id"] for r in receipts] == [e["id"] for e in events]
        offsets = [r["offset"] for r in receipts]
        assert offsets == sorted(offsets)
        assert len(set(offsets)) == 3
        for e in events:
            wait_until(receipt_in(http, e["id"], "applied"), timeout=30, what="each applied")
