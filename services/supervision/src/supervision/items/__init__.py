"""Supervision items 督办事项: opened on what is overdue or alarming, escalated 督办 → 约谈 → 通报."""

from supervision.items import flows, triggers, views

__all__ = ["flows", "triggers", "views"]
