"""Settings of the emergency service (env prefix `EMERGENCY_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings
from fazhi.topology import EMERGENCY


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=EMERGENCY.env_prefix, extra="ignore", frozen=True)

    mongo_db: str = EMERGENCY.database
    worker_web_port: int = EMERGENCY.worker_port
