"""The fault suite's short form: one scenario of `make faults` (a worker killed with -9 in a burst
across the four services) on a stack of its own, with a small burst. Nothing may be lost or
applied twice, and the apis answer only 202, or 503 with Retry-After."""

from __future__ import annotations

import asyncio

import pytest
from faults.harness import (
    ROOT,
    SCENARIOS,
    Ports,
    Services,
    Stack,
    demo_keys,
    plan_tasks,
    run_scenario,
)

pytestmark = pytest.mark.integration

# apart from the local stack, the tests' services and `make faults`' own stack
PORTS = Ports(
    kafka=29192, controller=29193, mongo=29117, pg=29532, api=28101, worker=28111, replica=28131
)


@pytest.fixture(scope="module")
def faults_stack() -> Stack:
    stack = Stack(ROOT / ".local" / "faults-test-stack", PORTS)
    stack.link_binaries(ROOT / ".local")
    return stack


def test_a_worker_killed_mid_burst_loses_and_doubles_nothing(faults_stack: Stack) -> None:
    scenario = next(s for s in SCENARIOS if s.name == "worker-kill")
    services = Services(faults_stack, ROOT / ".local" / "logs" / "faults-test")
    try:
        faults_stack.start()
        services.drop_databases()
        services.start_all()
        keys = demo_keys(services)
        result = asyncio.run(
            run_scenario(
                scenario,
                services,
                keys,
                plan_tasks(services),
                events=400,
                clients=8,
                catch_up_timeout_s=120,
            )
        )
    finally:
        services.stop_all()
        faults_stack.stop()
    assert result.answered_202 == result.events
    assert result.effects == result.answered_202
    assert (result.lost, result.duplicated, result.phantom) == (0, 0, 0)
    assert set(result.answers) <= {"202", "503"}, result.answers
    assert result.failures == []
