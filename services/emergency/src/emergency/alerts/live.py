"""Alerts pushed live to staff: WebSocket `/v1/alerts/live` and SSE `/v1/alerts/stream`, both
resumable from the last id seen (`fazhi.web.live`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, WebSocket
from fastapi.responses import StreamingResponse

from emergency.metrics import emergency_metrics
from fazhi.contracts import type_of
from fazhi.contracts.emergency import AlertAcknowledged, AlertEscalated, AlertExpired, AlertIssued
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.roles import Role
from fazhi.web import (
    MAX_TOKEN_LENGTH,
    Caller,
    KafkaFeed,
    Principal,
    Problem,
    ServiceRuntime,
    runtime,
    sse_response,
    websocket_relay,
)

ISSUED = type_of(AlertIssued)
ALERT_TYPES = frozenset(
    type_of(model) for model in (AlertIssued, AlertAcknowledged, AlertEscalated, AlertExpired)
)
"""What staff follow: alerts issued, updated and cancelled, acknowledged, escalated, ended."""
FOLLOWERS = (Role.STAFF, Role.SUPERVISOR, Role.OPERATOR)
POSITION_CHARACTERS = r"^[0-9][0-9.:,]*$"
"""What a position token is made of (the feed checks the rest: 400 for one it never gave)."""


@dataclass(frozen=True)
class AlertFeed(KafkaFeed):
    """The feed of alert events, timing each push from the event's `time`."""

    channel: str = "sse"

    async def ticks(
        self, last_event_id: str | None, *, idle_s: float | None = None
    ) -> AsyncIterator[tuple[str, CloudEvent | None]]:
        pushed = emergency_metrics().push_seconds.labels(channel=self.channel)
        async for position, event in super().ticks(last_event_id, idle_s=idle_s):
            if event is not None and event.type == ISSUED:
                pushed.observe(max((datetime.now(CHINA_TZ) - event.time).total_seconds(), 0))
            yield position, event


def may_follow(who: Principal) -> bool:
    return who.has(*FOLLOWERS)


def router(topic: str) -> APIRouter:
    router = APIRouter(tags=["alerts"])

    def alerts_feed(rt: ServiceRuntime, channel: str) -> AlertFeed:
        return AlertFeed(rt.settings.kafka(), [topic], ALERT_TYPES, name="alerts", channel=channel)

    @router.get(
        "/v1/alerts/stream",
        summary="Alert events as Server-Sent Events, resumable with Last-Event-ID",
        description="Staff, supervisor and operator keys. Each event's `id` is its position; "
        "reconnect with the last one (`Last-Event-ID`) to get every event missed, in order.",
        response_class=StreamingResponse,
        # An endless stream: schema fuzzers would wait on it (as on supervision's).
        include_in_schema=False,
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "The stream"},
            400: {"description": "A Last-Event-ID this feed never gave"},
            401: {"description": "Missing or unknown API key"},
            403: {"description": "Not a staff, supervisor or operator key"},
            422: {"description": "A Last-Event-ID not of a position's form"},
        },
    )
    async def stream(
        who: Caller,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        last_event_id: Annotated[
            str,
            Header(
                pattern=POSITION_CHARACTERS,
                max_length=MAX_TOKEN_LENGTH,
                description="The `id` of the last event received, to resume after it",
            ),
        ] = "",
    ) -> StreamingResponse:
        if not may_follow(who):
            raise Problem(403, "Alerts are followed with a staff key.", kind="forbidden-role")
        return await sse_response(alerts_feed(rt, "sse"), last_event_id or None)

    @router.websocket("/v1/alerts/live")
    async def live(websocket: WebSocket) -> None:
        rt = websocket.app.state.runtime
        assert isinstance(rt, ServiceRuntime)
        await websocket_relay(
            websocket, alerts_feed(rt, "websocket"), keys=rt.keys, allowed=may_follow
        )

    return router
