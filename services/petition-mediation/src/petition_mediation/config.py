"""Settings of the petition-mediation service (env prefix `PETITION_MEDIATION_`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings
from fazhi.topology import PETITION_MEDIATION


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix=PETITION_MEDIATION.env_prefix, extra="ignore", frozen=True
    )

    mongo_db: str = PETITION_MEDIATION.database
    worker_web_port: int = PETITION_MEDIATION.worker_port
    timer_interval_s: float = Field(default=60.0, gt=0)
    """How often the worker looks for clocks passed and schedules loaded."""
