"""The log is the record: after a short scripted day in all four services, `fazhi replay
<service> --into <fresh> --verify` rebuilds each service's projections from its topics and finds
them equal to the live ones; a changed handler shows exactly the difference it makes; a
training recorded in version 1 of its contract is replayed as version 2; and the audit trail
lists, chains and catches tampering.

The shared test workers' databases hold what every earlier test did to them (some edit them
directly), so this module runs a second worker per service on fresh databases of its own, from
where the topics ended when it began (the "live" side here), stops them once they have taken the
day, and replays exactly that window of the log (`--offsets`: from the groups' first committed
offsets to their last)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient, MongoClient

from fazhi import topology
from fazhi.bus import audit
from fazhi.bus.batch import HandlerContext
from fazhi.bus.replay import Window
from fazhi.cli import audit_verify, replay_service
from fazhi.contracts.supervision import TrainingRecorded
from fazhi.web.auth import KeyStore
from supervision.worker import WORKER as SUPERVISION_WORKER
from tests.conftest import client_for
from tests.support.kafka import produce_raw, skip_to_end
from tests.support.processes import (
    AUTH_DB,
    DB_PREFIX,
    KAFKA,
    LOGS,
    MONGO,
    ROOT,
    SERVICES,
    Service,
    ServiceProcesses,
    _environment,
    event,
    structured,
    wait_until,
)
from tests.support.samples import sample

pytestmark = pytest.mark.e2e

PORTS = {name: 18031 + i for i, name in enumerate(SERVICES)}
"""The /metrics ports of this module's own workers."""
RUN = uuid.uuid4().hex[:6]


def live_db(service: Service) -> str:
    return f"{DB_PREFIX}rl_{service.db.removeprefix(DB_PREFIX)}"


def rebuilt_db(service: Service) -> str:
    return f"{DB_PREFIX}rb_{service.db.removeprefix(DB_PREFIX)}"


def group(service: Service) -> str:
    return f"{service.package}-worker-replaytest"


def environment(service: Service | None = None) -> dict[str, str]:
    """The test services' settings, this module's workers' databases and groups in place."""
    env = _environment()
    for s in SERVICES.values():
        env[f"{s.prefix}_MONGO_DB"] = live_db(s)
        env[f"{s.prefix}_WORKER_GROUP"] = group(s)
        env[f"{s.prefix}_WORKER_WEB_PORT"] = str(PORTS[s.name])
    return env


Offsets = dict[str, dict[int, int]]


@dataclass
class World:
    """This module's workers and where each service's group started (`from`) and stopped
    (`to`): the window its replay takes."""

    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    windows: dict[str, dict[str, Offsets]] = field(default_factory=dict)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def window_file(self, service: Service, where: Path) -> Path:
        path = where / f"{service.name}-window.json"
        path.write_text(json.dumps(self.windows[service.name]))
        return path


@pytest.fixture(scope="module")
def world(services_up: ServiceProcesses, mongo: MongoClient[dict[str, Any]]) -> Iterator[World]:
    """This module's workers, on fresh databases, each group from the topics' end on."""
    running = World()
    for service in SERVICES.values():
        mongo.drop_database(live_db(service))
        mongo.drop_database(rebuilt_db(service))
        consumed = topology.service(service.name).consumed_topics
        asyncio.run(skip_to_end(group(service), consumed))
        running.windows[service.name] = {"from": asyncio.run(committed(group(service)))}
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        for service in SERVICES.values():
            with (LOGS / f"{service.name}-replay-live.log").open("ab") as log:
                running.procs[service.name] = subprocess.Popen(
                    [sys.executable, "-m", f"{service.package}.worker"],
                    cwd=ROOT,
                    env=environment(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for service in SERVICES.values():
            url = f"http://127.0.0.1:{PORTS[service.name]}/readyz"
            wait_until(lambda u=url: _ok(u), timeout=120, what=f"{service.name} replay-live worker")
        yield running
    finally:
        running.stop()
        for service in SERVICES.values():
            mongo.drop_database(live_db(service))
            mongo.drop_database(rebuilt_db(service))


async def committed(group_id: str) -> Offsets:
    """The group's committed offsets, by topic and partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    offsets: Offsets = {}
    for tp, meta in found.items():
        offsets.setdefault(tp.topic, {})[tp.partition] = meta.offset
    return offsets


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


IDS = {
    "training": f"TR-{RUN}",
    "training_v1": f"TR-{RUN}-v1",
    "case": f"C-{RUN}",
    "incident": f"I-{RUN}",
    "request": f"R-{RUN}",
}


def _post(service: Service, key: str, posted: dict[str, Any]) -> None:
    with client_for(service, key) as http:
        answer = http.post("/v1/events", **structured(posted))
        assert answer.status_code == 202, answer.text


@pytest.fixture(scope="module")
def day(world: World, keys: dict[str, str], mongo: MongoClient[dict[str, Any]]) -> World:
    """The scripted day: an event or two in every service, one refused, one in version 1 of
    its contract. Once this module's workers have them (and a few seconds more for what they
    derive), the workers stop: their groups' committed offsets close each replay's window."""
    justice, emergency = keys["justice"], keys["emergency"]
    sup, med, emer, gov = (
        SERVICES[name]
        for name in ("supervision", "petition-mediation", "emergency", "open-government")
    )
    training = IDS["training"]
    _post(
        sup,
        justice,
        event(
            "supervision.training.recorded",
            "justice",
            training,
            sample("supervision.training.recorded", training),
        ),
    )
    old = IDS["training_v1"]
    v1 = event(
        "supervision.training.recorded",
        "justice",
        old,
        {**sample("supervision.training.recorded", old), "hours": 7},
    )
    del v1["data"]["study_hours"]  # version 1, as the log holds it from before version 2
    asyncio.run(produce_raw(sup.topic, [(old.encode(), json.dumps(v1).encode())]))
    case = IDS["case"]
    _post(
        med,
        justice,
        event("mediation.case.filed", "justice", case, sample("mediation.case.filed", case)),
    )
    incident = IDS["incident"]
    _post(
        emer,
        emergency,
        event(
            "emergency.incident.reported",
            "emergency-management",
            incident,
            sample("emergency.incident.reported", incident, "emergency-management"),
        ),
    )
    request = IDS["request"]
    received = sample("opengov.request.received", request)
    for _ in range(2):  # the second is refused: the request is received already
        _post(gov, justice, event("opengov.request.received", "justice", request, received))
    expected = {
        sup: ("trainings", training),
        med: ("cases", case),
        emer: ("incidents", incident),
        gov: ("requests", request),
    }
    for service, (collection, doc_id) in expected.items():
        wait_until(
            lambda s=service, c=collection, d=doc_id: mongo[live_db(s)][c].find_one({"_id": d}),
            timeout=60,
            what=f"{doc_id} projected by this module's {service.name} worker",
        )
    wait_until(
        lambda: mongo[live_db(sup)]["trainings"].find_one({"_id": old}),
        timeout=30,
        what="the version 1 training projected",
    )
    wait_until(
        lambda: mongo[live_db(gov)]["audit"].count_documents({"aggregate": request}) == 2,
        timeout=30,
        what="the refused request in the trail",
    )
    time.sleep(5)  # what the workers derive from the day (items, notices) comes back to them
    world.stop()
    for service in SERVICES.values():
        world.windows[service.name]["to"] = asyncio.run(committed(group(service)))
    return world


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fazhi.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_service_replays_into_a_fresh_database_without_a_difference(
    day: World, mongo: MongoClient[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in SERVICES.values():
        done = _cli(
            "replay",
            service.name,
            "--into",
            rebuilt_db(service),
            "--offsets",
            str(day.window_file(service, tmp_path)),
            "--verify",
            env=environment(),
        )
        assert done.returncode == 0, f"{service.name}:\n{done.stdout}\n{done.stderr}"
        assert "\n0 differences from " in done.stdout, done.stdout
        assert "replayed " in done.stdout, done.stdout
        assert " 0 missing" in done.stdout, done.stdout
    rebuilt = mongo[rebuilt_db(SERVICES["supervision"])]
    assert rebuilt["trainings"].find_one({"_id": IDS["training_v1"]})["hours"] == 7
    assert rebuilt["trainings"].find_one({"_id": IDS["training"]})["hours"] == 12
    assert mongo[rebuilt_db(SERVICES["petition-mediation"])]["cases"].find_one({"_id": IDS["case"]})

    for name, value in environment().items():
        if name.startswith("SUPERVISION_"):
            monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="is not empty"):  # the CLI's usage error (exit 2)
        asyncio.run(replay_service("supervision", rebuilt_db(SERVICES["supervision"])))


def test_a_changed_handler_shows_exactly_the_difference_it_makes(
    day: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment().items():
        if name.startswith("SUPERVISION_"):
            monkeypatch.setenv(name, value)
    (original,) = SUPERVISION_WORKER.reactions[TrainingRecorded]

    async def doubled(ctx: HandlerContext, data: TrainingRecorded) -> None:
        await original(ctx, data.model_copy(update={"study_hours": data.study_hours * 2}))

    reactions = {**SUPERVISION_WORKER.reactions, TrainingRecorded: [doubled]}
    out = io.StringIO()
    found = asyncio.run(
        replay_service(
            "supervision",
            rebuilt_db(SERVICES["supervision"]),
            verify=True,
            force=True,
            window=Window.of(day.windows["supervision"]),
            reactions=reactions,
            out=out,
            progress=None,
        )
    )
    report = out.getvalue().splitlines()
    ours = [line for line in report if RUN in line]
    assert sorted(ours) == sorted(
        [
            f"trainings/{IDS['training']}: hours: live 12.0, rebuilt 24.0",
            f"trainings/{IDS['training_v1']}: hours: live 7.0, rebuilt 14.0",
        ]
    ), out.getvalue()
    # Trainings other sessions recorded on the shared topics meanwhile differ the same way.
    others = [line for line in report if line.startswith("trainings/") and RUN not in line]
    assert all(": hours: live " in line for line in others), out.getvalue()
    assert found == len(ours) + len(others), out.getvalue()


async def _key_id(key: str) -> str:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
    try:
        principal = await KeyStore(client[AUTH_DB]).lookup(key)
    finally:
        await client.close()
    assert principal is not None
    return principal.key_id


def test_the_audit_trail_lists_chains_and_catches_tampering(
    day: World,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sup, gov = SERVICES["supervision"], SERVICES["open-government"]
    training, request = IDS["training"], IDS["request"]
    with client_for(sup, keys["supervisor"]) as http:
        trail = wait_until(
            lambda: (r := http.get(f"/v1/audit/{training}")).status_code == 200 and r.json(),
            timeout=30,
            what="the training's trail",
        )
    with client_for(gov, keys["supervisor"]) as http:
        received = wait_until(
            lambda: (
                (r := http.get(f"/v1/audit/{request}")).status_code == 200
                and len(r.json()["entries"]) == 2
                and r.json()
            ),
            timeout=30,
            what="the request's trail",
        )["entries"]
    (entry,) = trail["entries"]
    assert entry["type"] == "supervision.training.recorded"
    assert entry["outcome"] == "applied"
    assert entry["unit"] == "justice"
    assert entry["seq"] == 1
    assert entry["prev"] == ""
    assert entry["key_id"] == asyncio.run(_key_id(keys["justice"]))
    assert entry["position"]["topic"] == "supervision.events"
    assert [e["outcome"] for e in received] == ["applied", "dead_lettered"]
    assert received[1]["prev"] == received[0]["hash"]
    with client_for(gov, keys["justice"]) as http:
        assert http.get(f"/v1/audit/{request}").status_code == 200  # the request's unit
    with client_for(gov, keys["emergency"]) as http:
        assert http.get(f"/v1/audit/{request}").status_code == 404  # not its unit
    with client_for(sup, keys["justice"]) as http:
        # Trainings have no read endpoint, so no unit scope: supervisors and operators only.
        assert http.get(f"/v1/audit/{training}").status_code == 404

    env = environment()
    for name, value in env.items():
        if name.startswith("SUPERVISION_"):
            monkeypatch.setenv(name, value)
    out = io.StringIO()
    assert asyncio.run(audit_verify(["supervision"], out=out)) == 0, out.getvalue()
    assert " 0 problems" in out.getvalue(), out.getvalue()

    trail_db = mongo[live_db(sup)][audit.AUDIT]
    trail_db.update_one({"aggregate": training}, {"$set": {"outcome": "ignored"}})
    altered = _cli("audit", "verify", "supervision", training, env=env)
    assert altered.returncode == 1, altered.stdout
    assert "altered" in altered.stdout, altered.stdout
    trail_db.delete_one({"aggregate": training})
    out = io.StringIO()
    assert asyncio.run(audit_verify(["supervision"], training, out=out)) == 1, out.getvalue()
    assert "removed" in out.getvalue(), out.getvalue()
