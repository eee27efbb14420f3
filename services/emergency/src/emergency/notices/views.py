"""`GET /v1/notices/{notice_id}`: a public notice as last published."""

from __future__ import annotations

from fastapi import APIRouter

from emergency.store import NOTICES
from fazhi.contracts.emergency import NoticeSourceKind, NoticeState
from fazhi.web import Scope, document_router


def router() -> APIRouter:
    return document_router(
        path="/v1/notices",
        collection=NOTICES,
        id_name="notice_id",
        tag="notices",
        summary="A public notice as last published (active, updated or withdrawn)",
        scope=Scope(owners="the unit of its alert or incident", public=True),
        terms={"source_kind": NoticeSourceKind, "state": NoticeState},
    )
