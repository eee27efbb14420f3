"""Settings of the supervision service (env prefix `SUPERVISION_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUPERVISION_", extra="ignore", frozen=True)

    mongo_db: str = "supervision"
    worker_web_port: int = 8011
