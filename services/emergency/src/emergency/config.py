"""Settings of the emergency service (env prefix `EMERGENCY_`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from emergency.domain import ACKNOWLEDGEMENT_WINDOWS
from fazhi.contracts.emergency import AlertLevel
from fazhi.settings import ServiceSettings
from fazhi.topology import EMERGENCY


def _seconds(level: AlertLevel) -> float | None:
    window = ACKNOWLEDGEMENT_WINDOWS[level]
    return window.total_seconds() if window is not None else None


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=EMERGENCY.env_prefix, extra="ignore", frozen=True)

    mongo_db: str = EMERGENCY.database
    worker_web_port: int = EMERGENCY.worker_port
    ack_window_red_s: float | None = Field(default=_seconds(AlertLevel.RED), gt=0)
    ack_window_orange_s: float | None = Field(default=_seconds(AlertLevel.ORANGE), gt=0)
    ack_window_yellow_s: float | None = Field(default=_seconds(AlertLevel.YELLOW), gt=0)
    ack_window_blue_s: float | None = Field(default=_seconds(AlertLevel.BLUE), gt=0)
    """Acknowledgement windows by level before an alert is escalated (unset: never)."""
    affected_persons_retention_days: int = Field(default=180, ge=1, le=3650)
    """How long after an incident closes the persons it names are kept (measure 十三)."""
    timer_interval_s: float = Field(default=1.0, gt=0, le=60)
    """How often the worker looks for alerts that expired or went unacknowledged."""

    def ack_windows(self) -> dict[AlertLevel, timedelta]:
        windows = {
            AlertLevel.RED: self.ack_window_red_s,
            AlertLevel.ORANGE: self.ack_window_orange_s,
            AlertLevel.YELLOW: self.ack_window_yellow_s,
            AlertLevel.BLUE: self.ack_window_blue_s,
        }
        return {level: timedelta(seconds=s) for level, s in windows.items() if s is not None}
