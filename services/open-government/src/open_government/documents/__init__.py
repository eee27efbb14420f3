"""Published documents 主动公开, redacted and searchable."""

from open_government.documents import flows, views

__all__ = ["flows", "views"]
