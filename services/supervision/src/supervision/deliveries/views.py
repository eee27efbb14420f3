"""Subscriptions and their deliveries (`/v1/subscriptions`), and a unit's live feed of the same
notices (`GET /v1/units/{unit}/stream`, SSE, resumable).

A subscription belongs to one unit: its keys (department keys for receipts, items, tasks and
clocks; staff keys for alerts) and operator keys make, read and change it; any other key gets
the 404 an unknown id gets."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aiokafka import ConsumerRecord
from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from fazhi.contracts import derived_event, topic_of
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.contracts.models import UnitCode
from fazhi.contracts.supervision import Escalation, ItemClosed, ItemKind, ItemLevel, ItemStatus
from fazhi.roles import Role
from fazhi.web import (
    Caller,
    KafkaFeed,
    PageQuery,
    Principal,
    Problem,
    ServiceRuntime,
    fetch_page,
    runtime,
    sse_response,
)
from supervision.config import Settings
from supervision.deliveries import signing
from supervision.deliveries.dispatch import failing_item_id, redelivery
from supervision.deliveries.domain import (
    KIND_ROLES,
    TOPICS,
    Kind,
    UrlPolicy,
    UrlRefused,
    record_notices,
)
from supervision.deliveries.store import DELIVERIES, SUBSCRIPTIONS
from supervision.responses import documented, strict_query
from supervision.store import ITEMS

SUB_ID = r"^sub_[0-9a-f]{24}$"
MSG_ID = r"^msg_[0-9a-f]{32}$"
READ_SCOPE = "department and staff keys of the subscribed unit, operator keys; any other key: 404"
READ_DESCRIPTION = f"Who reads it: {READ_SCOPE}, exactly as for an unknown id."
READ_EXTRA: dict[str, Any] = {"x-fazhi-read-scope": READ_SCOPE}
ROTATION_GRACE = timedelta(hours=24)
"""How long the previous secret still signs deliveries after a rotation."""
SHOWN = (
    "unit",
    "url",
    "kinds",
    "status",
    "created_at",
    "last_success_at",
    "disabled_at",
    "disabled_reason",
    "previous_until",
)
DELIVERY_FIELDS = (
    "subscription_id",
    "kind",
    "type",
    "event_id",
    "status",
    "tries",
    "attempts",
    "created_at",
    "delivered_at",
    "due_at",
    "gave_up_at",
    "error",
)


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2048, pattern=r"^https?://", description="HTTPS URL of the unit's receiver"
    )
    kinds: list[Kind] = Field(min_length=1, max_length=len(Kind))
    unit: UnitCode | None = Field(
        default=None, description="Operators: the unit subscribed (default the key's own)"
    )


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    kinds: list[Kind] | None = Field(default=None, min_length=1, max_length=len(Kind))
    status: Literal["active", "disabled"] | None = None


def _policy(rt: ServiceRuntime) -> UrlPolicy:
    settings = rt.settings
    return UrlPolicy(
        allow_private=isinstance(settings, Settings) and settings.webhook_allow_private
    )


def _url(rt: ServiceRuntime, url: str) -> str:
    try:
        return _policy(rt).check(url)
    except UrlRefused as exc:
        raise Problem(
            422,
            f"Deliveries cannot go to this URL: {exc}.",
            kind="validation-error",
            errors=[{"field": "url", "message": str(exc)}],
        ) from exc


def _check_kinds(who: Principal, kinds: list[Kind]) -> list[str]:
    chosen = list(dict.fromkeys(kinds))
    if who.has(Role.OPERATOR):
        return [str(k) for k in chosen]
    refused = [k for k in chosen if not who.roles & KIND_ROLES[k]]
    if refused:
        needs = "; ".join(
            f"{k}: {', '.join(sorted(KIND_ROLES[k]))} or operator keys" for k in refused
        )
        raise Problem(403, f"This key may not subscribe to {needs}.", kind="forbidden-role")
    return [str(k) for k in chosen]


def _may_manage(who: Principal, sub: dict[str, Any] | None) -> bool:
    if sub is None:
        return False
    if who.has(Role.OPERATOR):
        return True
    return who.unit == sub.get("unit") and who.has(Role.DEPARTMENT, Role.STAFF)


def _shown(sub: dict[str, Any]) -> dict[str, Any]:
    return {"subscription_id": sub["_id"], **{k: sub.get(k) for k in SHOWN if k in sub}}


def _delivery(doc: dict[str, Any]) -> dict[str, Any]:
    found = {"delivery_id": doc["_id"], **{k: doc.get(k) for k in DELIVERY_FIELDS if k in doc}}
    if "body" in doc:
        found["body"] = doc["body"]
    return found


async def _subscription(rt: ServiceRuntime, who: Principal, sub_id: str) -> dict[str, Any]:
    sub = await rt.db[SUBSCRIPTIONS].find_one({"_id": sub_id})
    if not _may_manage(who, sub):
        raise Problem(404, f"No subscription {sub_id!r} is known.", kind="not-found")
    assert sub is not None
    return sub


Runtime = Annotated[ServiceRuntime, Depends(runtime)]
SubId = Annotated[str, Path(pattern=SUB_ID, description="A subscription's id (`sub_…`)")]
MsgId = Annotated[str, Path(pattern=MSG_ID, description="A delivery's id, its `webhook-id`")]
SUB_ANSWERS = {
    **documented(),
    400: {"description": "A body that is not JSON"},
    403: {"description": "This key may not subscribe to one of the kinds"},
    404: {"description": "No such subscription, or not this key's (the same answer)"},
}


def router() -> APIRouter:
    api = APIRouter(tags=["subscriptions"])

    @api.post(
        "/v1/subscriptions",
        status_code=201,
        summary="Subscribe a unit's system to deliveries (webhooks, Standard Webhooks signed)",
        description="The answer shows the signing secret once. Kinds: `receipts` (the unit's "
        "refused events), `items` (supervision items opened, escalated, closed against it), "
        "`tasks` (reminders and overdue notices of its plan tasks), `clocks` (statutory clocks "
        "passed on its cases and requests), `alerts` (emergency alerts, staff keys).",
        responses=SUB_ANSWERS,
    )
    async def subscribe(who: Caller, body: SubscriptionCreate, rt: Runtime) -> dict[str, Any]:
        unit = who.unit
        if body.unit is not None and body.unit != who.unit:
            if not who.has(Role.OPERATOR):
                raise Problem(
                    403, f"This key may only subscribe unit {who.unit!r}.", kind="forbidden-unit"
                )
            unit = body.unit
        if not who.has(Role.OPERATOR, Role.DEPARTMENT, Role.STAFF):
            raise Problem(
                403, "Subscribing needs a department, staff or operator key.", kind="forbidden-role"
            )
        kinds = _check_kinds(who, body.kinds)
        url = _url(rt, body.url)
        sub_id = "sub_" + secrets.token_hex(12)
        secret = signing.new_secret()
        now = datetime.now(CHINA_TZ)
        doc = {
            "_id": sub_id,
            "unit": unit,
            "url": url,
            "kinds": kinds,
            "staff": Kind.ALERTS in kinds,
            "status": "active",
            "created_at": now,
            "created_by": who.key_id,
            "secret": signing.wrap(rt.settings.master(), sub_id, secret, now.date()),
        }
        await rt.db[SUBSCRIPTIONS].insert_one(doc)
        return {**_shown(doc), "secret": secret}

    @api.get(
        "/v1/subscriptions",
        summary="The subscriptions of the key's unit (operators: of `unit`, or all)",
        responses=documented(paged=True),
        dependencies=[Depends(strict_query("unit", "limit", "cursor"))],
    )
    async def list_subscriptions(
        who: Caller,
        page: PageQuery,
        rt: Runtime,
        unit: Annotated[UnitCode | None, Query(description="Operators: one unit's")] = None,
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if not who.has(Role.OPERATOR):
            found["unit"] = who.unit
        elif unit is not None:
            found["unit"] = unit
        result = await fetch_page(
            rt.db[SUBSCRIPTIONS],
            found,
            page,
            key="created_at",
            descending=True,
            projection={"secret": 0, "previous_secret": 0},
        )
        return result.body([_shown(doc) for doc in result.items])

    @api.get(
        "/v1/subscriptions/{sub_id}",
        summary="One subscription",
        responses=SUB_ANSWERS,
        description=READ_DESCRIPTION,
        openapi_extra=READ_EXTRA,
    )
    async def get_subscription(who: Caller, sub_id: SubId, rt: Runtime) -> dict[str, Any]:
        return _shown(await _subscription(rt, who, sub_id))

    @api.patch(
        "/v1/subscriptions/{sub_id}",
        summary="Change a subscription's URL or kinds, or enable it again after it was disabled",
        responses=SUB_ANSWERS,
    )
    async def update_subscription(
        who: Caller, sub_id: SubId, body: SubscriptionUpdate, rt: Runtime
    ) -> dict[str, Any]:
        sub = await _subscription(rt, who, sub_id)
        changes: dict[str, Any] = {}
        if body.url is not None:
            changes["url"] = _url(rt, body.url)
        if body.kinds is not None:
            changes["kinds"] = _check_kinds(who, body.kinds)
            changes["staff"] = Kind.ALERTS in changes["kinds"]
        if body.status is not None and body.status != sub.get("status"):
            changes["status"] = body.status
            if body.status == "active":
                changes.update(disabled_at=None, disabled_reason=None)
                await _close_failing_item(rt, sub)
            else:
                changes.update(disabled_at=datetime.now(CHINA_TZ), disabled_reason="停用")
        if changes:
            await rt.db[SUBSCRIPTIONS].update_one({"_id": sub_id}, {"$set": changes})
        return _shown({**sub, **changes})

    @api.delete(
        "/v1/subscriptions/{sub_id}",
        status_code=204,
        summary="Remove a subscription (its pending deliveries are dropped)",
        responses=SUB_ANSWERS,
    )
    async def delete_subscription(who: Caller, sub_id: SubId, rt: Runtime) -> Response:
        await _subscription(rt, who, sub_id)
        await rt.db[SUBSCRIPTIONS].delete_one({"_id": sub_id})
        return Response(status_code=204)

    @api.post(
        "/v1/subscriptions/{sub_id}/secret",
        summary="Rotate the signing secret: the new one is shown once; the old one still "
        "signs beside it for 24 hours",
        responses=SUB_ANSWERS,
    )
    async def rotate_secret(who: Caller, sub_id: SubId, rt: Runtime) -> dict[str, Any]:
        sub = await _subscription(rt, who, sub_id)
        secret = signing.new_secret()
        now = datetime.now(CHINA_TZ)
        changes = {
            "secret": signing.wrap(rt.settings.master(), sub_id, secret, now.date()),
            "previous_secret": sub["secret"],
            "previous_until": now + ROTATION_GRACE,
        }
        await rt.db[SUBSCRIPTIONS].update_one({"_id": sub_id}, {"$set": changes})
        return {**_shown({**sub, **changes}), "secret": secret}

    @api.get(
        "/v1/subscriptions/{sub_id}/deliveries",
        summary="The delivery log of a subscription, newest first: attempts, status codes, latency",
        responses={**SUB_ANSWERS, **documented(paged=True)},
        dependencies=[Depends(strict_query("status", "limit", "cursor"))],
        description=READ_DESCRIPTION,
        openapi_extra=READ_EXTRA,
    )
    async def list_deliveries(
        who: Caller,
        sub_id: SubId,
        page: PageQuery,
        rt: Runtime,
        status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    ) -> dict[str, Any]:
        await _subscription(rt, who, sub_id)
        found: dict[str, Any] = {"subscription_id": sub_id}
        if status is not None:
            found["status"] = status
        result = await fetch_page(
            rt.db[DELIVERIES],
            found,
            page,
            key="created_at",
            descending=True,
            projection={"body": 0},
        )
        return result.body([_delivery(doc) for doc in result.items])

    @api.get(
        "/v1/subscriptions/{sub_id}/deliveries/{delivery_id}",
        summary="One delivery, with its body and attempts",
        responses=SUB_ANSWERS,
        description=READ_DESCRIPTION,
        openapi_extra=READ_EXTRA,
    )
    async def get_delivery(
        who: Caller, sub_id: SubId, delivery_id: MsgId, rt: Runtime
    ) -> dict[str, Any]:
        await _subscription(rt, who, sub_id)
        doc = await rt.db[DELIVERIES].find_one({"_id": delivery_id})
        if doc is None or doc.get("subscription_id") != sub_id:
            raise Problem(404, f"No delivery {delivery_id!r} is known.", kind="not-found")
        return _delivery(doc)

    @api.post(
        "/v1/subscriptions/{sub_id}/deliveries/{delivery_id}/redeliver",
        status_code=202,
        summary="Deliver again (one attempt, within seconds), whatever became of it before",
        responses=SUB_ANSWERS,
    )
    async def redeliver(
        who: Caller, sub_id: SubId, delivery_id: MsgId, rt: Runtime
    ) -> dict[str, Any]:
        sub = await _subscription(rt, who, sub_id)
        if sub.get("status") != "active":
            raise Problem(
                409, "The subscription is disabled: enable it first.", kind="subscription-disabled"
            )
        result = await rt.db[DELIVERIES].update_one(
            {"_id": delivery_id, "subscription_id": sub_id},
            {"$set": redelivery(datetime.now(CHINA_TZ))},
        )
        if result.matched_count != 1:
            raise Problem(404, f"No delivery {delivery_id!r} is known.", kind="not-found")
        return {"delivery_id": delivery_id, "status": "pending"}

    @api.get(
        "/v1/units/{unit}/stream",
        summary="Live feed (SSE) of what the unit is told: the deliveries of every kind",
        response_class=StreamingResponse,
        include_in_schema=False,  # an endless stream (README, "Live")
    )
    async def unit_stream(
        who: Caller,
        unit: Annotated[UnitCode, Path()],
        rt: Runtime,
        kinds: Annotated[
            str | None, Query(description="Comma-separated kinds (default all)")
        ] = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        if not (who.has(Role.OPERATOR, Role.SUPERVISOR) or who.unit == unit):
            raise Problem(404, f"No feed of unit {unit!r} for this key.", kind="not-found")
        wanted = _kinds(kinds)
        staff = who.has(Role.STAFF, Role.OPERATOR, Role.SUPERVISOR)

        def render(record: ConsumerRecord[bytes, bytes]) -> CloudEvent | None:
            at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
            for notice in record_notices(record.topic, list(record.headers), record.value, at):
                if notice.concerns(unit, wanted, staff):
                    return notice.event
            return None

        settings = rt.settings
        heartbeat = settings.stream_heartbeat_s if isinstance(settings, Settings) else 15.0
        feed = KafkaFeed(settings.kafka_bootstrap, list(TOPICS), (), name="units", render=render)
        return await sse_response(feed, last_event_id, heartbeat_s=heartbeat)

    return api


def _kinds(text: str | None) -> list[str]:
    if not text:
        return [str(k) for k in Kind]
    found = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [k for k in found if k not in set(Kind)]
    if unknown:
        raise Problem(
            422,
            f"Unknown kinds {unknown}; the kinds are {', '.join(Kind)}.",
            kind="validation-error",
            errors=[{"field": "query.kinds", "message": f"unknown: {', '.join(unknown)}"}],
        )
    return found


async def _close_failing_item(rt: ServiceRuntime, sub: dict[str, Any]) -> None:
    """A subscription enabled again closes the item its failure opened, if still open."""
    item_id = failing_item_id(sub["_id"])
    item = await rt.db[ITEMS].find_one({"_id": item_id})
    if item is None or item.get("status") == ItemStatus.CLOSED:
        return
    now = datetime.now(CHINA_TZ)
    closed = ItemClosed(
        item_id=item_id,
        kind=ItemKind.DELIVERY_FAILING,
        unit=sub["unit"],
        level=ItemLevel(item.get("level", ItemLevel.BLUE)),
        escalation=Escalation(item.get("escalation", Escalation.SUPERVISE)),
        resolution="推送订阅已恢复",
    )
    event = derived_event(
        closed,
        cause=f"{sub['_id']} {now.isoformat()}",
        rule=item_id,
        source=f"/units/{sub['unit']}",
        time=now,
    )
    await rt.publisher.publish(topic_of(ItemClosed), [event])
