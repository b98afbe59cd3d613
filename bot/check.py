"""`cadence-bot check`: the first thing an operator runs. Reads the configuration (a mistake there is
one line and exit status 2, like every command), then reaches Cadence for each tenant and each
configured channel's API, and says, a line each, what works and what is missing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

import httpx

from bot.config import Settings, load_settings
from cadence_adapter import CadenceClient, CadenceError, CadencePublicClient, new_http_client

__all__ = ["run_check"]

_TIMEOUT = 10.0
_TELEGRAM = "https://api.telegram.org"
_TWILIO = "https://api.twilio.com"


async def _cadence(settings: Settings, lines: list[tuple[bool, str]]) -> None:
    url = settings.cadence_base_url
    if not url:
        lines.append((False, "CADENCE_BASE_URL is not set: run `cadence-bot sandbox` for a local Cadence"))
        return
    slugs = sorted(set(settings.tenants) | ({settings.default_tenant} if settings.default_tenant else set()))
    if not slugs:
        lines.append(
            (True, f"Cadence at {url}: no tenant configured (any business customers name is served)")
        )
        return
    async with new_http_client(timeout=httpx.Timeout(_TIMEOUT)) as http:
        for slug in slugs:
            try:
                org = await CadencePublicClient(url, slug, http=http).get_org()
            except CadenceError as exc:
                lines.append((False, f"Cadence at {url}: tenant {slug!r}: {exc}"))
                continue
            key = settings.tenant(slug).org_api_key
            if key is None:
                lines.append(
                    (
                        True,
                        f"Cadence: tenant {slug!r} is {org.name}; no org key (no managing bookings in chat)",
                    )
                )
                continue
            try:
                await CadenceClient(url, key.get_secret_value(), http=http).list_bookings()
            except CadenceError as exc:
                lines.append(
                    (False, f"Cadence: tenant {slug!r} is {org.name}, but its org key is refused: {exc}")
                )
            else:
                lines.append((True, f"Cadence: tenant {slug!r} is {org.name}; its org key works"))


def _telegram(settings: Settings, lines: list[tuple[bool, str]]) -> None:
    token = settings.telegram_bot_token
    if not token:
        lines.append((True, "Telegram: not configured (TELEGRAM_BOT_TOKEN is not set)"))
        return
    base = (settings.telegram_api_base_url or _TELEGRAM).rstrip("/")
    try:
        response = httpx.get(f"{base}/bot{token.get_secret_value()}/getMe", timeout=_TIMEOUT)
        body = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
    except (httpx.HTTPError, ValueError) as exc:
        lines.append((False, f"Telegram: cannot reach {base}: {type(exc).__name__}"))
        return
    if response.status_code == 200 and body.get("ok"):
        username = body.get("result", {}).get("username", "?")
        secret = (
            ""
            if settings.telegram_webhook_secret
            else "; TELEGRAM_WEBHOOK_SECRET is not set, so the webhook refuses every update"
        )
        lines.append((True, f"Telegram: the token works, bot @{username}{secret}"))
    else:
        lines.append((False, f"Telegram: the token is refused ({response.status_code})"))


def _twilio(settings: Settings, lines: list[tuple[bool, str]]) -> None:
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    if not (sid or token):
        lines.append((True, "SMS: not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set)"))
        return
    if not (sid and token):
        lines.append((False, "SMS: set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"))
        return
    base = (settings.twilio_api_base_url or _TWILIO).rstrip("/")
    try:
        auth = (sid, token.get_secret_value())
        response = httpx.get(f"{base}/2010-04-01/Accounts/{sid}.json", auth=auth, timeout=_TIMEOUT)
    except httpx.HTTPError as exc:
        lines.append((False, f"SMS: cannot reach Twilio at {base}: {type(exc).__name__}"))
        return
    if response.status_code == 200:
        public = (
            ""
            if settings.public_url
            else "; BOT_PUBLIC_URL is not set, so no Twilio signature can be checked"
        )
        lines.append((True, f"SMS: the Twilio account answers{public}"))
    else:
        lines.append((False, f"SMS: the Twilio account is refused ({response.status_code})"))


def run_check(environ: Mapping[str, str] | None = None) -> int:
    """Print what works and what does not; 0 when everything configured is reachable. Otherwise the
    first problem is also one line on stderr and the status is 2, as for any configuration error (a
    refused token, a wrong key): a script running ``check`` first stops there with the reason.
    A configuration error raises (``ConfigError``) for the command to print as one line."""
    settings = load_settings(environ)
    lines: list[tuple[bool, str]] = []
    asyncio.run(_cadence(settings, lines))
    _telegram(settings, lines)
    _twilio(settings, lines)
    for ok, line in lines:
        print(f"{'ok  ' if ok else 'FAIL'}  {line}")
    problems = [line for ok, line in lines if not ok]
    if not problems:
        return 0
    more = f" (and {len(problems) - 1} more above)" if len(problems) > 1 else ""
    print(f"cadence-bot check: {problems[0]}{more}", file=sys.stderr)
    return 2
