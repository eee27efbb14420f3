"""Fazhi's shared library: the event envelope and backbone, auth, units, clocks, redaction, search.

Names are imported on first use, so a pure rule (a clock, a redaction) loads no Kafka or web code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # the event envelope and its catalogue
    "CloudEvent": "envelope",
    "EnvelopeError": "envelope",
    "EnvelopeFieldsError": "envelope",
    "new_event": "envelope",
    "derived_id": "envelope",
    "parse_http": "envelope",
    "from_kafka": "envelope",
    "EventCatalog": "catalog",
    "EventType": "catalog",
    "Binding": "catalog",
    "Term": "contracts.terms",
    "Payload": "models",
    "Applicant": "models",
    "UnitCode": "models",
    # publishing and consuming
    "Publisher": "publisher",
    "KafkaPublisher": "publisher",
    "FakePublisher": "publisher",
    "PublishError": "publisher",
    "EventProcessor": "consumer",
    "HandlerContext": "consumer",
    "Handler": "consumer",
    "Record": "consumer",
    "DeadLetter": "consumer",
    "Outcome": "consumer",
    "PoisonError": "consumer",
    "Store": "projection",
    "MongoStore": "projection",
    "MemoryStore": "projection",
    "create_worker_app": "worker",
    "run_worker": "worker",
    "WorkerEntry": "worker",
    # http
    "create_service_app": "app",
    "document_router": "app",
    "Scope": "app",
    "Timeline": "app",
    "Problem": "problems",
    "KeyStore": "auth",
    "Principal": "auth",
    "Role": "roles",
    "ServiceSettings": "settings",
    "configure_logging": "logs",
    "service_metrics": "metrics",
    # the plan's units
    "Unit": "units",
    "UnknownUnitError": "units",
    "all_units": "units",
    "all_groups": "units",
    "get_unit": "units",
    "find_unit": "units",
    "resolve": "units",
    "is_unit_code": "units",
    # statutory clocks
    "WorkCalendar": "workdays",
    "default_calendar": "workdays",
    "RULES": "clocks",
    "Rule": "clocks",
    "Clock": "clocks",
    "ClockError": "clocks",
    "ClockStatus": "clocks",
    "start_clock": "clocks",
    "CalendarCache": "calendarstore",
    "load_calendar": "calendarstore",
    # personal data
    "Party": "redaction",
    "redact": "redaction",
    "contains_personal_data": "redaction",
    "mask_for_log": "redaction",
    "IllegalTransition": "statemachine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fazhi' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fazhi.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from fazhi.app import Scope, Timeline, create_service_app, document_router
    from fazhi.auth import KeyStore, Principal
    from fazhi.calendarstore import CalendarCache, load_calendar
    from fazhi.catalog import Binding, EventCatalog, EventType
    from fazhi.clocks import RULES, Clock, ClockError, ClockStatus, Rule, start_clock
    from fazhi.consumer import (
        DeadLetter,
        EventProcessor,
        Handler,
        HandlerContext,
        Outcome,
        PoisonError,
        Record,
    )
    from fazhi.contracts.terms import Term
    from fazhi.envelope import (
        CloudEvent,
        EnvelopeError,
        EnvelopeFieldsError,
        derived_id,
        from_kafka,
        new_event,
        parse_http,
    )
    from fazhi.logs import configure_logging
    from fazhi.metrics import service_metrics
    from fazhi.models import Applicant, Payload, UnitCode
    from fazhi.problems import Problem
    from fazhi.projection import MemoryStore, MongoStore, Store
    from fazhi.publisher import FakePublisher, KafkaPublisher, Publisher, PublishError
    from fazhi.redaction import Party, contains_personal_data, mask_for_log, redact
    from fazhi.roles import Role
    from fazhi.settings import ServiceSettings
    from fazhi.statemachine import IllegalTransition
    from fazhi.units import (
        Unit,
        UnknownUnitError,
        all_groups,
        all_units,
        find_unit,
        get_unit,
        is_unit_code,
        resolve,
    )
    from fazhi.workdays import WorkCalendar, default_calendar
    from fazhi.worker import WorkerEntry, create_worker_app, run_worker
