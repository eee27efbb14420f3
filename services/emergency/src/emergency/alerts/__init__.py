"""Alerts 预警 on CAP semantics, and their acknowledgements by staff."""

from emergency.alerts import flows, live, timers, views

__all__ = ["flows", "live", "timers", "views"]
