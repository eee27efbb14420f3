"""Settings of the supervision service (env prefix `SUPERVISION_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings
from fazhi.topology import SUPERVISION


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix=SUPERVISION.env_prefix, extra="ignore", frozen=True
    )

    mongo_db: str = SUPERVISION.database
    worker_web_port: int = SUPERVISION.worker_port
