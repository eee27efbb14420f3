"""Settings of the petition-mediation service (env prefix `PETITION_MEDIATION_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PETITION_MEDIATION_", extra="ignore", frozen=True)

    mongo_db: str = "mediation"
    worker_web_port: int = 8012
