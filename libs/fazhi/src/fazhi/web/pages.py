"""HTML pages, one way: Jinja2 templates (autoescaped) extending a base layout per audience,
with their script and style in static files served at `/static/<name>`.

A service keeps its templates in `<package>/templates/` and its static files in
`<package>/static/`. Staff and supervisor pages extend `layouts/console.html`, the layout of the
consoles, which fazhi ships; the public portal extends its own `base.html`. Nothing is inline,
so the Content-Security-Policy of `fazhi.web.headers` holds: a page hands data to its script in
a `data-` attribute, `data-x='{{ value|tojson }}'` (single quotes: `tojson` escapes them), which
the script reads back with `JSON.parse(element.dataset.x)`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from fazhi.web.problems import Problem

STATIC_PREFIX = "/static"
STATIC_NAME = r"^[a-z0-9][a-z0-9_-]*\.(css|js)$"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class Pages:
    """The templates of one package, with fazhi's layouts under them."""

    def __init__(
        self,
        package: str,
        *,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        globals: Mapping[str, Any] | None = None,
    ) -> None:
        self.env = Environment(
            loader=ChoiceLoader(
                [PackageLoader(package, "templates"), PackageLoader("fazhi.web", "templates")]
            ),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(filters or {})
        self.env.globals.update(static=STATIC_PREFIX, **(globals or {}))

    def text(self, name: str, **context: Any) -> str:
        """The template rendered (a whole page, or a fragment a page fetches)."""
        return self.env.get_template(name).render(**context)

    def render(
        self,
        name: str,
        status_code: int = 200,
        *,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        return HTMLResponse(
            self.text(name, **context), status_code=status_code, headers=dict(headers or {})
        )


@dataclass(frozen=True)
class _File:
    body: bytes
    media_type: str
    etag: str


def static_router(package: str) -> APIRouter:
    """`GET /static/<name>`: the `.css` and `.js` files of `<package>/static/`, read once
    (they ship with the package), revalidated by their ETag. Any other name is a 404."""
    found: dict[str, _File] = {}
    for entry in files(package).joinpath("static").iterdir():
        if entry.is_file() and re.fullmatch(STATIC_NAME, entry.name):
            body = entry.read_bytes()
            suffix = entry.name[entry.name.rindex(".") :]
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            found[entry.name] = _File(body, STATIC_TYPES[suffix], etag)
    router = APIRouter(include_in_schema=False)

    @router.get(STATIC_PREFIX + "/{name}")
    async def static_file(
        name: Annotated[str, Path(max_length=100)],
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        file = found.get(name)
        if file is None:
            raise Problem(404, f"No static file {name!r}.", kind="not-found")
        headers = {"ETag": file.etag, "Cache-Control": "no-cache"}
        if if_none_match == file.etag:
            return Response(status_code=304, headers=headers)
        return Response(file.body, media_type=file.media_type, headers=headers)

    return router
