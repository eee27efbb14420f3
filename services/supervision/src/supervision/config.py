"""Settings of the supervision service (env prefix `SUPERVISION_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings
from fazhi.topology import SUPERVISION
from supervision.deliveries.domain import DEFAULT_RETRIES

DELIVERIES = SUPERVISION.side_workers[0]


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix=SUPERVISION.env_prefix, extra="ignore", frozen=True
    )

    mongo_db: str = SUPERVISION.database
    worker_web_port: int = SUPERVISION.worker_port
    ladder_days: str = Field(default="0,30,60", pattern=r"^\d+,\d+,\d+$")
    """Days an item stays open before 督办, 约谈 and 通报."""
    alert_levels: str = "orange,red"
    """Alert levels that open a supervision item at once (add `yellow`, `blue` to widen)."""
    watch_interval_s: float = Field(default=30.0, gt=0)
    """How often the deadline watcher looks at the day's due dates and the ladder."""
    stream_heartbeat_s: float = Field(default=15.0, gt=0)

    # Deliveries to the units' own systems (supervision.deliveries).
    webhook_allow_private: bool = False
    """Development and tests only: subscriptions may name plain-HTTP, loopback and private
    addresses (a way into the platform's own network otherwise)."""
    delivery_retries: str = Field(default=DEFAULT_RETRIES, pattern=r"^\d+(\.\d+)?(,\d+(\.\d+)?)*$")
    """Seconds after each failed attempt before the next; the last one failed, it gives up."""
    delivery_timeout_s: float = Field(default=10.0, gt=0, le=60)
    delivery_concurrency: int = Field(default=64, ge=1, le=1000)
    """Deliveries in flight at once per deliveries worker."""
    deliveries_group: str = "supervision-deliveries"
    """The deliveries worker's Kafka consumer group."""
    deliveries_web_port: int = DELIVERIES.port
    retry_scan_s: float = Field(default=5.0, gt=0)
    """How often the deliveries worker's leader looks for retries that fell due."""
    subscription_cache_s: float = Field(default=5.0, ge=0)
    """How long a deliveries worker trusts the subscriptions it read of a unit."""
