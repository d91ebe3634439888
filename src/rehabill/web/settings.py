"""Web settings, read from ``REHABILL_*`` environment variables or passed in by the caller.

There is no import-time settings object: ``rehabill serve`` and tests build their own and hand
it to ``create_app``. A missing, short or well-known secret key is refused (a signed session
cookie is only as good as its key).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32
_KNOWN_WEAK = frozenset({"changethis", "secret", "changeme", "password", "development"})


class WebSettings(BaseSettings):
    """What the web app needs to run.

    Attributes:
        secret_key: signs session cookies and CSRF tokens (at least 32 characters).
        secure_cookies: mark cookies ``Secure`` (set it whenever the app is served over HTTPS).
        session_minutes: how long a login lasts without activity.
        site_name: shown in the page header.
    """

    model_config = SettingsConfigDict(env_prefix="REHABILL_", extra="ignore")

    secret_key: SecretStr
    secure_cookies: bool = False
    session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    site_name: str = "rehabill"

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw.strip().lower() in _KNOWN_WEAK or len(raw) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"REHABILL_SECRET_KEY must be a random string of at least {MIN_SECRET_LENGTH} "
                "characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return value
