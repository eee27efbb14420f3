"""The FastAPI app every service builds on: lifespan, events ingest, units, health and metrics,
security headers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic.json_schema import models_json_schema
from pymongo.errors import PyMongoError
from starlette.types import ASGIApp

from fazhi import topology
from fazhi.bus.audit import AUDIT, public_entry
from fazhi.bus.progress import WorkerProgress
from fazhi.bus.publisher import KafkaPublisher, Publisher
from fazhi.bus.tail import LiveTail, tail_metrics
from fazhi.contracts.envelope import ID_PATTERN
from fazhi.contracts.terms import Term, with_labels
from fazhi.logs import configure_logging
from fazhi.metrics import service_metrics
from fazhi.receipts.views import receipts_router
from fazhi.receipts.writer import ReceiptWriter
from fazhi.roles import Role
from fazhi.rules.units import all_groups, all_units
from fazhi.settings import ServiceSettings
from fazhi.store.catalog import EventCatalog
from fazhi.store.connect import IndexSetup, keyring, mongo_client
from fazhi.store.projection import INTERNAL_FIELDS, OWNERS, PRIVATE
from fazhi.web.auth import KeyStore, Principal
from fazhi.web.calendar import calendar_router
from fazhi.web.headers import SecurityHeaders
from fazhi.web.ingest import EventsIngest, IngestDoor, events_router
from fazhi.web.owners import OwnerCache
from fazhi.web.problems import Problem, install_problem_handlers
from fazhi.web.service import Caller, ServiceRuntime, runtime

log = logging.getLogger(__name__)

Startup = Callable[[ServiceRuntime], Awaitable[None]]


class Component(Protocol):
    """A part of an api process with a life of its own (a read model it keeps up to date):
    started once the runtime is, stopped before it, and asked by `/readyz` what it waits for."""

    name: str

    async def start(self, rt: ServiceRuntime) -> None: ...

    async def stop(self) -> None: ...

    def waiting_for(self) -> str | None:
        """Why the api is not ready yet (shown in `/readyz`), or None."""
        ...


def units_router() -> APIRouter:
    router = APIRouter(tags=["units"])

    @router.get("/v1/units", summary="The units registry: every unit and group of the plan")
    async def list_units() -> dict[str, list[dict[str, Any]]]:
        return {
            "units": [
                {"code": u.code, "name": u.name, "aliases": list(u.aliases)} for u in all_units()
            ],
            "groups": [
                {
                    "code": g.code,
                    "name": g.name,
                    "aliases": list(g.aliases),
                    "members": list(g.members),
                }
                for g in all_groups()
            ],
        }

    return router


def health_router(components: Sequence[Component] = ()) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Kafka and MongoDB answer (and the api's own read models are ready)",
        responses={503: {"description": "not ready"}},
    )
    async def readyz(rt: Annotated[ServiceRuntime, Depends(runtime)]) -> dict[str, Any]:
        kafka, mongo = await asyncio.gather(rt.publisher.ready(), _mongo_ready(rt))
        if mongo and rt.prepare is not None:
            mongo = await rt.prepare(rt)
        checks = {
            "kafka": "ok" if kafka else "unreachable",
            "mongodb": "ok" if mongo else "unreachable",
        }
        waiting = {c.name: c.waiting_for() for c in components}
        checks.update({name: reason or "ok" for name, reason in waiting.items()})
        if not (kafka and mongo) or any(waiting.values()):
            raise Problem(
                503,
                f"Not ready: {checks}.",
                kind="not-ready",
                checks=checks,
                headers={"Retry-After": str(rt.settings.retry_after_s)},
            )
        return {"status": "ready", "checks": checks}

    @router.get(
        "/readyz/read",
        summary="MongoDB answers: reads are served (a Kafka outage only refuses writes, with 503)",
        responses={503: {"description": "not ready"}},
    )
    async def readyz_read(rt: Annotated[ServiceRuntime, Depends(runtime)]) -> dict[str, Any]:
        mongo = await _mongo_ready(rt)
        if mongo and rt.prepare is not None:
            mongo = await rt.prepare(rt)
        checks = {"mongodb": "ok" if mongo else "unreachable"}
        if not mongo:
            raise Problem(
                503,
                f"Not ready: {checks}.",
                kind="not-ready",
                checks=checks,
                headers={"Retry-After": str(rt.settings.retry_after_s)},
            )
        return {"status": "ready", "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _mongo_ready(rt: ServiceRuntime) -> bool:
    try:
        await rt.mongo.admin.command("ping")
    except PyMongoError:
        return False
    return True


def create_service_app(
    *,
    title: str,
    catalog: EventCatalog,
    settings: ServiceSettings,
    publisher: Publisher | None = None,
    routers: Sequence[APIRouter] = (),
    ensure_indexes: IndexSetup | None = None,
    on_startup: Sequence[Startup] = (),
    components: Sequence[Component] = (),
    description: str = "",
) -> FastAPI:
    """Build a service's app; pass `publisher` to replace Kafka (unit tests pass a FakePublisher)."""

    async def prepare(rt: ServiceRuntime) -> bool:
        """Indexes and start-up hooks; tried again by /readyz while MongoDB was away at start."""
        if rt.prepared:
            return True
        try:
            await rt.keys.ensure_indexes()
            if ensure_indexes is not None:
                await ensure_indexes(rt.db)
            for hook in on_startup:
                await hook(rt)
        except PyMongoError as exc:
            log.warning("mongodb not ready for start-up work: %s", exc)
            return False
        rt.prepared = True
        return True

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(catalog.service, settings.log_level)
        service_metrics(catalog.service)
        mongo = mongo_client(settings)
        kafka = publisher or KafkaPublisher(
            settings.kafka(),
            client_id=f"{catalog.service}-api",
            timeout_s=settings.publish_timeout_s,
            topics=[catalog.topic],
        )
        progress = (
            WorkerProgress(settings.kafka(), settings.consumer_group(catalog.service))
            if publisher is None
            else None
        )
        tail = (
            LiveTail(
                settings.kafka(),
                [catalog.topic],
                tail_metrics(catalog.service),
                worker_group=settings.consumer_group(catalog.service),
                known_types=frozenset(catalog.types),
                lag_topics=topology.consumed_topics(catalog.service, catalog.topic),
                progress=progress,
            )
            if settings.live_tail
            else None
        )
        rt = ServiceRuntime(
            settings=settings,
            mongo=mongo,
            publisher=kafka,
            keys=KeyStore(mongo[settings.auth_db]),
            data_keys=keyring(settings, mongo[settings.mongo_db]),
            tail=tail,
            owners=OwnerCache(
                max_entries=settings.owner_cache_size, ttl_s=settings.owner_cache_ttl_s
            ),
            prepare=prepare,
            receipts=(
                receipts := ReceiptWriter(
                    mongo[settings.mongo_db],
                    # With a publisher of its own (tests), no worker to ask: every note is kept.
                    progress=progress,
                    hold_s=settings.receipt_hold_s,
                )
            ),
        )
        app.state.runtime = rt
        start = getattr(kafka, "start", None)
        if start is not None:
            await start()
        await prepare(rt)
        if tail is not None:
            tail.start()
        for component in components:
            await component.start(rt)
        receipts.start()
        if rt.data_keys.master.development:
            log.warning("personal data is sealed with the development master key: set MASTER_KEY")
        log.info("api started", extra={"topic": catalog.topic})
        try:
            yield
        finally:
            for component in reversed(components):
                await component.stop()
            await receipts.stop()
            if tail is not None:
                await tail.stop()
            if progress is not None:  # after both that read it
                await progress.close()
            stop = getattr(kafka, "stop", None)
            if stop is not None:
                await stop()
            await mongo.close()

    ingest = EventsIngest(catalog)
    app = ServiceApp(
        title=title, description=description, version="0.1.0", lifespan=lifespan, ingest=ingest
    )
    install_problem_handlers(app)
    app.include_router(health_router(components))
    app.include_router(units_router())
    app.include_router(calendar_router())
    app.include_router(events_router(ingest))
    app.include_router(receipts_router(catalog))
    for router in routers:
        app.include_router(router)
    app.include_router(audit_router(read_scopes(app)))
    app.openapi = _with_event_types(app, catalog)  # type: ignore[method-assign]
    return app


class ServiceApp(FastAPI):
    """A service's FastAPI app with `IngestDoor` in front of its whole middleware stack, so the
    one request every department system sends, `POST /v1/events`, passes no layer it does not
    need (each cost a share of the ingest's time), and `SecurityHeaders` in front of both, so
    every answer has them, a server error's too."""

    def __init__(self, *, ingest: EventsIngest, **options: Any) -> None:
        super().__init__(**options)
        self.ingest = ingest
        self.ingest_door = True
        """False: every request goes the app's way (the tests compare both doors)."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self.ingest_door:
            stack = IngestDoor(stack, ingest=self.ingest)
        docs = (self.docs_url, self.redoc_url, self.swagger_ui_oauth2_redirect_url)
        return SecurityHeaders(stack, docs_paths=[path for path in docs if path])


def _with_event_types(app: FastAPI, catalog: EventCatalog) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with the payload schema of every type `POST /v1/events` takes:
    the schemas in `components`, named by type under the operation's `x-event-types`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        accepted = [catalog.types[name] for name in catalog.accepted_over_http()]
        models = list(dict.fromkeys(t.model for t in accepted))
        refs, defs = models_json_schema(
            [(model, "validation") for model in models],
            ref_template="#/components/schemas/{model}",
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in defs.get("$defs", {}).items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two OpenAPI schemas are named {name!r}")
        spec["paths"]["/v1/events"]["post"]["x-event-types"] = {
            t.name: refs[(t.model, "validation")] for t in accepted
        }
        return spec

    return openapi


@dataclass(frozen=True)
class Timeline:
    """Rows of an insert-only collection shown with their aggregate, oldest first."""

    name: str
    """The field of the answer that lists them (`history`)."""
    collection: str
    key: str
    """The rows' field naming the aggregate (indexed: the rows are found by equality)."""
    terms: Mapping[str, type[Term]] = field(default_factory=dict)
    """The rows' fields holding a statutory term's code, answered with its `<field>_label_zh`."""


Render = Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Completes a read document from what is stored (see `document_router`)."""


@dataclass(frozen=True)
class Scope:
    """Who may read the documents of one read endpoint: the one rule `document_router` applies.

    Supervisor and operator keys read every document. A key with one of `roles` does too (staff
    read all emergency data). A department key reads a document its unit owns (`owner_units`)
    or is named in by one of the `parties` fields (a unit code or a list of them). `public`
    documents are read by any key. Every other key gets the answer of an unknown id, so it
    learns nothing, not even that the id exists."""

    owners: str
    """What the owners of this kind of document are, in words (for the documentation)."""
    parties: tuple[str, ...] = ()
    roles: frozenset[Role] = frozenset()
    public: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        """The document fields the rule reads (never hidden from the read)."""
        return (OWNERS, *self.parties)

    def units(self, doc: Mapping[str, Any]) -> set[str]:
        """The units that own the document or are party to it."""
        found: set[str] = set()
        for name in self.fields:
            value = doc.get(name)
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list):
                found.update(unit for unit in value if isinstance(unit, str))
        return found

    def allows(self, who: Principal, doc: Mapping[str, Any]) -> bool:
        if self.public or who.has(Role.SUPERVISOR, Role.OPERATOR, *self.roles):
            return True
        return who.has(Role.DEPARTMENT) and who.unit in self.units(doc)

    def describe(self) -> str:
        """The rule in one sentence: the endpoint's OpenAPI description and its README row."""
        if self.public:
            return "any key"
        readers = ["supervisor and operator keys"]
        readers += [f"{role} keys of any unit" for role in sorted(self.roles)]
        own = f"department keys of the units in `{OWNERS}` ({self.owners})"
        if self.parties:
            own += " or named in " + ", ".join(f"`{p}`" for p in self.parties)
        return ", ".join([*readers, own]) + "; any other key: 404"


def document_router(
    *,
    path: str,
    collection: str,
    id_name: str,
    tag: str,
    summary: str,
    scope: Scope,
    hidden: Sequence[str] = (),
    timelines: Sequence[Timeline] = (),
    terms: Mapping[str, type[Term]] | None = None,
    render: Render | None = None,
) -> APIRouter:
    """`GET <path>/{id}`: one projected document with its timelines, for the keys its `scope`
    lets read it; any other key gets the same 404 as an unknown id.

    `render` completes the answer from the document as stored, `hidden` fields included (never
    the private part); they are dropped after it (a case's clocks worked out on today's
    calendar from the clock events it keeps hidden).

    Each field of `terms` (the stored code of a statutory term) is answered with its Chinese
    term beside it: `"grade": "general", "grade_label_zh": "一般"`.
    """
    if set(scope.fields) & {*hidden, PRIVATE}:
        raise ValueError(f"{path}: the scope reads fields that are hidden: {scope.fields}")
    router = APIRouter(tags=[tag])
    shown = () if render is not None else hidden
    projection = {name: 0 for name in (*INTERNAL_FIELDS, PRIVATE, *shown)}
    what = id_name.removesuffix("_id")

    @router.get(
        f"{path}/{{doc_id}}",
        summary=summary,
        description=f"Who reads it: {scope.describe()}, exactly as for an unknown id.",
        openapi_extra={"x-fazhi-read-scope": scope.describe()},
        responses={
            401: {"description": "Missing or unknown API key"},
            404: {
                "description": "Not known (yet): events are projected asynchronously; or not "
                "readable with this key (the same answer)"
            },
            422: {"description": "Not an id: no event can have made it"},
        },
    )
    async def get_document(
        request: Request,
        who: Caller,
        doc_id: Annotated[str, Path(pattern=ID_PATTERN, description="An id (see the events)")],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        doc = await rt.db[collection].find_one({"_id": doc_id}, projection)
        if doc is None or not scope.allows(who, doc):
            raise Problem(404, f"No {what} {doc_id!r} is known yet.", kind="not-found")
        if render is not None:
            doc = await render(request, doc)
            for name in hidden:
                doc.pop(name, None)
        doc[id_name] = doc.pop("_id")
        with_labels(doc, terms or {})
        for timeline in timelines:
            rows = await rt.db[timeline.collection].find({timeline.key: doc_id}).to_list(None)
            rows.sort(key=lambda row: row.get("seq", 0))
            doc[timeline.name] = [
                with_labels(
                    {k: v for k, v in row.items() if k not in ("_id", "seq", timeline.key)},
                    timeline.terms,
                )
                for row in rows
            ]
        return doc

    READ_SCOPES[get_document] = (collection, scope)
    return router


READ_SCOPES: dict[Callable[..., Any], tuple[str, Scope]] = {}
"""The collection and read scope of each `document_router` endpoint: the audit trail of an
aggregate is read by whoever may read the aggregate (`audit_router`)."""


def read_scopes(app: FastAPI) -> dict[str, Scope]:
    """The read scope of each collection the app has a document endpoint of."""
    found: dict[str, Scope] = {}

    def walk(routes: Sequence[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)  # an included router
            if inner is not None:
                walk(inner.routes)
                continue
            known = READ_SCOPES.get(getattr(route, "endpoint", None))  # type: ignore[arg-type]
            if known is not None:
                found.setdefault(*known)

    walk(app.routes)
    return found


def audit_router(scopes: Mapping[str, Scope]) -> APIRouter:
    """`GET /v1/audit/{aggregate_id}`: the aggregate's audit trail (`fazhi.bus.audit`), for
    supervisor and operator keys, and the department keys of the units that may read the
    aggregate by its read endpoint's scope (a public document's trail: its owners and parties);
    any other key, or an aggregate of no collection with a read endpoint, gets the 404 of an
    unknown id."""
    router = APIRouter(tags=["audit"])

    def may_read(who: Principal, scope: Scope, doc: Mapping[str, Any]) -> bool:
        if who.has(Role.SUPERVISOR, Role.OPERATOR, *scope.roles):
            return True
        return who.has(Role.DEPARTMENT) and who.unit in scope.units(doc)

    @router.get(
        "/v1/audit/{aggregate_id}",
        summary="The audit trail of an aggregate: every event about it, in log order, hash-chained",
        description="Each entry: its sequence number, type, id, time, the unit and key id that "
        "posted it (none for a derived event), the receipt's outcome, its log position, and its "
        "hash, chained to the entry before it (`fazhi audit verify` recomputes the chain). Who "
        "reads it: supervisor and operator keys, and the keys that may read the aggregate.",
        responses={
            401: {"description": "Missing or unknown API key"},
            404: {"description": "No trail, or not readable with this key (the same answer)"},
            422: {"description": "Not an id"},
        },
    )
    async def get_trail(
        who: Caller,
        aggregate_id: Annotated[str, Path(pattern=ID_PATTERN, description="An aggregate id")],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        entries = await rt.db[AUDIT].find({"aggregate": aggregate_id}).to_list(None)
        allowed = who.has(Role.SUPERVISOR, Role.OPERATOR)
        if entries and not allowed:
            for collection in sorted({str(e.get("collection") or "") for e in entries}):
                scope = scopes.get(collection)
                if scope is None:
                    continue
                doc = await rt.db[collection].find_one(
                    {"_id": aggregate_id}, {name: 1 for name in scope.fields}
                )
                if doc is not None and may_read(who, scope, doc):
                    allowed = True
                    break
        if not entries or not allowed:
            raise Problem(404, f"No audit trail of {aggregate_id!r} is known.", kind="not-found")
        entries.sort(key=lambda e: int(e.get("seq", 0)))
        return {"aggregate": aggregate_id, "entries": [public_entry(e) for e in entries]}

    return router
