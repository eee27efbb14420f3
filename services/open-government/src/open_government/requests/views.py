"""`GET /v1/requests/{request_id}`: a disclosure request with its reply due date (`due_date`,
`provisional`, `explanation`), its `status` and its steps."""

from __future__ import annotations

from fastapi import APIRouter

from fazhi.contracts.opengov import AnswerType, Channel
from fazhi.web import Scope, Timeline, document_router
from open_government.store import PRIVATE, REQUEST_HISTORY, REQUESTS


def router() -> APIRouter:
    return document_router(
        path="/v1/requests",
        collection=REQUESTS,
        id_name="request_id",
        tag="requests",
        summary="A disclosure request, its state and its reply due date",
        scope=Scope(owners="the receiving unit"),
        hidden=(PRIVATE, "request"),
        terms={"channel": Channel, "answer_type": AnswerType},
        timelines=[Timeline("history", REQUEST_HISTORY, "request_id")],
    )
