"""Each worker's reactions: every type its service owns is projected, the topics it consumes
follow from the payload classes it names, and a class that names no single type is refused."""

from __future__ import annotations

from typing import Any, cast

import pytest

import emergency.worker
import open_government.worker
import petition_mediation.worker
import supervision.worker
from fazhi.bus.batch import HandlerContext
from fazhi.bus.reactions import merge_reactions, subscribe
from fazhi.bus.worker import WorkerEntry
from fazhi.contracts.models import Payload
from fazhi.contracts.supervision import ItemChanged, TaskCompleted, TaskOverdue

WORKERS = {
    "supervision": supervision.worker.WORKER,
    "petition-mediation": petition_mediation.worker.WORKER,
    "emergency": emergency.worker.WORKER,
    "open-government": open_government.worker.WORKER,
}


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_every_type_a_service_owns_has_its_handler(name: str) -> None:
    worker: WorkerEntry = WORKERS[name]
    handled = set(worker.subscription().handlers)
    assert set(worker.catalog.types) - handled == set()


def test_supervision_consumes_the_topics_its_reactions_name() -> None:
    subscription = supervision.worker.WORKER.subscription()
    assert subscription.topics == [
        "supervision.events",
        "emergency.events",
        "mediation.events",
        "opengov.events",
    ]
    assert "emergency.alert.issued" in subscription.handlers
    assert "mediation.case.overdue" in subscription.handlers
    assert "opengov.decision.evaluated" in subscription.handlers
    assert "emergency.incident.reported" not in subscription.handlers


def test_services_that_react_to_nothing_else_consume_only_their_own_topic() -> None:
    assert emergency.worker.WORKER.subscription().topics == ["emergency.events"]


class Unknown(Payload):
    x: int


@pytest.mark.parametrize("model", [Unknown, ItemChanged])
def test_a_payload_class_of_no_single_type_is_refused(model: type[Payload]) -> None:
    async def noop(ctx: object, data: object) -> None:
        return None

    with pytest.raises(ValueError, match="must be the payload of one event type"):
        subscribe(supervision.worker.WORKER.catalog, {model: [noop], TaskOverdue: [noop]})


async def test_merged_reactions_run_every_handler_of_a_class_in_the_order_of_the_parts() -> None:
    ran: list[str] = []

    def handler(name: str) -> Any:
        async def run(ctx: HandlerContext, data: object) -> None:
            ran.append(name)

        return run

    merged = merge_reactions(
        {TaskCompleted: [handler("a")], TaskOverdue: [handler("overdue")]},
        {TaskCompleted: [handler("b"), handler("c")]},
    )
    subscription = subscribe(supervision.worker.WORKER.catalog, merged)
    await subscription.handlers["supervision.task.completed"](cast(HandlerContext, None), None)
    assert ran == ["a", "b", "c"]
