"""Fields that can carry personal data are marked in the contracts, shown in the AsyncAPI
document, and have an erased form their model accepts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fazhi.bus.asyncapi import document
from fazhi.contracts import all_topics
from fazhi.contracts.envelope import new_event
from fazhi.contracts.models import ERASED_TEXT, personal_fields
from fazhi.store.sealing import DEVELOPMENT_MASTER_KEY, Keyring, MasterKey, MemoryDataKeys, seal
from tests.support.samples import SAMPLES, sample

MARKED = {
    "mediation.case.filed": {"applicant", "category", "summary"},
    "mediation.case.decided": {"decision", "document_text"},
    "mediation.decision.executed": {"note"},
    "opengov.request.received": {"applicant", "content"},
    "opengov.request.answered": {"reason"},
    "emergency.incident.reported": {"title", "location", "affected_persons"},
    "emergency.incident.closed": {"assessment"},
    "emergency.force.registered": {"contact"},
    "supervision.task.progress_reported": {"note"},
    "supervision.task.completed": {"evidence"},
}
CONTRACTS = {name: c for topic in all_topics() for name, c in topic.types.items()}


def test_applicants_and_raw_texts_about_people_are_marked_personal() -> None:
    for name, fields in MARKED.items():
        assert fields <= set(personal_fields(CONTRACTS[name].model)), name


def test_ids_units_and_times_are_never_marked() -> None:
    for name, contract in CONTRACTS.items():
        marked = set(personal_fields(contract.model))
        assert contract.aggregate not in marked, name
        assert not {f for f in marked if f.endswith(("_id", "_at", "unit"))}, name


@pytest.mark.parametrize("event_type", sorted(n for n in SAMPLES if n in CONTRACTS))
def test_every_personal_field_has_an_erased_form_its_model_accepts(event_type: str) -> None:
    model = CONTRACTS[event_type].model
    data: dict[str, Any] = sample(event_type, "A-1")
    for field, erased in personal_fields(model).items():
        data[field] = erased
    validated = model.model_validate(data)
    for field in personal_fields(model):
        assert ERASED_TEXT in str(getattr(validated, field)), field


async def test_the_asyncapi_document_shows_personal_fields_sealed() -> None:
    schemas = document()["components"]["schemas"]
    case_filed = schemas["CaseFiled"]["properties"]
    for name in ("applicant", "summary", "category"):
        assert case_filed[name]["x-personal"] is True
        assert case_filed[name]["allOf"] == [{"$ref": "#/components/schemas/Sealed"}]
    assert case_filed["applicant"]["x-plain"] == {
        "allOf": [{"$ref": "#/components/schemas/Applicant"}]
    }
    assert "x-personal" not in case_filed["case_id"]
    assert "x-personal" not in case_filed["respondent_unit"]
    keys = Keyring(MemoryDataKeys(), MasterKey(DEVELOPMENT_MASTER_KEY))
    key = (await keys.get(["cases:A-1"], create=True))["cases:A-1"]
    event = new_event(
        type="mediation.case.filed",
        source="/units/justice",
        subject="A-1",
        data=sample("mediation.case.filed", "A-1"),
    )
    sealed = seal(event, CONTRACTS["mediation.case.filed"].model, key)
    assert re.fullmatch(schemas["Sealed"]["pattern"], sealed.data["applicant"])
