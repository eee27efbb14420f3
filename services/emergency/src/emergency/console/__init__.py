"""The staff console `/console`: live alerts by level with acknowledgement, the incident board."""

from emergency.console import views

__all__ = ["views"]
