"""The public surface of `fazhi` is explicit and stable."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fazhi

PUBLIC_API = [
    "Applicant", "Binding", "DayScan", "Timer", "TimerContext", "derived_event", "merge_reactions", "type_of", "CalendarCache", "CloudEvent", "Clock", "ClockError", "ClockStatus", "DeadLetter", "EnvelopeError",
    "EnvelopeFieldsError", "EventCatalog", "EventProcessor", "EventType", "FakePublisher", "Handler",
    "HandlerContext", "IllegalTransition", "KafkaPublisher", "KeyStore", "MemoryStore", "MongoStore", "Outcome", "Party", "Payload",
    "PoisonError", "Principal", "Problem", "PublishError", "Publisher", "RULES", "Record", "Role", "Rule",
    "Scope", "ServiceSettings", "Store", "Term", "Timeline", "Unit", "UnitCode", "UnknownUnitError", "WorkCalendar", "WorkerEntry", "all_groups", "all_units",
    "configure_logging", "contains_personal_data", "create_service_app",
    "create_worker_app", "default_calendar", "derived_id", "document_router", "find_unit", "from_kafka",
    "get_unit", "is_unit_code", "load_calendar", "mask_for_log", "new_event", "parse_http",
    "redact", "resolve", "run_worker", "service_metrics", "start_clock",
]  # fmt: skip


def test_public_api_is_pinned() -> None:
    assert sorted(fazhi.__all__) == sorted(PUBLIC_API)


@pytest.mark.parametrize("name", PUBLIC_API)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(fazhi, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = fazhi.nope  # type: ignore[attr-defined]


def test_pure_rules_load_without_kafka_or_web_code() -> None:
    code = "import sys, fazhi; fazhi.start_clock; fazhi.redact; print(sorted(m for m in ('faust', 'aiokafka', 'fastapi') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("package", ["fazhi.rules", "fazhi.store", "fazhi.bus", "fazhi.web"])
def test_each_layer_exports_what_services_import_and_no_name_is_a_module(package: str) -> None:
    import importlib
    import types

    layer = importlib.import_module(package)
    for name in layer.__all__:
        importlib.import_module(f"{package}.{layer._EXPORTS[name]}")  # its submodules loaded
        value = getattr(layer, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
