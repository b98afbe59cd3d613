"""Settings from the environment and the tenants file (names and formats in DESIGN.md).

Read once at startup and passed down; nothing reads ``os.environ`` after this module.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["ConfigError", "Settings", "TenantConfig", "load_settings"]


class ConfigError(ValueError):
    """The environment or the tenants file is wrong; the message says which setting."""


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    org_api_key: str | None = Field(default=None, repr=False)
    webhook_secret: str | None = Field(default=None, repr=False)
    twilio_numbers: tuple[str, ...] = ()
    language: str | None = None
    reminder_lead_hours: float = 24
    staff_telegram_chat_id: int | None = None
    ask_practitioner: bool = False
    """Ask every customer to pick a practitioner, instead of only when they name one."""
    aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Service id -> other names customers use for it, in any language ("deep tissue", "masaje")."""
    info: dict[str, str] = Field(default_factory=dict)
    """Answers by topic, in the tenant's language: ``address``, ``phone``, ``prices``, ``policies``, or
    any other topic name; the bot gives them when asked."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    cadence_base_url: str | None = None
    default_tenant: str | None = None
    tenants: dict[str, TenantConfig] = Field(default_factory=dict)
    database: str = "cadence-bot.db"
    default_language: str = "en"
    telegram_bot_token: str | None = Field(default=None, repr=False)
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    telegram_api_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = Field(default=None, repr=False)
    twilio_api_base_url: str | None = None
    public_url: str | None = None
    metrics_token: str | None = Field(default=None, repr=False)
    """The bearer token ``GET /metrics`` requires (docs/metrics.md)."""

    def tenant(self, slug: str) -> TenantConfig:
        """The tenant's settings; a tenant nobody configured gets the defaults."""
        return self.tenants.get(slug) or TenantConfig(slug=slug)


def _read_tenants(path: Path) -> dict[str, TenantConfig]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"BOT_TENANTS_FILE {path}: {exc}") from exc
    tenants: dict[str, TenantConfig] = {}
    for slug, table in (data.get("tenants") or {}).items():
        try:
            tenants[slug] = TenantConfig.model_validate({"slug": slug, **table})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or slug
            raise ConfigError(f"BOT_TENANTS_FILE {path}, tenant {slug}, {where}: {first['msg']}") from exc
    return tenants


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from an environment mapping (``os.environ`` at the edge, a dict in tests)."""

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    tenants_file = get("BOT_TENANTS_FILE")
    tenants = _read_tenants(Path(tenants_file)) if tenants_file else {}
    default_tenant = get("BOT_DEFAULT_TENANT")
    for name in ("CADENCE_ORG_API_KEY", "CADENCE_WEBHOOK_SECRET"):
        if get(name) and not default_tenant:  # it would be ignored, and every webhook refused
            raise ConfigError(
                f"{name} is set but BOT_DEFAULT_TENANT is not: set BOT_DEFAULT_TENANT to the business it"
                " belongs to, or put it in the tenants file (BOT_TENANTS_FILE)"
            )
    # The single-tenant variables configure the default tenant when the file does not.
    if default_tenant:
        base = tenants.get(default_tenant) or TenantConfig(slug=default_tenant)
        updates = {
            key: value
            for key, value in (
                ("org_api_key", get("CADENCE_ORG_API_KEY")),
                ("webhook_secret", get("CADENCE_WEBHOOK_SECRET")),
            )
            if value and getattr(base, key) is None
        }
        tenants[default_tenant] = base.model_copy(update=updates)
    return Settings(
        cadence_base_url=get("CADENCE_BASE_URL"),
        default_tenant=default_tenant,
        tenants=tenants,
        database=get("BOT_DATABASE") or "cadence-bot.db",
        default_language=get("BOT_LANGUAGE") or "en",
        telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
        telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
        telegram_api_base_url=get("TELEGRAM_API_BASE_URL"),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_api_base_url=get("TWILIO_API_BASE_URL"),
        public_url=get("BOT_PUBLIC_URL"),
        metrics_token=get("BOT_METRICS_TOKEN"),
    )
