"""The domain's pure rules: statutory clocks on the working-day calendar, state machines,
redaction of personal data, the units of the plan. No I/O.

What services use is exported here, imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Clock": "clocks",
    "ClockStatus": "clocks",
    "REMINDER_DAYS": "clocks",
    "start_clock": "clocks",
    "Party": "redaction",
    "redact": "redaction",
    "IllegalTransition": "statemachine",
    "Machine": "statemachine",
    "Step": "statemachine",
    "action_name": "statemachine",
    "ClockError": "statutes",
    "get_rule": "statutes",
    "UnknownUnitError": "units",
    "all_units": "units",
    "find_unit": "units",
    "get_unit": "units",
    "is_unit_code": "units",
    "WorkCalendar": "workdays",
    "default_calendar": "workdays",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fazhi.rules' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fazhi.rules.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from fazhi.rules.clocks import REMINDER_DAYS as REMINDER_DAYS
    from fazhi.rules.clocks import Clock as Clock
    from fazhi.rules.clocks import ClockStatus as ClockStatus
    from fazhi.rules.clocks import start_clock as start_clock
    from fazhi.rules.redaction import Party as Party
    from fazhi.rules.redaction import redact as redact
    from fazhi.rules.statemachine import IllegalTransition as IllegalTransition
    from fazhi.rules.statemachine import Machine as Machine
    from fazhi.rules.statemachine import Step as Step
    from fazhi.rules.statemachine import action_name as action_name
    from fazhi.rules.statutes import ClockError as ClockError
    from fazhi.rules.statutes import get_rule as get_rule
    from fazhi.rules.units import UnknownUnitError as UnknownUnitError
    from fazhi.rules.units import all_units as all_units
    from fazhi.rules.units import find_unit as find_unit
    from fazhi.rules.units import get_unit as get_unit
    from fazhi.rules.units import is_unit_code as is_unit_code
    from fazhi.rules.workdays import WorkCalendar as WorkCalendar
    from fazhi.rules.workdays import default_calendar as default_calendar
