"""Public notices 权威信息发布 derived from actual orange and red alerts and from incidents
graded 较大 or above, for the portal."""

from emergency.notices import flows, views

__all__ = ["flows", "views"]
