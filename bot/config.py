"""Settings from the environment, a ``.env`` file and the tenants file (names and formats in DESIGN.md).

Read once at startup and passed down; nothing reads ``os.environ`` after this module. Every secret is a
``SecretStr``: it prints as ``**********`` in a repr, a log line or a traceback, and the code that hands
it to a client says so with ``.get_secret_value()``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ConfigError", "Environment", "Settings", "TenantConfig", "load_settings"]


class ConfigError(ValueError):
    """The environment or the tenants file is wrong; the message says which setting."""


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    org_api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    twilio_numbers: tuple[str, ...] = ()
    language: str | None = None
    reminder_lead_hours: float = 24
    staff_telegram_chat_id: int | None = None
    messaging_service_sid: str | None = None
    """Send this tenant's SMS through a Twilio Messaging Service (sticky sender, number pools) instead
    of from the number the customer texted."""
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
    only_listed: bool = False
    """Serve only the tenants in the tenants file: any other Cadence slug is an unknown business."""
    database: str = "cadence-bot.db"
    default_language: str = "en"
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_base_url: str | None = None
    public_url: str | None = None
    metrics_token: SecretStr | None = None
    """The bearer token ``GET /metrics`` requires (docs/metrics.md)."""

    def tenant(self, slug: str) -> TenantConfig:
        """The tenant's settings; a tenant nobody configured gets the defaults."""
        return self.tenants.get(slug) or TenantConfig(slug=slug)


def _read_tenants(path: Path) -> tuple[dict[str, TenantConfig], bool]:
    """The tenants, and whether only they are served (``only_listed = true`` at the top of the file)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"BOT_TENANTS_FILE {path}: {exc}") from exc
    unknown = set(data) - {"tenants", "only_listed"}
    if unknown:
        raise ConfigError(
            f"BOT_TENANTS_FILE {path}: unknown key {sorted(unknown)[0]!r} (tenants, only_listed)"
        )
    only_listed = data.get("only_listed", False)
    if not isinstance(only_listed, bool):
        raise ConfigError(f"BOT_TENANTS_FILE {path}, only_listed: must be true or false")
    tenants: dict[str, TenantConfig] = {}
    for slug, table in (data.get("tenants") or {}).items():
        try:
            tenants[slug] = TenantConfig.model_validate({"slug": slug, **table})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or slug
            raise ConfigError(f"BOT_TENANTS_FILE {path}, tenant {slug}, {where}: {first['msg']}") from exc
    if only_listed and not tenants:
        raise ConfigError(f"BOT_TENANTS_FILE {path}: only_listed is true but no tenant is listed")
    return tenants, only_listed


class Environment(BaseSettings):
    """The variables the process is given (DESIGN.md, ``.env.example``): from the environment, and from
    a ``.env`` file in the working directory for what the environment does not set. An empty value is
    the same as unset. :func:`load_settings` turns them into the :class:`Settings` the bot runs with."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        str_strip_whitespace=True,
        populate_by_name=False,
    )

    cadence_base_url: str | None = Field(default=None, alias="CADENCE_BASE_URL")
    cadence_org_api_key: SecretStr | None = Field(default=None, alias="CADENCE_ORG_API_KEY")
    cadence_webhook_secret: SecretStr | None = Field(default=None, alias="CADENCE_WEBHOOK_SECRET")
    bot_default_tenant: str | None = Field(default=None, alias="BOT_DEFAULT_TENANT")
    bot_tenants_file: Path | None = Field(default=None, alias="BOT_TENANTS_FILE")
    bot_database: str = Field(default="cadence-bot.db", alias="BOT_DATABASE")
    bot_language: str = Field(default="en", alias="BOT_LANGUAGE")
    bot_public_url: str | None = Field(default=None, alias="BOT_PUBLIC_URL")
    bot_metrics_token: SecretStr | None = Field(default=None, alias="BOT_METRICS_TOKEN")
    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base_url: str | None = Field(default=None, alias="TELEGRAM_API_BASE_URL")
    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    twilio_api_base_url: str | None = Field(default=None, alias="TWILIO_API_BASE_URL")

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> Environment:
        """From a mapping alone (a dict in tests): no process environment, no ``.env``."""
        given = {}
        for field in cls.model_fields.values():
            name = str(field.alias)
            value = (environ.get(name) or "").strip()
            if value:
                given[name] = value
        return cls.model_validate(given)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings: from ``environ`` alone when given (tests), else from the process environment and
    ``.env``. Raises :class:`ConfigError` naming the variable that is wrong."""
    try:
        env = Environment() if environ is None else Environment.of(environ)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{name}: {first['msg']}") from exc
    tenants, only_listed = _read_tenants(env.bot_tenants_file) if env.bot_tenants_file else ({}, False)
    default_tenant = env.bot_default_tenant
    if only_listed and default_tenant and default_tenant not in tenants:
        raise ConfigError(
            f"BOT_DEFAULT_TENANT {default_tenant!r} is not in the tenants file, which serves only_listed"
            " tenants: add a [tenants." + default_tenant + "] table, or unset BOT_DEFAULT_TENANT"
        )
    for name, value in (
        ("CADENCE_ORG_API_KEY", env.cadence_org_api_key),
        ("CADENCE_WEBHOOK_SECRET", env.cadence_webhook_secret),
    ):
        if value and not default_tenant:  # it would be ignored, and every webhook refused
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
                ("org_api_key", env.cadence_org_api_key),
                ("webhook_secret", env.cadence_webhook_secret),
            )
            if value and getattr(base, key) is None
        }
        tenants[default_tenant] = base.model_copy(update=updates)
    return Settings(
        cadence_base_url=env.cadence_base_url,
        default_tenant=default_tenant,
        tenants=tenants,
        only_listed=only_listed,
        database=env.bot_database,
        default_language=env.bot_language,
        telegram_bot_token=env.telegram_bot_token,
        telegram_webhook_secret=env.telegram_webhook_secret,
        telegram_api_base_url=env.telegram_api_base_url,
        twilio_account_sid=env.twilio_account_sid,
        twilio_auth_token=env.twilio_auth_token,
        twilio_api_base_url=env.twilio_api_base_url,
        public_url=env.bot_public_url,
        metrics_token=env.bot_metrics_token,
    )
