"""The HTTP side of a service: the app, ingest of CloudEvents, keys and scopes, problems,
lists and pages, live feeds, the holiday-schedule routes.

What services use is exported here, imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Scope": "app",
    "Timeline": "app",
    "create_service_app": "app",
    "document_router": "app",
    "Principal": "auth",
    "read_json_body": "body",
    "calendar_cache": "calendar",
    "work_calendar": "calendar",
    "BOM": "csvfile",
    "csv_response": "csvfile",
    "csv_row": "csvfile",
    "checked_as_is": "ingest",
    "seal_personal": "ingest",
    "Listing": "lists",
    "KafkaFeed": "live",
    "MAX_TOKEN_LENGTH": "live",
    "Position": "live",
    "sse_response": "live",
    "websocket_relay": "live",
    "Pages": "pages",
    "static_router": "pages",
    "PageParams": "pagination",
    "PageQuery": "pagination",
    "decode_cursor": "pagination",
    "encode_cursor": "pagination",
    "fetch_page": "pagination",
    "Problem": "problems",
    "invalid_fields": "problems",
    "Caller": "service",
    "ServiceRuntime": "service",
    "runtime": "service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fazhi.web' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fazhi.web.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from fazhi.web.app import Scope as Scope
    from fazhi.web.app import Timeline as Timeline
    from fazhi.web.app import create_service_app as create_service_app
    from fazhi.web.app import document_router as document_router
    from fazhi.web.auth import Principal as Principal
    from fazhi.web.body import read_json_body as read_json_body
    from fazhi.web.calendar import calendar_cache as calendar_cache
    from fazhi.web.calendar import work_calendar as work_calendar
    from fazhi.web.csvfile import BOM as BOM
    from fazhi.web.csvfile import csv_response as csv_response
    from fazhi.web.csvfile import csv_row as csv_row
    from fazhi.web.ingest import checked_as_is as checked_as_is
    from fazhi.web.ingest import seal_personal as seal_personal
    from fazhi.web.lists import Listing as Listing
    from fazhi.web.live import MAX_TOKEN_LENGTH as MAX_TOKEN_LENGTH
    from fazhi.web.live import KafkaFeed as KafkaFeed
    from fazhi.web.live import Position as Position
    from fazhi.web.live import sse_response as sse_response
    from fazhi.web.live import websocket_relay as websocket_relay
    from fazhi.web.pages import Pages as Pages
    from fazhi.web.pages import static_router as static_router
    from fazhi.web.pagination import PageParams as PageParams
    from fazhi.web.pagination import PageQuery as PageQuery
    from fazhi.web.pagination import decode_cursor as decode_cursor
    from fazhi.web.pagination import encode_cursor as encode_cursor
    from fazhi.web.pagination import fetch_page as fetch_page
    from fazhi.web.problems import Problem as Problem
    from fazhi.web.problems import invalid_fields as invalid_fields
    from fazhi.web.service import Caller as Caller
    from fazhi.web.service import ServiceRuntime as ServiceRuntime
    from fazhi.web.service import runtime as runtime
