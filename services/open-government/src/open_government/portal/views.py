"""The public portal 政务公开 at `/`: server-rendered pages (zh-CN, readable without JavaScript,
usable on a phone; `templates/`, extending the public layout `base.html`, styled by
`static/portal.css`), the disclosure request form and tracking page, and Atom feeds."""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fazhi.bus import PublishError
from fazhi.contracts import type_of
from fazhi.contracts.envelope import CHINA_TZ, ID_PATTERN, new_event
from fazhi.contracts.opengov import Channel, DocKind, RequestReceived, Validity
from fazhi.rules import all_units, get_unit, is_unit_code
from fazhi.web import (
    Pages,
    Problem,
    ServiceRuntime,
    checked_as_is,
    runtime,
    seal_personal,
    static_router,
)
from open_government.domain.requests import receive_request
from open_government.events import CATALOG
from open_government.portal import search as finder
from open_government.portal import service
from open_government.portal.feeds import atom
from open_government.portal.limits import FORM_WINDOW_S, allow, client_key

Runtime = Annotated[ServiceRuntime, Depends(runtime)]
DocId = Annotated[str, Path(pattern=ID_PATTERN, max_length=128)]
ATOM = "application/atom+xml; charset=utf-8"
LISTED_KINDS = [k for k in DocKind]


def _unit_name(code: str | None) -> str:
    if not code:
        return ""
    return get_unit(code).name if is_unit_code(code) else code


def _kind_name(code: str | None) -> str:
    try:
        return DocKind(code).label_zh if code else ""
    except ValueError:
        return code or ""


def _day(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:10]
    return str(value.astimezone(CHINA_TZ).date())


PAGES = Pages(
    "open_government.portal",
    filters={"unit_name": _unit_name, "kind_name": _kind_name, "day": _day},
    globals={
        "kinds": LISTED_KINDS,
        "validity_name": {str(v): v.label_zh for v in Validity},
        "review_name": {"submitted": "已报送", "passed": "通过", "failed": "未通过"},
    },
)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return PAGES.render(name, status, this_year=service.now().year, **context)


def not_found(what: str) -> HTMLResponse:
    return page("message.html", 404, title="未找到", message=f"{what}不存在或尚未公开。")


def _year(value: int | None) -> int:
    return value or service.now().year


def _units() -> list[tuple[str, str]]:
    return [(u.code, u.name) for u in all_units()]


def new_tracking_number(on: date) -> str:
    """YSQ + the day + 8 random characters: not guessable, one segment of a URL."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    tail = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"YSQ{on:%Y%m%d}-{tail}"


def router() -> APIRouter:
    portal = APIRouter(include_in_schema=False)
    portal.include_router(static_router("open_government.portal"))

    @portal.get("/", response_class=HTMLResponse)
    async def home(rt: Runtime) -> HTMLResponse:
        today = service.now().date()
        items = await service.newest(rt.db, today=today, limit=20)
        notices = await service.newest(rt.db, today=today, limit=5, kind="emergency_notice")
        active = [n for n in notices if n.get("notice_state") != "withdrawn"]
        return page("home.html", title="首页", items=items, notices=active)

    @portal.get("/search", response_class=HTMLResponse)
    async def search_page(
        found_in: finder.SearchDep,
        q: Annotated[str, Query(max_length=200)] = "",
        kind: Annotated[str, Query(max_length=32)] = "",
        unit: Annotated[str, Query(max_length=64)] = "",
        year: Annotated[str, Query(max_length=4)] = "",
        validity: Annotated[str, Query(max_length=16)] = "",
        cursor: Annotated[str, Query(max_length=1024)] = "",
    ) -> HTMLResponse:
        filters = finder.Filters(
            kind=kind if kind in {str(k) for k in DocKind} else None,
            unit=unit if is_unit_code(unit) else None,
            year=int(year) if year.isdigit() and 1900 <= int(year) <= 2100 else None,
            validity=validity if validity in {str(v) for v in Validity} else None,
        )
        found = None
        if q.strip():
            try:
                found = finder.search(
                    found_in.index,
                    q,
                    filters,
                    cursor=cursor or None,
                    complete=found_in.current,
                )
            except Problem:
                return page(
                    "message.html", 400, title="搜索", message="翻页链接已失效，请重新搜索。"
                )
        return page(
            "search.html",
            title=f"搜索：{q}" if q else "搜索",
            q=q,
            filters=filters,
            found=found,
            link=finder.link,
            facet_label=finder.facet_label,
            facet_names=finder.FACET_NAMES,
            units=_units(),
            years=range(service.now().year, 2020, -1),
        )

    @portal.get("/documents/{document_id}", response_class=HTMLResponse)
    async def document_page(rt: Runtime, document_id: DocId) -> HTMLResponse:
        doc = await service.publication(rt.db, document_id)
        if doc is None:
            return not_found("该文件")
        return page("document.html", title=doc.get("title", ""), doc=doc)

    @portal.get("/documents/{document_id}/versions/{version}", response_class=HTMLResponse)
    async def version_page(
        rt: Runtime, document_id: DocId, version: Annotated[int, Path(ge=1, le=100_000)]
    ) -> HTMLResponse:
        found = await service.version(rt.db, document_id, version)
        if found is None:
            return not_found("该版本")
        return page("version.html", title=found.get("title", ""), v=found)

    @portal.get("/kinds/{kind}", response_class=HTMLResponse)
    async def kind_page(
        rt: Runtime,
        kind: Annotated[str, Path(max_length=32)],
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    ) -> HTMLResponse:
        if kind not in {str(k) for k in DocKind}:
            return not_found("该栏目")
        shown = _year(year)
        items = await service.listing(rt.db, year=shown, kind=kind)
        template = "power_list.html" if kind == DocKind.POWER_LIST else "list.html"
        return page(
            template,
            title=DocKind(kind).label_zh,
            kind=kind,
            year=shown,
            items=items,
            years=range(service.now().year, 2020, -1),
            feed=f"/feeds/kinds/{kind}.atom",
        )

    @portal.get("/units/{unit}", response_class=HTMLResponse)
    async def unit_page(
        rt: Runtime,
        unit: Annotated[str, Path(max_length=64)],
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    ) -> HTMLResponse:
        if not is_unit_code(unit):
            return not_found("该单位")
        shown = _year(year)
        items = await service.listing(rt.db, year=shown, unit=unit)
        return page(
            "list.html",
            title=_unit_name(unit),
            unit=unit,
            year=shown,
            items=items,
            years=range(service.now().year, 2020, -1),
            feed=f"/feeds/units/{unit}.atom",
        )

    @portal.get("/cleanup", response_class=HTMLResponse)
    async def cleanup_page(
        rt: Runtime, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
    ) -> HTMLResponse:
        shown = _year(year)
        items = await service.cleanup(rt.db, shown)
        return page("cleanup.html", title="规范性文件清理", year=shown, items=items)

    @portal.get("/decisions", response_class=HTMLResponse)
    async def decisions_page(
        rt: Runtime, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
    ) -> HTMLResponse:
        shown = _year(year)
        found = await service.catalogue(rt.db, shown)
        return page(
            "decisions.html",
            title=f"{shown}年重大行政决策事项目录",
            catalogue=found,
            year=shown,
            years=range(service.now().year + 1, 2020, -1),
        )

    @portal.get("/decisions/{decision_id}", response_class=HTMLResponse)
    async def decision_page(rt: Runtime, decision_id: DocId) -> HTMLResponse:
        found = await service.decision(rt.db, decision_id)
        if found is None:
            return not_found("该决策事项")
        return page("decision.html", title=found.get("title", ""), d=found)

    @portal.get("/requests/new", response_class=HTMLResponse)
    async def request_form() -> HTMLResponse:
        return page("request_form.html", title="政府信息公开申请", units=_units(), form={})

    @portal.post("/requests", response_class=HTMLResponse)
    async def submit_request(
        request: Request,
        rt: Runtime,
        unit: Annotated[str, Form(max_length=64)] = "",
        name: Annotated[str, Form(max_length=200)] = "",
        id_number: Annotated[str, Form(max_length=32)] = "",
        phone: Annotated[str, Form(max_length=32)] = "",
        address: Annotated[str, Form(max_length=500)] = "",
        content: Annotated[str, Form(max_length=5000)] = "",
    ) -> Response:
        form = {"unit": unit, "content": content}
        errors = []
        if not is_unit_code(unit):
            errors.append("请选择受理机关。")
        if not name.strip():
            errors.append("请填写申请人姓名或名称。")
        if not (phone.strip() or address.strip()):
            errors.append("请填写联系电话或通信地址。")
        if len(content.strip()) < 5:
            errors.append("请描述所需政府信息（至少5个字）。")
        if errors:
            return page(
                "request_form.html",
                400,
                title="政府信息公开申请",
                units=_units(),
                form=form,
                errors=errors,
            )
        address_of = request.client.host if request.client else "unknown"
        at = service.now()
        salt = rt.settings.mongo_db
        if not await allow(rt.db, client_key(address_of, salt), at):
            response = page(
                "message.html",
                429,
                title="提交过于频繁",
                message="同一来源提交过于频繁，请稍后再试。",
            )
            response.headers["Retry-After"] = str(FORM_WINDOW_S)
            return response
        number = new_tracking_number(at.date())
        applicant = {"name": name.strip(), "kind": "person"}
        for field, value in (("id_number", id_number), ("phone", phone), ("address", address)):
            if value.strip():
                applicant[field] = value.strip()
        try:
            data = RequestReceived.model_validate(
                {
                    "request_id": number,
                    "applicant": applicant,
                    "content": content.strip(),
                    "channel": "online",
                    "received_at": at.isoformat(),
                }
            )
        except ValidationError:
            return page(
                "request_form.html",
                400,
                title="政府信息公开申请",
                units=_units(),
                form=form,
                errors=["所填内容含有不允许的字符，请检查后重新提交。"],
            )
        received = type_of(RequestReceived)
        event = new_event(
            type=received,
            source=f"/units/{unit}",
            subject=number,
            time=at,
            data=data.model_dump(mode="json", exclude_unset=True),
        )
        try:
            # Sealed as `POST /v1/events` seals it: the applicant travels encrypted.
            (sealed,) = await seal_personal(
                rt, CATALOG, [checked_as_is(event, CATALOG.types[received])]
            )
            await rt.publisher.publish(CATALOG.topic, [sealed.event], encoded=[sealed.encoded])
        except PublishError:
            response = page(
                "message.html",
                503,
                title="暂时无法受理",
                message="系统暂时无法接收申请，未作任何记录，请稍后重新提交。",
            )
            response.headers["Retry-After"] = str(rt.settings.retry_after_s)
            return response
        return RedirectResponse(f"/track/{number}?new=1", status_code=303)

    @portal.get("/track", response_class=HTMLResponse)
    async def track_form(
        number: Annotated[str, Query(max_length=128)] = "",
    ) -> Response:
        if number.strip():
            return RedirectResponse(f"/track/{number.strip()}", status_code=303)
        return page("track.html", title="申请办理进度查询", number="", found=None, asked=False)

    @portal.get("/track/{number}", response_class=HTMLResponse)
    async def track_page(
        rt: Runtime,
        number: Annotated[str, Path(max_length=128)],
        new: Annotated[int, Query(ge=0, le=1)] = 0,
    ) -> HTMLResponse:
        found = await service.tracking(rt.db, number) if _is_id(number) else None
        expected = None
        if found is None and new:
            # Just submitted: the due date the rule gives, until the request is registered.
            expected = receive_request(number, Channel.ONLINE, service.now().date()).due_on
        return page(
            "track.html",
            title="申请办理进度查询",
            number=number,
            found=found,
            asked=True,
            new=bool(new),
            expected=expected,
        )

    @portal.get("/reports/{year}", response_class=HTMLResponse)
    async def report_page(
        rt: Runtime, year: Annotated[int, Path(ge=2000, le=2100)]
    ) -> HTMLResponse:
        report = await service.annual_report(rt.db, year)
        return page("report.html", title=f"{year}年政府信息公开工作年度报告", r=report)

    @portal.get("/feeds/all.atom")
    async def feed_all(request: Request, rt: Runtime) -> Response:
        items = await service.newest(rt.db, today=service.now().date(), limit=50)
        return _feed(request, "/feeds/all.atom", "全部公开信息", items)

    @portal.get("/feeds/kinds/{kind}.atom")
    async def feed_kind(
        request: Request, rt: Runtime, kind: Annotated[str, Path(max_length=32)]
    ) -> Response:
        if kind not in {str(k) for k in DocKind}:
            return not_found("该订阅")
        items = await service.newest(rt.db, today=service.now().date(), limit=50, kind=kind)
        return _feed(request, f"/feeds/kinds/{kind}.atom", DocKind(kind).label_zh, items)

    @portal.get("/feeds/units/{unit}.atom")
    async def feed_unit(
        request: Request, rt: Runtime, unit: Annotated[str, Path(max_length=64)]
    ) -> Response:
        if not is_unit_code(unit):
            return not_found("该订阅")
        items = await service.newest(rt.db, today=service.now().date(), limit=50, unit=unit)
        return _feed(request, f"/feeds/units/{unit}.atom", _unit_name(unit), items)

    @portal.get("/feeds", response_class=HTMLResponse)
    async def feeds_page() -> HTMLResponse:
        return page("feeds.html", title="订阅", units=_units())

    return portal


def _is_id(value: str) -> bool:
    return re.fullmatch(ID_PATTERN, value) is not None


def _feed(request: Request, path: str, title: str, items: list[dict[str, Any]]) -> Response:
    base = str(request.base_url).rstrip("/")
    body = atom(base_url=base, path=path, title=title, items=items, updated=service.now())
    return Response(body, media_type=ATOM)
