"""How one portal instance behaves: the archive Options plus what is only the web's business."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pipeline.options import Options

from .citizens.settings import RequestSettings


class PortalSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    options: Options
    # Behind a TLS-terminating proxy: send cookies with the Secure flag (browsers then keep them off plain http).
    secure_cookies: bool = False
    session_hours: float = Field(default=12.0, gt=0)  # a session ends after this long without a request
    login_failures: int = Field(default=5, ge=1)  # failed logins allowed per address and user name ...
    login_window_minutes: float = Field(default=15.0, gt=0)  # ... within this many minutes
    page_size: int = Field(default=20, ge=1, le=100)  # hits per result page
    # Citizens' requests (`requests:` and `smtp:` in the archive's retrodig.yaml when not given here).
    requests: RequestSettings | None = None
