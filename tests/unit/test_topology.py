"""The topology registry: consistent in itself, and what the services and scripts read."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from fazhi import topology
from fazhi.store.catalog import dlq_topic
from fazhi.topology import SERVICES, ServiceTopology

ROOT = Path(__file__).resolve().parents[2]


def test_every_name_port_database_and_topic_is_distinct() -> None:
    for field in ("name", "package", "env_prefix", "database", "topic"):
        values = [getattr(s, field) for s in SERVICES]
        assert len(values) == len(set(values)), field
    ports = [
        port
        for s in SERVICES
        for port in (s.api_port, s.worker_port, s.test_api_port, s.test_worker_port)
    ]
    assert len(ports) == len(set(ports)), ports
    assert topology.AUTH_DATABASE not in {s.database for s in SERVICES}
    assert len(topology.TOPICS) == len(set(topology.TOPICS)) == 2 * len(SERVICES)


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_names_follow_the_conventions(svc: ServiceTopology) -> None:
    assert svc.package == svc.name.replace("-", "_")
    assert svc.env_prefix == svc.package.upper() + "_"
    assert svc.topic.endswith(".events")
    assert svc.dlq_topic == svc.topic + ".dlq" == dlq_topic(svc.topic)
    assert svc.topics == (svc.topic, svc.dlq_topic)
    assert svc.partitions >= 1
    assert topology.service(svc.name) is topology.service(svc.package) is svc


def test_every_service_folder_is_registered() -> None:
    folders = {p.parents[1].name: p.name for p in ROOT.glob("services/*/src/*") if p.is_dir()}
    assert folders == {s.name: s.package for s in SERVICES}


def test_unknown_service_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no service 'nope'"):
        topology.service("nope")


def test_topic_partitions_lists_event_topics_then_dead_letter_twins() -> None:
    partitions = topology.topic_partitions()
    assert tuple(partitions) == topology.TOPICS == topology.EVENT_TOPICS + topology.DLQ_TOPICS
    assert set(partitions.values()) == {topology.PARTITIONS}


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_the_service_reads_its_settings_and_topic_from_the_registry(
    svc: ServiceTopology, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MONGO_DB", "WORKER_WEB_PORT", "AUTH_DB"):
        monkeypatch.delenv(svc.env_prefix + name, raising=False)
    settings = importlib.import_module(f"{svc.package}.config").Settings()
    assert settings.model_config["env_prefix"] == svc.env_prefix
    assert settings.mongo_db == svc.database
    assert settings.worker_web_port == svc.worker_port
    assert settings.auth_db == topology.AUTH_DATABASE
    catalog = importlib.import_module(f"{svc.package}.events").CATALOG
    assert catalog.service == svc.package
    assert catalog.topic == svc.topic
    assert catalog.dlq_topic == svc.dlq_topic


def test_topics_script_creates_the_registry_topics() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        topics = importlib.import_module("topics")
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert topics.TOPICS == topology.TOPICS
    assert topics.DEFAULT_REPLICATION == topology.REPLICATION


def test_the_registry_loads_alone() -> None:
    """Pure data: importing it loads neither pydantic nor Kafka nor web code."""
    code = (
        "import sys; import fazhi.topology; "
        "print(sorted(m for m in ('pydantic', 'faust', 'aiokafka', 'fastapi', 'pymongo') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("svc", topology.SERVICES, ids=lambda s: s.name)
def test_the_registry_names_every_topic_each_worker_consumes(svc: topology.ServiceTopology) -> None:
    """The deploy files (lag, Kafka ACLs, autoscaling) are made from `consumed_topics`: a
    reaction to another topic added to a worker must be added there too."""
    worker = importlib.import_module(f"{svc.package}.worker").WORKER
    assert worker.subscription().topics[0] == svc.topic
    assert set(worker.subscription().topics) == set(svc.consumed_topics), (
        f"add the topics {svc.name}'s worker consumes to its reacts_to in fazhi.topology"
    )
