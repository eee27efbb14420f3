"""Alerts 预警 on CAP semantics, and their acknowledgements by staff."""

from emergency.alerts import flows, timers, views

__all__ = ["flows", "timers", "views"]
