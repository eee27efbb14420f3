"""Disclosure requests 依申请公开 on their statutory reply clock."""

from open_government.requests import flows, views

__all__ = ["flows", "views"]
