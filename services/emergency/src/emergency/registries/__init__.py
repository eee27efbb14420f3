"""Registries of measures 十三 and 十五: emergency plans 应急预案 with revision reminders,
supplies 应急物资 against their minimums, social emergency forces 社会应急力量."""

from emergency.registries import flows, timers, views

__all__ = ["flows", "timers", "views"]
