"""Settings of the open-government service (env prefix `OPEN_GOVERNMENT_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OPEN_GOVERNMENT_", extra="ignore", frozen=True)

    mongo_db: str = "opengov"
    worker_web_port: int = 8014
