"""Plan tasks: the plan's measures and milestones as their units report on them."""

from supervision.tasks import flows, views

__all__ = ["flows", "views"]
