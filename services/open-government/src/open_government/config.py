"""Settings of the open-government service (env prefix `OPEN_GOVERNMENT_`)."""

from pydantic_settings import SettingsConfigDict

from fazhi.settings import ServiceSettings
from fazhi.topology import OPEN_GOVERNMENT


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix=OPEN_GOVERNMENT.env_prefix, extra="ignore", frozen=True
    )

    mongo_db: str = OPEN_GOVERNMENT.database
    worker_web_port: int = OPEN_GOVERNMENT.worker_port
    overdue_scan_s: float = 300.0
    """How often the worker looks for disclosure requests past their due date."""
