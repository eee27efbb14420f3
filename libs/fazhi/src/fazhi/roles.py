"""The roles an API key carries; the event contracts name which of them may post each type."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    DEPARTMENT = "department"
    OPERATOR = "operator"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
