"""The platform's topology, written down once: services, topics, partitions, databases, ports
and environment prefixes.

Pure data (no I/O, no imports beyond the standard library), so anything may read it: each
service's `config.py` (database, worker port) and `events.py` (topic), `scripts/topics.py`
(the topics it creates) and the tests (`tests/support/processes.py`). `docker-compose.yml` and
`deploy/k8s/` cannot import it; `tests/integration/test_deploy_config.py` checks them against it.

To add a service: one `ServiceTopology` below and in `SERVICES`, then what the deploy test
asks for (its compose services, its k8s folder and settings).
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITIONS = 6
"""Partitions of each event topic and of its dead-letter twin: the most worker replicas of a
service that get work."""

REPLICATION = 1
"""Replication factor of the topics on the local single-node broker (`scripts/topics.py`)."""

DLQ_SUFFIX = ".dlq"

EVENT_RETENTION_MS = -1
"""Event topics keep every event for good: the log is the record, and every read model can be
rebuilt from it. Personal data on them is sealed under a key per aggregate, so shredding a key
erases a person from every copy of the log."""

DLQ_RETENTION_DAYS = 30
"""Dead letters are kept this long (`KAFKA_DLQ_RETENTION_DAYS` changes it): long enough to be
inspected and replayed after a fix; the event itself may be posted again by its department."""

MIN_INSYNC_REPLICAS = 2
"""With three or more replicas, an acknowledged (`acks=all`) record is on at least two brokers."""

AUTH_DATABASE = "auth"
"""The database shared by every service: API keys and the holiday schedule."""

CONTAINER_API_PORT = 8000
"""The port an api listens on in its container (the image's `fazhi-api`, `$PORT`)."""

CONTAINER_WORKER_PORT = 6066
"""The worker's web (`/metrics`) port in a Kubernetes pod."""


@dataclass(frozen=True)
class SideWorker:
    """A further worker process of a service, beside its worker: a consumer group of its own
    (so it scales and lags on its own), its own `/metrics` port, started as `python -m
    <module>`."""

    name: str
    """Its name in the Procfile, compose and k8s (`<service>-<name>`)."""
    module: str
    port: int
    """Its `/metrics` port on this machine."""
    test_port: int
    """Its `/metrics` port when the tests start it."""


@dataclass(frozen=True)
class ServiceTopology:
    """One service: where it lives, what it owns and where it listens."""

    name: str
    """The folder under `services/`, and the name of its image and compose/k8s services."""
    package: str
    """The importable package; also the prefix of its metric names."""
    env_prefix: str
    """The prefix of its settings in the environment (`SUPERVISION_KAFKA_BOOTSTRAP`)."""
    database: str
    """Its own database (the default of `<PREFIX>MONGO_DB`)."""
    topic: str
    """The topic of the events it owns; records it cannot apply go to `dlq_topic`."""
    api_port: int
    """The api's port on this machine (`make run`, docker compose)."""
    worker_port: int
    """The worker's `/metrics` port on this machine (the default of `<PREFIX>WORKER_WEB_PORT`)."""
    test_api_port: int
    """The api's port when the integration and e2e tests start it."""
    test_worker_port: int
    """The worker's `/metrics` port when the tests start it."""
    partitions: int = PARTITIONS
    reacts_to: tuple[str, ...] = ()
    """Other services' topics its worker consumes (its reactions' contracts; a unit test checks
    them against the worker's subscription): lag, Kafka ACLs and autoscaling cover them too."""
    side_workers: tuple[SideWorker, ...] = ()

    @property
    def dlq_topic(self) -> str:
        return dlq_topic(self.topic)

    @property
    def consumed_topics(self) -> tuple[str, ...]:
        """Every topic its worker consumes: its own first, then those it reacts to."""
        return (self.topic, *self.reacts_to)

    @property
    def topics(self) -> tuple[str, str]:
        """The event topic and its dead-letter twin."""
        return (self.topic, self.dlq_topic)


def dlq_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


SUPERVISION = ServiceTopology(
    name="supervision",
    package="supervision",
    env_prefix="SUPERVISION_",
    database="supervision",
    topic="supervision.events",
    api_port=8001,
    worker_port=8011,
    test_api_port=18001,
    test_worker_port=18011,
    reacts_to=("emergency.events", "mediation.events", "opengov.events"),
    side_workers=(
        # Webhook deliveries to the units' own systems (supervision.deliveries).
        SideWorker("deliveries", "supervision.deliveries", port=8021, test_port=18021),
    ),
)
PETITION_MEDIATION = ServiceTopology(
    name="petition-mediation",
    package="petition_mediation",
    env_prefix="PETITION_MEDIATION_",
    database="mediation",
    topic="mediation.events",
    api_port=8002,
    worker_port=8012,
    test_api_port=18002,
    test_worker_port=18012,
)
EMERGENCY = ServiceTopology(
    name="emergency",
    package="emergency",
    env_prefix="EMERGENCY_",
    database="emergency",
    topic="emergency.events",
    api_port=8003,
    worker_port=8013,
    test_api_port=18003,
    test_worker_port=18013,
)
OPEN_GOVERNMENT = ServiceTopology(
    name="open-government",
    package="open_government",
    env_prefix="OPEN_GOVERNMENT_",
    database="opengov",
    topic="opengov.events",
    api_port=8004,
    worker_port=8014,
    test_api_port=18004,
    test_worker_port=18014,
    reacts_to=("mediation.events", "emergency.events"),
)

SERVICES: tuple[ServiceTopology, ...] = (
    SUPERVISION,
    PETITION_MEDIATION,
    EMERGENCY,
    OPEN_GOVERNMENT,
)

EVENT_TOPICS: tuple[str, ...] = tuple(s.topic for s in SERVICES)
DLQ_TOPICS: tuple[str, ...] = tuple(s.dlq_topic for s in SERVICES)
TOPICS: tuple[str, ...] = EVENT_TOPICS + DLQ_TOPICS


def service(name: str) -> ServiceTopology:
    """The service called `name` (its folder name or its package)."""
    for s in SERVICES:
        if name in (s.name, s.package):
            return s
    raise KeyError(f"no service {name!r}; known: {', '.join(s.name for s in SERVICES)}")


def consumed_topics(name: str, own: str) -> tuple[str, ...]:
    """The topics the worker of service `name` consumes; `(own,)` for a service not listed
    here (a test's)."""
    try:
        return service(name).consumed_topics
    except KeyError:
        return (own,)


def topic_configs(
    replication: int = REPLICATION, dlq_retention_days: int = DLQ_RETENTION_DAYS
) -> dict[str, dict[str, str]]:
    """Every topic's configuration: retention (for good for event topics, bounded for dead
    letters) and, when replicated, `min.insync.replicas`."""
    durable = {"min.insync.replicas": str(MIN_INSYNC_REPLICAS)} if replication >= 3 else {}
    dlq_ms = dlq_retention_days * 24 * 3600 * 1000
    return {
        **{s.topic: {"retention.ms": str(EVENT_RETENTION_MS), **durable} for s in SERVICES},
        **{s.dlq_topic: {"retention.ms": str(dlq_ms), **durable} for s in SERVICES},
    }


def topic_partitions() -> dict[str, int]:
    """Every topic to create, event topics then dead-letter twins, with its partitions."""
    return {
        **{s.topic: s.partitions for s in SERVICES},
        **{s.dlq_topic: s.partitions for s in SERVICES},
    }
