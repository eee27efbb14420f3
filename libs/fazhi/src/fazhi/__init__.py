"""Fazhi's shared library: the event envelope and backbone, auth, units, clocks, redaction, search.

Names are imported on first use, so a pure rule (a clock, a redaction) loads no Kafka or web code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # the event envelope and its catalogue
    "CloudEvent": "contracts.envelope",
    "EnvelopeError": "contracts.envelope",
    "EnvelopeFieldsError": "contracts.envelope",
    "new_event": "contracts.envelope",
    "derived_id": "contracts.envelope",
    "derived_event": "contracts",
    "type_of": "contracts",
    "parse_http": "web.cloudevents",
    "from_kafka": "contracts.envelope",
    "EventCatalog": "store.catalog",
    "EventType": "store.catalog",
    "Binding": "store.catalog",
    "Term": "contracts.terms",
    "Payload": "contracts.models",
    "Applicant": "contracts.models",
    "UnitCode": "contracts.models",
    # publishing and consuming
    "Publisher": "bus.publisher",
    "KafkaPublisher": "bus.publisher",
    "FakePublisher": "bus.publisher",
    "PublishError": "bus.publisher",
    "EventProcessor": "bus.consumer",
    "HandlerContext": "bus.batch",
    "Handler": "bus.batch",
    "Record": "bus.records",
    "DeadLetter": "bus.records",
    "Outcome": "bus.records",
    "PoisonError": "bus.records",
    "Store": "store.projection",
    "MongoStore": "store.projection",
    "MemoryStore": "store.projection",
    "create_worker_app": "bus.worker",
    "run_worker": "bus.worker",
    "WorkerEntry": "bus.worker",
    "Timer": "bus.timers",
    "DayScan": "bus.timers",
    "TimerContext": "bus.timers",
    "merge_reactions": "bus.reactions",
    # http
    "create_service_app": "web.app",
    "document_router": "web.app",
    "Scope": "web.app",
    "Timeline": "web.app",
    "Problem": "web.problems",
    "KeyStore": "web.auth",
    "Principal": "web.auth",
    "Role": "roles",
    "ServiceSettings": "settings",
    "configure_logging": "logs",
    "service_metrics": "metrics",
    # the plan's units
    "Unit": "rules.units",
    "UnknownUnitError": "rules.units",
    "all_units": "rules.units",
    "all_groups": "rules.units",
    "get_unit": "rules.units",
    "find_unit": "rules.units",
    "resolve": "rules.units",
    "is_unit_code": "rules.units",
    # statutory clocks
    "WorkCalendar": "rules.workdays",
    "default_calendar": "rules.workdays",
    "RULES": "rules.statutes",
    "Rule": "rules.statutes",
    "Clock": "rules.clocks",
    "ClockError": "rules.statutes",
    "ClockStatus": "rules.clocks",
    "start_clock": "rules.clocks",
    "CalendarCache": "store.calendar",
    "load_calendar": "store.calendar",
    # personal data
    "Party": "rules.redaction",
    "redact": "rules.redaction",
    "contains_personal_data": "rules.redaction",
    "mask_for_log": "rules.redaction",
    "IllegalTransition": "rules.statemachine",
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
    from fazhi.bus.batch import Handler, HandlerContext
    from fazhi.bus.consumer import EventProcessor
    from fazhi.bus.publisher import FakePublisher, KafkaPublisher, Publisher, PublishError
    from fazhi.bus.reactions import merge_reactions
    from fazhi.bus.records import DeadLetter, Outcome, PoisonError, Record
    from fazhi.bus.timers import DayScan, Timer, TimerContext
    from fazhi.bus.worker import WorkerEntry, create_worker_app, run_worker
    from fazhi.contracts import derived_event, type_of
    from fazhi.contracts.envelope import (
        CloudEvent,
        EnvelopeError,
        EnvelopeFieldsError,
        derived_id,
        from_kafka,
        new_event,
    )
    from fazhi.contracts.models import Applicant, Payload, UnitCode
    from fazhi.contracts.terms import Term
    from fazhi.logs import configure_logging
    from fazhi.metrics import service_metrics
    from fazhi.roles import Role
    from fazhi.rules.statemachine import IllegalTransition
    from fazhi.rules.units import (
        Unit,
        UnknownUnitError,
        all_groups,
        all_units,
        find_unit,
        get_unit,
        is_unit_code,
        resolve,
    )
    from fazhi.rules.workdays import WorkCalendar, default_calendar
    from fazhi.settings import ServiceSettings
    from fazhi.store.calendar import CalendarCache, load_calendar
    from fazhi.store.catalog import Binding, EventCatalog, EventType
    from fazhi.store.projection import MemoryStore, MongoStore, Store
    from fazhi.web.app import Scope, Timeline, create_service_app, document_router
    from fazhi.web.auth import KeyStore, Principal
    from fazhi.web.cloudevents import parse_http
    from fazhi.web.problems import Problem
