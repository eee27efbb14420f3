"""Open-government worker: projects disclosure requests, the publication registry and major
decisions (each feature's flows), and looks for requests past their due date on a timer.

Run with `python -m open_government.worker` (or `faust -A open_government.worker worker`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import faust

from fazhi.envelope import CHINA_TZ
from fazhi.publisher import KafkaPublisher, PublishError
from fazhi.reactions import Reactions
from fazhi.runtime import mongo_client
from fazhi.settings import ServiceSettings
from fazhi.worker import WorkerEntry
from open_government import decisions, documents, requests
from open_government.config import Settings
from open_government.events import CATALOG
from open_government.requests.timer import find_overdue
from open_government.store import ensure_indexes

log = logging.getLogger(__name__)

REACTIONS: Reactions = {
    **requests.flows.REACTIONS,
    **documents.flows.REACTIONS,
    **documents.published_elsewhere.REACTIONS,
    **decisions.flows.REACTIONS,
}


@dataclass(frozen=True)
class OpenGovernmentWorker(WorkerEntry):
    """The service's worker, with the overdue timer beside its agent."""

    def create(self, settings: ServiceSettings | None = None) -> faust.App:
        settings = settings or self.settings()
        app = super().create(settings)
        interval = getattr(settings, "overdue_scan_s", Settings().overdue_scan_s)
        state: dict[str, KafkaPublisher] = {}
        mongo = mongo_client(settings)

        @app.timer(interval=interval, name="opengov-overdue")  # type: ignore[untyped-decorator]
        async def overdue_tick() -> None:
            try:
                events = await find_overdue(mongo[settings.mongo_db], datetime.now(CHINA_TZ).date())
                if not events:
                    return
                if "publisher" not in state:
                    publisher = KafkaPublisher(settings.kafka(), client_id="open_government-timer")
                    await publisher.start()
                    state["publisher"] = publisher
                await state["publisher"].publish(CATALOG.topic, events)
                log.info("requests found overdue", extra={"count": len(events)})
            except (PublishError, OSError) as exc:  # the next tick tries again
                log.warning("overdue tick failed", extra={"error": repr(exc)})
            except Exception as exc:  # a timer that raises stops for good: never let it
                log.exception("overdue tick failed", extra={"error": repr(exc)})

        return app


WORKER = OpenGovernmentWorker(CATALOG, Settings, REACTIONS, ensure_indexes)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A open_government.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
