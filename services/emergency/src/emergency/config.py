"""Settings of the emergency service (env prefix `EMERGENCY_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EMERGENCY_", extra="ignore", frozen=True)

    mongo_db: str = "emergency"
    worker_web_port: int = 8013
