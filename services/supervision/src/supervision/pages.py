"""Supervision's pages (`templates/`, `static/`): the dashboard, its panel, the annual report."""

from __future__ import annotations

from fazhi.web import Pages

PAGES = Pages("supervision")
