"""Published documents 主动公开, redacted and searchable."""

from open_government.documents import flows, published_elsewhere, views

__all__ = ["flows", "published_elsewhere", "views"]
