"""The public data as JSON under `/v1/` (no key: what the portal shows), and the registry's
numbers (`POST /v1/registry/numbers`, for the issuing unit's key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from fazhi.contracts.envelope import ID_PATTERN
from fazhi.contracts.models import Id, Payload, UnitCode
from fazhi.contracts.opengov import DocKind, Validity
from fazhi.roles import Role
from fazhi.web import (
    Caller,
    Listing,
    PageQuery,
    Problem,
    Scope,
    ServiceRuntime,
    read_json_body,
    runtime,
)
from open_government.documents.numbers import NumberConflict, issue_number
from open_government.portal import service
from open_government.portal.search import Filters, SearchAnswer, SearchDep, answer, search
from open_government.store import DOCUMENTS

Runtime = Annotated[ServiceRuntime, Depends(runtime)]
Year = Annotated[int, Path(ge=2000, le=2100, description="A year, four digits")]
DocId = Annotated[str, Path(pattern=ID_PATTERN, max_length=128, description="An id")]
MAX_NUMBER_BODY = 4096
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid parameters; the problem lists them"}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **INVALID,
    404: {"description": "Not known (yet): events are projected asynchronously"},
}


class NumberRequest(Payload):
    """Which document of which unit and year wants its number."""

    document_id: Id
    unit: UnitCode
    year: int = Field(ge=2000, le=2100)


class IssuedNumber(BaseModel):
    document_id: str
    unit: str
    year: int
    seq: int
    number: str


def _public_id(doc: dict[str, Any], name: str = "document_id") -> dict[str, Any]:
    out = {name: doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}
    return out


PUBLICATIONS = Listing(
    DOCUMENTS,
    scope=Scope(owners="the publishing unit", public=True),
    bounds=frozenset({"year"}),
    key="published_at",
    descending=True,
    projection=service.LISTED,
    render=_public_id,
)
"""What is published, to anyone: a year's items (`year` is required), newest first."""


def router() -> APIRouter:
    # Read without a key: what the portal shows, as JSON.
    public = APIRouter(tags=["public"])
    anyone = {"x-fazhi-public": True}

    @public.get(
        "/v1/search",
        summary="Search everything published (Chinese full text, best first, cursor pages)",
        description="Words of the query (segmented with jieba) must all appear, in the title or "
        'the body; a text in quotes (`"行政复议"`) must appear as it is. Ranked by BM25 over '
        "the words, the title counting more, a clause found as it is first. `facets` counts the "
        "matches by kind, unit, year and validity; when nothing matches, `without` says how "
        "many each filter given keeps out.",
        openapi_extra=anyone,
        response_model=SearchAnswer,
        responses={**INVALID, 400: {"description": "A cursor this search did not give"}},
    )
    async def search_json(
        found_in: SearchDep,
        q: Annotated[str, Query(min_length=1, max_length=200)],
        kind: Annotated[DocKind | None, Query()] = None,
        unit: Annotated[UnitCode | None, Query()] = None,
        year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
        validity: Annotated[Validity | None, Query(description="有效 / 失效 / 废止")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[
            str | None,
            Query(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9_-]+$"),
        ] = None,
    ) -> SearchAnswer:
        filters = Filters(
            kind=str(kind) if kind else None,
            unit=unit,
            year=year,
            validity=str(validity) if validity else None,
        )
        found = search(
            found_in.index, q, filters, limit=limit, cursor=cursor, complete=found_in.current
        )
        return answer(found)

    @public.get(
        "/v1/publications",
        summary="Published items of a year, by kind or unit, newest first (cursor pages)",
        openapi_extra=anyone,
        responses={**INVALID, 400: {"description": "A cursor this api did not give"}},
    )
    async def publications(
        rt: Runtime,
        params: PageQuery,
        year: Annotated[int, Query(ge=2000, le=2100)],
        kind: Annotated[DocKind | None, Query()] = None,
        unit: Annotated[UnitCode | None, Query()] = None,
    ) -> dict[str, Any]:
        where: dict[str, Any] = {"year": year}
        if kind:
            where["doc_kind"] = str(kind)
        if unit:
            where["issuing_unit"] = unit
        return await PUBLICATIONS.page(rt.db, None, where, params)

    @public.get(
        "/v1/publications/{document_id}",
        summary="A published item, its versions and its reviews and validity",
        responses=NOT_FOUND,
        openapi_extra=anyone,
    )
    async def publication(rt: Runtime, document_id: DocId) -> dict[str, Any]:
        doc = await service.publication(rt.db, document_id)
        if doc is None:
            raise Problem(404, f"No publication {document_id!r} is known.", kind="not-found")
        return _public_id(doc)

    @public.get(
        "/v1/publications/{document_id}/versions/{version}",
        summary="One version of a published item, as it read then",
        responses=NOT_FOUND,
        openapi_extra=anyone,
    )
    async def publication_version(
        rt: Runtime, document_id: DocId, version: Annotated[int, Path(ge=1, le=100_000)]
    ) -> dict[str, Any]:
        found = await service.version(rt.db, document_id, version)
        if found is None:
            raise Problem(404, f"{document_id!r} has no version {version}.", kind="not-found")
        return found

    @public.get(
        "/v1/registry/cleanup/{year}",
        summary="Normative documents due for review (清理)",
        openapi_extra=anyone,
        responses=INVALID,
    )
    async def cleanup(rt: Runtime, year: Year) -> dict[str, Any]:
        return {"year": year, "items": [_public_id(d) for d in await service.cleanup(rt.db, year)]}

    @public.get(
        "/v1/catalogue/{year}",
        summary="The major decisions catalogue of a year",
        openapi_extra=anyone,
        responses=INVALID,
    )
    async def catalogue(rt: Runtime, year: Year) -> dict[str, Any]:
        found = await service.catalogue(rt.db, year)
        found["decisions"] = [_public_id(d, "decision_id") for d in found["decisions"]]
        return found

    @public.get(
        "/v1/tracking/{tracking_number}",
        summary="A disclosure request's status and due date, by its tracking number",
        responses=NOT_FOUND,
        openapi_extra=anyone,
    )
    async def tracking(rt: Runtime, tracking_number: DocId) -> dict[str, Any]:
        found = await service.tracking(rt.db, tracking_number)
        if found is None:
            raise Problem(404, f"No request {tracking_number!r} is known yet.", kind="not-found")
        return found

    @public.get(
        "/v1/reports/{year}",
        summary="政府信息公开工作年度报告: the tables of a year",
        openapi_extra=anyone,
        responses=INVALID,
    )
    async def report(rt: Runtime, year: Year) -> dict[str, Any]:
        return await service.annual_report(rt.db, year)

    @public.post(
        "/v1/registry/numbers",
        summary="Issue the next number of a unit's normative documents of a year (统一编号)",
        description="The issuing unit's department key (or an operator's). The same document "
        "id always gets the same number; numbers of a unit and year are consecutive.",
        response_model=IssuedNumber,
        responses={
            400: {"description": "The body is not JSON (UTF-8, no key twice, not too deep)"},
            401: {"description": "Missing or unknown API key"},
            403: {"description": "Not the issuing unit's key"},
            409: {"description": "The document id is registered for another unit or year"},
            413: {"description": f"Body larger than {MAX_NUMBER_BODY} bytes"},
            415: {"description": "Not application/json"},
            422: {"description": "Invalid fields; the problem lists them"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": NumberRequest.model_json_schema()}},
            }
        },
    )
    async def number(who: Caller, rt: Runtime, request: Request) -> IssuedNumber:
        # Read once the caller is known, as the calendar's PUT reads its body.
        body = await read_json_body(
            request, NumberRequest, limit=MAX_NUMBER_BODY, what="number request"
        )
        if not who.has(Role.OPERATOR) and not (who.has(Role.DEPARTMENT) and who.unit == body.unit):
            raise Problem(
                403, f"Only unit {body.unit!r} numbers its documents.", kind="forbidden-unit"
            )
        try:
            issued = await issue_number(
                rt.db,
                unit=body.unit,
                year=body.year,
                document_id=body.document_id,
                at=service.now(),
            )
        except NumberConflict as exc:
            raise Problem(409, str(exc), kind="number-conflict") from exc
        return IssuedNumber(**issued)

    return public
