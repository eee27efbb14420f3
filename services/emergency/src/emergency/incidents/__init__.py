"""Incidents 突发事件: grade, response levels I-IV, lifecycle."""

from emergency.incidents import flows, timers, views

__all__ = ["flows", "timers", "views"]
