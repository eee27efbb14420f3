"""Typed settings shared by every service; each service reads them under its own env prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fazhi.kafkaclient import KafkaClient, SaslMechanism, SecurityProtocol
from fazhi.topology import AUTH_DATABASE, REPLICATION

if TYPE_CHECKING:
    from fazhi.store.sealing import MasterKey


class ServiceSettings(BaseSettings):
    """Each service subclasses this with its env prefix (`SUPERVISION_KAFKA_BOOTSTRAP`, ...)
    and its own database name and worker port."""

    # A mistyped secret (a master key, a URL with a password) is never echoed in an error.
    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, hide_input_in_errors=True, populate_by_name=True
    )

    development: bool = Field(default=False, validation_alias="FAZHI_DEV")
    """`FAZHI_DEV=1` (no prefix: `make run` and the tests set it): without a master key, seal
    with the published development key. Anywhere else a service refuses to start without one."""
    kafka_bootstrap: str = "127.0.0.1:9092"
    """One broker or several, comma-separated (`127.0.0.1:9092,127.0.0.1:9094,...`)."""
    kafka_topic_replication: int = Field(default=REPLICATION, ge=1, le=5)
    """Replication of the topics the worker creates for itself (faust's leader topic): 1 on
    the local single broker, 3 on a cluster of three (`make run CLUSTER=3`, production)."""
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    """`SASL_SSL` in production (TLS and a SCRAM login), `PLAINTEXT` on the local stack."""
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str = ""
    """The CA certificate of the brokers (PEM); empty: the system's trust store."""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_db: str = "fazhi"
    auth_db: str = AUTH_DATABASE
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    retry_after_s: int = Field(default=5, gt=0)
    consumer_max_attempts: int = Field(default=3, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    batch_max_events: int = Field(default=500, ge=1, le=1000)
    """The most records the worker applies in one batch."""
    batch_max_s: float = Field(default=0.02, gt=0, le=5)
    """The longest a batch stays open for more records after its first (`fazhi.bus.batching`)."""
    batch_gap_s: float = Field(default=0.001, gt=0, le=1)
    """A batch is applied once no record came for this long (or it is full, or `batch_max_s`)."""
    aggregate_cache_size: int = Field(default=20_000, ge=0)
    """How many aggregates the worker keeps between batches (0: load them for every batch)."""
    worker_web_port: int = 0
    worker_web_bind: str = "127.0.0.1"
    session_timeout_s: float = Field(default=30.0, ge=6, le=300)
    """Kafka session timeout of the worker: how soon a dead worker's partitions move on."""
    worker_group: str = ""
    """Kafka consumer group (faust app id) of the worker; default `<service>-worker`."""
    live_tail: bool = True
    """Whether the api follows its topics (live views, consumer lag on its `/metrics`)."""
    owner_cache_ttl_s: float = Field(default=60.0, ge=0)
    """How long the api trusts the owners it read of an aggregate (0: read them every time)."""
    owner_cache_size: int = Field(default=20_000, ge=0)
    """How many aggregates' owners the api keeps (least recently used ones go first)."""
    receipt_hold_s: float = Field(default=2.0, ge=0, le=60)
    """How long the api holds its note of an accepted event before writing it, unless the
    worker has answered for the event by then (`fazhi.receipts.writer`)."""

    master_key: SecretStr = SecretStr("")
    """The key that wraps the service's data keys: 32 random bytes in base64, from a secret
    (empty: the development key, which anyone can read; see `fazhi.store.sealing`)."""
    master_key_previous: SecretStr = SecretStr("")
    """Master keys replaced by `master_key`, comma-separated: data keys wrapped under them still
    unwrap until `fazhi personal-data rewrap` has moved them."""
    data_key_cache_size: int = Field(default=20_000, ge=0)
    """How many aggregates' data keys the api and the worker keep unwrapped."""
    data_key_cache_ttl_s: float = Field(default=60.0, ge=0)
    """How long a process keeps a data key it read: a shredded key is forgotten within it."""
    personal_data_retention_days: int = Field(default=1095, ge=1)
    """Days after an aggregate's last event when its data key and private part are purged."""
    retention_interval_s: float = Field(default=3600.0, ge=0)
    """How often the worker runs the retention job (0: never; `fazhi personal-data purge`)."""

    @field_validator("master_key", "master_key_previous")
    @classmethod
    def _master_keys(cls, value: SecretStr) -> SecretStr:
        from fazhi.store.sealing import MasterKey  # cryptography only where a key is read

        for key in value.get_secret_value().split(","):
            if key.strip():
                MasterKey(key.strip())
        return value

    def master(self) -> MasterKey:
        """The master key that wraps the service's data keys (see `fazhi.store.sealing`); without one,
        the development key under `FAZHI_DEV=1` and `MasterKeyError` anywhere else."""
        from fazhi.store.sealing import DEVELOPMENT_MASTER_KEY, MasterKey, MasterKeyError

        secret = self.master_key.get_secret_value()
        if not secret and not self.development:
            raise MasterKeyError(
                "no master key: set <PREFIX>MASTER_KEY to 32 random bytes in base64 "
                "(openssl rand -base64 32) from a secret; FAZHI_DEV=1 seals with the published "
                "development key, for a development machine only"
            )
        previous = self.master_key_previous.get_secret_value().split(",")
        return MasterKey(
            secret or DEVELOPMENT_MASTER_KEY, [key.strip() for key in previous if key.strip()]
        )

    def kafka(self) -> KafkaClient:
        """How this service's clients reach Kafka (`fazhi.kafkaclient`)."""
        return KafkaClient(
            bootstrap_servers=self.kafka_bootstrap,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password.get_secret_value(),
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
        )

    def consumer_group(self, service: str) -> str:
        return self.worker_group or f"{service}-worker"
