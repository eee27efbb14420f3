"""Settings of the supervision service (env prefix `SUPERVISION_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings
from fazhi.topology import SUPERVISION


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
