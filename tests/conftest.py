"""Fixtures shared by the integration and e2e tests: the real stack and the service processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from supervision.deliveries.domain import TOPICS as DELIVERY_TOPICS
from tests.support.browser import browser, context, page, phone_page  # noqa: F401 (fixtures)
from tests.support.kafka import skip_to_end
from tests.support.processes import (
    AUTH_DB,
    DELIVERIES_GROUP,
    MONGO,
    ROOT,
    SERVICES,
    Service,
    ServiceProcesses,
)

# The apps, workers and CLI runs of the tests seal with the published development key: without
# FAZHI_DEV a service refuses to start with no master key (the subprocesses inherit it).
os.environ.setdefault("FAZHI_DEV", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The tests that change the shared test data others read (the demo's week completes plan
    # milestones, files cases, issues alerts) run after the others; the broker-outage tests stop
    # Kafka: they run last of all.
    def order(item: pytest.Item) -> int:
        if item.get_closest_marker("outage") is not None:
            return 2
        return 1 if item.get_closest_marker("late") is not None else 0

    items.sort(key=order)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "outage: stops a server of the stack; runs last")
    config.addinivalue_line(
        "markers", "late: changes the shared test data other tests read; runs after them"
    )


@pytest.fixture(scope="session")
def mongo() -> Iterator[MongoClient[dict[str, Any]]]:
    # No test query takes a minute: one that does found a stuck server, and fails the test
    # instead of hanging the run.
    client: MongoClient[dict[str, Any]] = MongoClient(
        MONGO, serverSelectionTimeoutMS=5000, socketTimeoutMS=60_000, tz_aware=True
    )
    try:
        client.admin.command("ping")
    except PyMongoError as exc:
        pytest.fail(
            f"MongoDB (FerretDB) is not reachable at {MONGO}: start it with `make stack` ({exc})"
        )
    yield client
    client.close()


def require_answering(db: str) -> None:
    """Fail if FerretDB no longer answers reads of `db`: dropping it would then hang, and could
    stall the whole server for the other users of the stack."""
    probe: MongoClient[dict[str, Any]] = MongoClient(
        MONGO, serverSelectionTimeoutMS=5000, socketTimeoutMS=10_000
    )
    try:
        for name in probe[db].list_collection_names():
            probe[db][name].find_one({}, {"_id": 1})
    except PyMongoError as exc:
        pytest.fail(
            f"MongoDB (FerretDB) does not answer reads of database {db!r} ({exc}): restart "
            "FerretDB, or run with FAZHI_TEST_DB_PREFIX set to a prefix of fresh databases"
        )
    finally:
        probe.close()


@pytest.fixture(scope="session")
def services_up(mongo: MongoClient[dict[str, Any]]) -> Iterator[ServiceProcesses]:
    # Before dropping anything: another session's services would be using these databases.
    ServiceProcesses.require_free_ports()
    for db in (*(service.db for service in SERVICES.values()), AUTH_DB):
        require_answering(db)
        mongo.drop_database(db)
    for service in SERVICES.values():
        asyncio.run(skip_to_end(service.worker_group, [service.topic]))
    asyncio.run(skip_to_end(DELIVERIES_GROUP, list(DELIVERY_TOPICS)))
    running = ServiceProcesses()
    try:
        running.start_all()
        yield running
    finally:
        running.stop_all()


def create_key(unit: str, *roles: str) -> str:
    argv = [
        sys.executable,
        "-m",
        "fazhi.cli",
        "--auth-db",
        AUTH_DB,
        "keys",
        "create",
        "--unit",
        unit,
    ]
    for role in roles:
        argv += ["--role", role]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="session")
def keys(services_up: ServiceProcesses) -> dict[str, str]:
    """API keys: `justice` and `emergency-management` departments, a staff member, an operator."""
    return {
        "justice": create_key("justice", "department"),
        "emergency": create_key("emergency-management", "department"),
        "staff": create_key("emergency-management", "staff"),
        "supervisor": create_key("gov-office", "supervisor"),
        "operator": create_key("rule-of-law-office", "operator"),
    }


def client_for(service: Service, key: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=service.url, headers=headers, timeout=30)


@pytest.fixture
def supervision() -> Service:
    return SERVICES["supervision"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Counts per suite, so a run shows at a glance that integration and e2e tests ran."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            suite = report.nodeid.split("/")[1] if report.nodeid.startswith("tests/") else "other"
            if outcome == "passed" and getattr(report, "when", "call") != "call":
                continue
            counts.setdefault(suite, {}).setdefault(outcome, 0)
            counts[suite][outcome] += 1
    terminalreporter.section("tests per suite")
    for suite in (
        "unit",
        "integration",
        "e2e",
        *sorted(set(counts) - {"unit", "integration", "e2e"}),
    ):
        found = counts.get(suite, {})
        terminalreporter.write_line(
            f"{suite}: "
            + ", ".join(f"{found.get(k, 0)} {k}" for k in ("passed", "failed", "error", "skipped"))
        )
