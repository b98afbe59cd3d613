from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.i18n import LANGUAGES, supported, t
from bot.render import customer_zone, format_duration, format_slot, zone_from_phone

LISBON, BERLIN = ZoneInfo("Europe/Lisbon"), ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_slot_shows_the_customer_zone_only_when_clocks_differ() -> None:
    assert format_slot(START, LISBON, "en", business_zone=LISBON) == "Tue 1 Dec, 3:00 PM"
    assert format_slot(START, BERLIN, "en", business_zone=LISBON) == "Tue 1 Dec, 4:00 PM (Berlin)"
    assert format_slot(START, LISBON, "es", business_zone=LISBON) == "mar 1 dic, 15:00"


def test_customer_zone_prefers_what_they_said_then_their_phone() -> None:
    assert customer_zone("Europe/Berlin", "+15551234567", LISBON) == BERLIN
    assert customer_zone(None, "+4915112345678", LISBON) == BERLIN
    assert customer_zone(None, "+12125550123", LISBON) == LISBON or zone_from_phone("+12125550123")
    assert customer_zone("Not/AZone", None, LISBON) == LISBON
    assert zone_from_phone("+15551234567") is None  # a US number spans several zones


def test_durations() -> None:
    assert format_duration(45, "en") == "45 minutes"
    assert format_duration(60, "en") == "1 hour"
    assert format_duration(90, "es") == "1 hora 30 minutos"


def test_catalogs_are_complete_and_format() -> None:
    english = set(LANGUAGES["en"])
    for language, catalog in LANGUAGES.items():
        assert set(catalog) == english, language
    assert "Salon" in t("es", "greeting", business="Salon")
    assert supported("es-419") == "es" and supported("de") == "de" and supported("it") is None


def test_settings_from_environment_and_tenants_file(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(
        '[tenants.movela]\norg_api_key = "ck_live_x"\ntwilio_numbers = ["+15551234567"]\n'
        'reminder_lead_hours = 12\n[tenants.bloom]\nlanguage = "es"\n'
    )
    env = {
        "CADENCE_BASE_URL": "http://127.0.0.1:8765",
        "BOT_TENANTS_FILE": str(tenants),
        "BOT_DEFAULT_TENANT": "bloom",
        "CADENCE_ORG_API_KEY": "ck_live_bloom",
    }
    settings = load_settings(env)
    movela, bloom = settings.tenant("movela"), settings.tenant("bloom")
    assert movela.org_api_key is not None and movela.org_api_key.get_secret_value() == "ck_live_x"
    assert movela.reminder_lead_hours == 12
    assert bloom.org_api_key is not None and bloom.org_api_key.get_secret_value() == "ck_live_bloom"
    assert bloom.language == "es"
    assert settings.tenant("other").org_api_key is None
    assert "ck_live" not in repr(settings) and "ck_live" not in str(settings.model_dump())


def test_secrets_never_print(tmp_path: Path) -> None:
    env = {
        "BOT_DEFAULT_TENANT": "movela",
        "CADENCE_ORG_API_KEY": "ck_live_secret1",
        "CADENCE_WEBHOOK_SECRET": "whsec_secret2",
        "TELEGRAM_BOT_TOKEN": "123:secret3",
        "TELEGRAM_WEBHOOK_SECRET": "secret4",
        "TWILIO_AUTH_TOKEN": "secret5",
        "BOT_METRICS_TOKEN": "secret6",
    }
    settings = load_settings(env)
    shown = f"{settings!r} {settings} {settings.model_dump()} {settings.tenant('movela')!r}"
    assert not any(f"secret{n}" in shown for n in range(1, 7)), shown
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:secret3"


def test_a_dot_env_file_fills_what_the_environment_does_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("CADENCE_BASE_URL=http://from-dotenv\nBOT_LANGUAGE=de\n# a comment\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CADENCE_BASE_URL", raising=False)
    monkeypatch.setenv("BOT_LANGUAGE", "fr")  # the environment wins over .env
    settings = load_settings()
    assert settings.cadence_base_url == "http://from-dotenv" and settings.default_language == "fr"


def test_bad_tenants_file_names_the_problem(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants.toml"
    tenants.write_text("[tenants.movela]\nunknown_key = 1\n")
    with pytest.raises(ConfigError, match="movela"):
        load_settings({"BOT_TENANTS_FILE": str(tenants)})
