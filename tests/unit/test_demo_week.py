"""The week `make demo` posts (scripts/demo.py), built without a server: every event is a valid
CloudEvent of its contract, posted by the unit it is about with a key the demo file holds, its
id the same on every run, and the story the README's tour tells is in it."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fazhi.cli import ROLE_KEYS
from fazhi.contracts import contract_of
from fazhi.contracts.envelope import CHINA_TZ, parse_event

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=CHINA_TZ)


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("demo")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def _numbers(document_id: str, unit: str, year: int) -> str:
    return f"碑X规〔{year}〕{document_id[-1]}号"


def _events(demo: ModuleType, now: datetime = NOW) -> list[dict[str, Any]]:
    return [step.cloudevent() for step in demo.week(now, _numbers)]


def test_every_event_is_valid_and_its_id_the_same_on_every_run(demo: ModuleType) -> None:
    events = _events(demo)
    for step in demo.week(NOW, _numbers):
        posted = json.loads(json.dumps(step.cloudevent(), ensure_ascii=False))
        parsed = parse_event(posted)
        model = type(step.data)
        again = model.model_validate_json(json.dumps(posted["data"]))
        assert parsed.type == contract_of(model).name
        assert parsed.subject == str(getattr(again, contract_of(model).aggregate))
        assert not contract_of(model).derived
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert [e["id"] for e in _events(demo, NOW + timedelta(hours=5))] == ids
    times = [datetime.fromisoformat(e["time"]) for e in events]
    assert times == sorted(times)
    assert NOW - timedelta(days=7) <= times[0]
    assert times[-1] <= NOW


def test_each_event_is_posted_with_a_key_of_its_unit(demo: ModuleType) -> None:
    roles = {str(role): unit for role, unit in ROLE_KEYS.items()}
    for step in demo.week(NOW, _numbers):
        assert step.cloudevent()["source"] == f"/units/{step.unit}"
        # The api refuses an event whose data names another unit than the key's (403).
        assert getattr(step.data, "unit", step.unit) == step.unit, step.name
        if step.role != "department":
            assert roles[step.role] == step.unit, step.name


def test_the_week_tells_the_story_of_the_tour(demo: ModuleType) -> None:
    events = _events(demo)

    def of(kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in events if e["type"] == kind]

    rain = [a for a in of("emergency.alert.issued") if a["alert_id"].startswith("BL-ALERT-RAIN")]
    assert [(a["msg_type"], a["level"]) for a in rain] == [
        ("alert", "orange"),
        ("update", "red"),
        ("cancel", "red"),
    ]
    in_force = [a for a in of("emergency.alert.issued") if a not in rain]
    assert any(a["level"] == "red" for a in in_force)
    assert {r["level"] for r in of("emergency.response.level_changed")} >= {"III", "IV"}
    assert {c["case_type"] for c in of("mediation.case.filed")} == {
        "petition",
        "mediation",
        "reconsideration",
    }
    assert of("mediation.decision.executed")
    assert of("opengov.request.correction_requested")
    assert of("opengov.request.extended")
    published = of("opengov.document.published")
    normative = [d for d in published if d["doc_kind"] == "normative"]
    assert all(d.get("number") for d in normative)
    assert any(d.get("version_note") for d in normative)  # an amendment
    assert [v["validity"] for v in of("opengov.document.validity_changed")] == ["repealed"]
    adopted = {d["decision_id"] for d in of("opengov.decision.adopted")}
    steps = {(s["decision_id"], s["step"]) for s in of("opengov.decision.step_recorded")}
    for decision in adopted:
        assert {step for d, step in steps if d == decision} >= {
            "public_comment",
            "legality_review",
            "collective_discussion",
        }
    assert of("supervision.task.completed")
    assert of("supervision.task.progress_reported")
    # One rectification accepted, one left for the supervisor's dashboard (待验收).
    rectified = {r["item_id"] for r in of("supervision.item.rectified")}
    accepted = {a["item_id"] for a in of("supervision.item.accepted")}
    assert accepted < rectified
    assert len(rectified - accepted) == 1
