"""The public transparency portal 政务公开: pages, search, feeds and the public JSON."""

from open_government.portal import api, views

__all__ = ["api", "views"]
