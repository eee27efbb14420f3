"""Settings of the open-government service (env prefix `OPEN_GOVERNMENT_`)."""

from pydantic import Field
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
    search_index_dir: str = ""
    """Where the api keeps its search index (one directory per replica: a k8s emptyDir, a
    compose tmpfs); empty: a temporary directory of the process, rebuilt at every start."""
    search_ready_wait_s: float = Field(default=120.0, ge=0)
    """How long a starting api stays unready while its search index is rebuilt or catches up;
    after that it answers ready, and searches say their results may be incomplete."""
    search_wait_s: float = Field(default=30.0, gt=0)
    """How long the index waits for an event's document to be projected before it takes the
    document as stored (an event the worker refused is never projected)."""
