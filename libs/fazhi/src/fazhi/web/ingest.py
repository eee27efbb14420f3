"""`POST /v1/events`: authenticate, validate, publish, and answer 202 only once Kafka acknowledged."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from fazhi.bus.publisher import PublishError
from fazhi.contracts.envelope import (
    BATCH,
    ID_PATTERN,
    KEY_ID,
    MAX_EXTENSIONS,
    STRUCTURED,
    CloudEvent,
    EnvelopeError,
)
from fazhi.contracts.versions import VersionError, schema_uri, upcast, version_of
from fazhi.metrics import service_metrics
from fazhi.receipts.rules import AcceptedReceipt, accepted_receipts
from fazhi.roles import Role
from fazhi.rules.redaction import numbers_in, phone_or_id_possible
from fazhi.rules.units import is_unit_code
from fazhi.store.catalog import EventCatalog, EventType
from fazhi.store.projection import OWNERS
from fazhi.store.sealing import key_id, personal_present, seal
from fazhi.web.auth import Principal
from fazhi.web.body import read_body
from fazhi.web.cloudevents import HttpEvents, http_mode, read_http
from fazhi.web.eventschema import event_schema
from fazhi.web.problems import (
    Problem,
    field_errors,
    handler_for,
    invalid_fields,
    server_error,
)
from fazhi.web.service import Caller, ServiceRuntime, runtime

log = logging.getLogger(__name__)

# Kafka's default record limit is 1 MiB including the record's own overhead and headers.
MAX_RECORD_BYTES = 1_000_000


class Accepted(BaseModel):
    accepted: list[str]
    receipts: list[AcceptedReceipt] = []
    """Each event where the broker put it; `GET /v1/events/{id}` follows it (`fazhi.receipts`)."""


_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_NUMBER_NAMES = {"id_number": "an ID number", "phone": "a phone number"}


@lru_cache(maxsize=4096)
def personal_id(value: str) -> str | None:
    """Why an id (a record key, a URL segment) cannot be taken: it reads as an ID number or a
    phone by the rules of `fazhi.rules.redaction`; None when it does not. UUIDs inside it are not
    read (hex groups are no phone). Remembered: the same subjects and ids come again and again."""
    value = _UUID.sub("~", value)
    if not phone_or_id_possible(value):
        return None
    found = numbers_in(value)
    kinds = [name for kind, name in _NUMBER_NAMES.items() if kind in found]
    if not kinds:
        return None
    return (
        f"reads as {' and '.join(kinds)}: ids travel in clear as record keys and in URLs, so "
        "they must not carry personal data; use a case, file or serial number"
    )


@cache
def _id_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` that hold ids (the envelope's id pattern), or lists of them."""
    found = []
    for name, prop in model.model_json_schema().get("properties", {}).items():
        if ID_PATTERN in (prop.get("pattern"), prop.get("items", {}).get("pattern")):
            found.append(name)
    return tuple(found)


def _personal_ids(event: CloudEvent, data: BaseModel, prefix: str) -> Iterator[dict[str, str]]:
    for attribute in ("id", "subject"):
        reason = personal_id(getattr(event, attribute))
        if reason is not None:
            yield {"field": prefix + attribute, "message": reason}
    for name in _id_fields(type(data)):
        value = getattr(data, name)
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            reason = personal_id(item) if isinstance(item, str) else None
            if reason is not None:
                where = f"{name}[{i}]" if isinstance(value, list) else name
                yield {"field": f"{prefix}data.{where}", "message": reason}


def _check_event(
    event: CloudEvent, index: int | None, catalog: EventCatalog, who: Principal
) -> tuple[EventType, BaseModel]:
    """The event's type and validated data, or the Problem that refuses it: 400 or 403 at the
    first reason, 422 naming every invalid field."""
    where = f"event [{index}]" if index is not None else "the event"
    prefix = f"[{index}]." if index is not None else ""
    event_type = catalog.types.get(event.type)
    if event_type is None or event_type.derived:
        reason = "is derived by the platform" if event_type else "is not handled by this service"
        raise Problem(
            400,
            f"The type {event.type!r} of {where} {reason}. "
            f"This service accepts: {', '.join(catalog.accepted_over_http())}.",
            kind="unknown-event-type",
            accepted_types=catalog.accepted_over_http(),
        )
    unit = event.unit
    operator = who.has(Role.OPERATOR)
    if not operator and unit != who.unit:
        raise Problem(
            403,
            f"This key may only post as '/units/{who.unit}'; {where} has source {event.source!r}.",
            kind="forbidden-source",
        )
    if not operator and not who.roles & event_type.posters:
        allowed = ", ".join(sorted(event_type.posters))
        raise Problem(
            403, f"Posting {event.type} needs one of the roles: {allowed}.", kind="forbidden-role"
        )
    errors: list[dict[str, str]] = []
    if len(set(event.model_extra or {}) - {KEY_ID}) >= MAX_EXTENSIONS:
        errors.append(
            {
                "field": prefix + "(event)",
                "message": f"at most {MAX_EXTENSIONS - 1} extension attributes: "
                f"the platform adds `{KEY_ID}` (the posting key's id)",
            }
        )
    if unit is None or not is_unit_code(unit):
        message = (
            f"unknown unit {unit!r}; see GET /v1/units" if unit else "must be '/units/<unit code>'"
        )
        errors.append({"field": prefix + "source", "message": message})
    try:
        # Posted without a `dataschema`: the version documented now (in the log, none is 1).
        version = (
            event_type.version
            if event.dataschema is None
            else version_of(event.type, event.dataschema)
        )
        posted = upcast(event.type, version, event_type.version, event.data)
    except VersionError as exc:
        errors.append({"field": prefix + "dataschema", "message": str(exc)})
        raise invalid_fields(errors, what="event") from exc
    try:
        data = event_type.model.model_validate(posted)
    except ValidationError as exc:
        errors += field_errors(exc.errors(), prefix=(f"{prefix}data",))
        raise invalid_fields(errors, what="event") from exc
    data_unit = getattr(data, "unit", None)
    if data_unit is not None and unit is not None and data_unit != unit:
        if not operator:
            raise Problem(
                403,
                f"This key belongs to unit {who.unit!r}; {where} reports for unit {data_unit!r}.",
                kind="forbidden-source",
            )
        errors.append(
            {"field": prefix + "data.unit", "message": f"must be the source's unit {unit!r}"}
        )
    aggregate = event_type.aggregate_id(data)
    if aggregate is not None and event.subject != aggregate:
        errors.append(
            {
                "field": prefix + "subject",
                "message": f"must be the aggregate id {aggregate!r} (data.{event_type.aggregate})",
            }
        )
    errors += _personal_ids(event, data, prefix)
    if errors:
        raise invalid_fields(errors, what="event")
    return event_type, data


def as_published(
    event: CloudEvent, data: BaseModel, event_type: EventType, who: Principal
) -> CloudEvent:
    """The event as its topic carries it: `data` as validated (upcast to the current version
    of its contract, named in `dataschema`), so a statutory term posted in Chinese (一般)
    travels, and is stored, as its code (`general`); and the id of the key that posted it."""
    return event.model_copy(
        update={
            "data": data.model_dump(mode="json", exclude_unset=True),
            "dataschema": schema_uri(event_type.name, event_type.version),
            KEY_ID: who.key_id,
        }
    )


# Which refusal a request gets when its events are refused for different reasons: the key's
# rights first, then what the service does not take, then size, then invalid fields.
_PRECEDENCE = (403, 400, 413, 422)
# The attribute a refusal without field errors is about.
_REFUSED_ATTRIBUTE = {
    "unknown-event-type": "type",
    "forbidden-role": "type",
    "forbidden-source": "source",
}


def _entry(error: dict[str, str]) -> tuple[int, str]:
    head = error["field"].split(".", 1)[0]
    if head.startswith("[") and head.endswith("]") and head[1:-1].isdigit():
        return int(head[1:-1]), error["field"]
    return -1, error["field"]


def _refusal(
    refused: list[tuple[int | None, Problem]], invalid: list[dict[str, str]], total: int
) -> Problem:
    """One problem for every refused entry of a request: the first of `_PRECEDENCE` decides the
    status, and `errors` names what is wrong with each entry (`[2].time`, `[3].type`, ...)."""
    if not invalid and len(refused) == 1:
        return refused[0][1]
    errors = list(invalid)
    for index, problem in refused:
        found = problem.extensions.get("errors")
        if isinstance(found, list):
            errors += found
        else:
            where = f"[{index}]" if index is not None else ""
            attribute = _REFUSED_ATTRIBUTE.get(problem.kind, "")
            field = ".".join(part for part in (where, attribute) if part) or "(event)"
            errors.append({"field": field, "message": problem.detail})
    errors.sort(key=_entry)
    lead = min(
        (problem for _, problem in refused),
        key=lambda p: _PRECEDENCE.index(p.status) if p.status in _PRECEDENCE else 0,
        default=None,
    )
    if lead is None or lead.status == 422:
        return invalid_fields(errors, what="batch" if total > 1 else "CloudEvent")
    entries = sorted(
        {e["field"].split(".", 1)[0] for e in errors}, key=lambda e: _entry({"field": e})
    )
    extensions = {k: v for k, v in lead.extensions.items() if k != "errors"}
    return Problem(
        lead.status,
        f"{len(entries)} of the {total} events are refused ({', '.join(entries)}); "
        f"nothing was accepted. {lead.detail}",
        kind=lead.kind,
        title=lead.title,
        headers=lead.headers,
        **extensions,
        errors=errors,
    )


class Checked(NamedTuple):
    """An event as its topic carries it, its type, and its record's bytes (serialised once:
    the size is checked on them, and they are what the publisher sends)."""

    event: CloudEvent
    event_type: EventType
    encoded: bytes


def _encoded(event: CloudEvent) -> bytes:
    encoded = event.to_bytes()
    if len(encoded) > MAX_RECORD_BYTES:
        raise Problem(
            413,
            f"Event {event.id!r} is larger than {MAX_RECORD_BYTES} bytes, the most one record of the event log holds.",
            kind="payload-too-large",
        )
    return encoded


def check_events(parsed: HttpEvents, catalog: EventCatalog, who: Principal) -> list[Checked]:
    """Every event of a request as its topic carries it (see `as_published`) with its type, or
    one Problem naming every refused entry."""
    checked: list[Checked] = []
    refused: list[tuple[int | None, Problem]] = []
    for i, event in enumerate(parsed.entries):
        if event is None:
            continue
        index = i if parsed.batch else None
        try:
            event_type, data = _check_event(event, index, catalog, who)
            published = as_published(event, data, event_type, who)
            encoded = _encoded(published)
        except Problem as problem:
            refused.append((index, problem))
            continue
        checked.append(Checked(published, event_type, encoded))
    if refused or parsed.errors:
        raise _refusal(refused, parsed.errors, len(parsed.entries))
    return checked


async def _check_owners(rt: ServiceRuntime, checked: Sequence[Checked]) -> None:
    """Refuse at once events about aggregates another unit owns (the worker checks again).

    Owners come from the runtime's cache (`fazhi.web.owners`); the aggregates it does not hold
    are read concurrently, one indexed `_id` lookup each (an `$in` would scan the whole
    collection on FerretDB).
    """
    # Types any unit may post (an acknowledgement by staff of another unit) are not checked.
    owned = [(c.event, t) for c in checked if (t := c.event_type).collection and not t.any_unit]

    async def fetch(collection: str, doc_id: str) -> list[str] | None:
        doc = await rt.db[collection].find_one({"_id": doc_id}, {OWNERS: 1})
        return None if doc is None else doc.get(OWNERS)

    owners = await rt.owners.lookup(((t.collection, event.subject) for event, t in owned), fetch)
    for event, event_type in owned:
        known = owners.get((event_type.collection, event.subject))
        if known is not None and event.unit not in known:
            raise Problem(
                403,
                f"{event.subject!r} belongs to {', '.join(known)}; unit {event.unit!r} may not post about it.",
                kind="forbidden-aggregate",
            )


async def seal_personal(
    rt: ServiceRuntime, catalog: EventCatalog, checked: Sequence[Checked]
) -> list[Checked]:
    """The events as their topic carries them: each personal field sealed under its aggregate's
    data key (made on first use), one key lookup per aggregate not in the keyring's cache.
    Sealing makes a text longer by a third: the size of a sealed event is checked again."""

    def where(event: CloudEvent, event_type: EventType) -> str:
        return key_id(event_type.collection or catalog.topic, event.subject)

    personal = [c for c in checked if personal_present(c.event, c.event_type.model)]
    if not personal:
        return list(checked)
    keys = await rt.data_keys.get((where(c.event, c.event_type) for c in personal), create=True)
    sealed = []
    for c in checked:
        if personal_present(c.event, c.event_type.model):
            event = seal(c.event, c.event_type.model, keys[where(c.event, c.event_type)])
            c = Checked(event, c.event_type, _encoded(event))
        sealed.append(c)
    return sealed


def checked_as_is(event: CloudEvent, event_type: EventType) -> Checked:
    """An event the service made itself, for `seal_personal` (its size checked)."""
    return Checked(event, event_type, _encoded(event))


class EventsIngest:
    """`POST /v1/events` of one service: what it does with a request once the key is known.

    Two doors lead here, and both end in `accept`: the documented route (`events_router`, what
    the OpenAPI document shows and what answers wherever the fast door is not installed) and
    `IngestDoor`, the ASGI middleware every service app puts in front of its router, so the
    one request every department system sends (and sends most) skips FastAPI's routing and
    dependency resolution: a third of its cost per event, measured (`bench/ingest.py`).
    """

    def __init__(self, catalog: EventCatalog) -> None:
        self.catalog = catalog
        self.metrics = service_metrics(catalog.service)
        self._counters: dict[tuple[str, str], Any] = {}

    def _count(self, events: list[CloudEvent], outcome: str) -> None:
        """`<service>_events_ingested_total` by type and outcome (its children kept: a label
        lookup per event costs more than the count)."""
        for event in events:
            # Only known types become label values, so junk cannot grow the series count.
            kind = event.type if event.type in self.catalog.types else "unknown"
            counter = self._counters.get((kind, outcome))
            if counter is None:
                counter = self.metrics.ingested.labels(type=kind, outcome=outcome)
                self._counters[kind, outcome] = counter
            counter.inc()

    async def accept(self, request: Request, who: Principal, rt: ServiceRuntime) -> Response:
        catalog, metrics = self.catalog, self.metrics
        started = time.perf_counter()
        content_type = request.headers.get("content-type")
        if http_mode(content_type, request.headers) is None:
            raise Problem(
                415,
                f"Send {STRUCTURED}, {BATCH}, or binary mode (ce-* headers with application/json); "
                f"got {content_type or 'no content type'}.",
                kind="unsupported-media-type",
            )
        body = await read_body(request, limit=rt.settings.max_body_bytes)
        try:
            parsed = read_http(content_type, request.headers, body)
        except EnvelopeError as exc:
            raise Problem(400, f"Not a CloudEvent: {exc}.", kind="malformed-event") from exc
        events = parsed.events
        try:
            checked = check_events(parsed, catalog, who)
            await _check_owners(rt, checked)
            ready = await seal_personal(rt, catalog, checked)
        except Problem:
            self._count(events, "rejected")
            raise
        published = [c.event for c in ready]
        try:
            placed = await rt.publisher.publish(
                catalog.topic, published, encoded=[c.encoded for c in ready]
            )
        except PublishError as exc:
            self._count(events, "unavailable")
            log.warning("publish failed: %s", exc)
            raise Problem(
                503,
                "The event log is unavailable; nothing was accepted. Retry later with the same ids.",
                kind="unavailable",
                headers={"Retry-After": str(rt.settings.retry_after_s)},
            ) from exc
        self._count(events, "accepted")
        metrics.ingest_seconds.observe(time.perf_counter() - started)
        if rt.receipts is not None:
            rt.receipts.note(published, placed)
        answer = Accepted(
            accepted=[event.id for event in events],
            receipts=accepted_receipts(published, placed),
        )
        return Response(answer.model_dump_json(), status_code=202, media_type="application/json")


class IngestDoor:
    """ASGI middleware in front of a service app's whole middleware stack (`ServiceApp`):
    `POST <path>` goes straight to `EventsIngest.accept`, past the app's middlewares and router;
    every other request passes through untouched.

    It does what those layers would do for this one request, with their own rules: it
    authenticates as every route does (`KeyStore.authenticate`); the body limit is
    `read_body`'s, as on the route; an error becomes the answer the app's own exception handlers
    give it (`fazhi.web.problems`), an unexpected one the server-error answer (then raised on to
    the server, which logs it, as the app's error middleware does). The security headers are
    set outside both doors (`fazhi.web.headers.SecurityHeaders`). So a client cannot tell which
    door it came through (tests/unit/test_ingest_door.py)."""

    def __init__(self, app: ASGIApp, *, ingest: EventsIngest, path: str = "/v1/events") -> None:
        self.app = app
        self.ingest = ingest
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            rt = request.app.state.runtime
            who = await rt.keys.authenticate(request.headers.get("authorization"))
            response = await self.ingest.accept(request, who, rt)
        except Exception as exc:
            handler = handler_for(request.app, exc)
            if handler is None:
                await (await server_error(request, exc))(scope, receive, send)
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def events_router(ingest: EventsIngest) -> APIRouter:
    router = APIRouter(tags=["events"])
    schema: dict[str, Any] = event_schema(ingest.catalog)

    @router.post(
        "/v1/events",
        status_code=202,
        response_model=Accepted,
        summary="Post CloudEvents (structured, batch or binary mode)",
        responses={
            400: {"description": "Malformed JSON or an event type this service does not take"},
            401: {"description": "Missing or unknown API key"},
            403: {"description": "The event's source is not the key's unit"},
            413: {"description": "Body larger than the limit (1 MiB by default)"},
            415: {"description": "Not a CloudEvents content type"},
            422: {"description": "Invalid attributes or data; the problem lists the fields"},
            503: {"description": "Kafka did not acknowledge; nothing was accepted; retry later"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    STRUCTURED: {"schema": schema},
                    BATCH: {"schema": {"type": "array", "minItems": 1, "items": schema}},
                },
            }
        },
    )
    async def post_events(
        who: Caller, request: Request, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> Response:
        return await ingest.accept(request, who, rt)

    return router
