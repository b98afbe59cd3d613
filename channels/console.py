"""The terminal chat: one customer on stdin/stdout, choices as numbered lines.

Reads lines until end of input, so a conversation can be scripted with a pipe. With no
``CADENCE_BASE_URL`` it runs against an embedded Cadence sandbox holding the demo tenants.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Sequence
from typing import TextIO

import httpx

from bot.config import TenantConfig, load_settings
from bot.service import Bot, open_bot
from bot.types import Inbound, Reply
from cadence_adapter import new_http_client

__all__ = ["render", "run_chat"]

DEMO_TENANT = "movela"


def render(replies: Sequence[Reply]) -> str:
    """Replies as the terminal shows them: text, then options numbered from 1."""
    blocks = []
    for reply in replies:
        lines = [reply.text]
        lines += [f"  {i}. {option.label}" for i, option in enumerate(reply.options, start=1)]
        if reply.request_contact:
            lines.append("  (type your phone number or email)")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _open(slug: str | None) -> tuple[Bot, str | None, str]:
    settings = load_settings()
    if settings.cadence_base_url:
        return open_bot(settings), slug or settings.default_tenant, settings.cadence_base_url
    # No Cadence configured: the sandbox runs in this process, reached without a socket, and its demo
    # org keys are the bot's, so "my bookings", cancel and move work in the demo too.
    from cadence_adapter.sandbox import create_app, load_seed

    tenants = dict(settings.tenants)
    for org in load_seed().orgs:
        if org.api_keys and org.slug not in tenants:
            tenants[org.slug] = TenantConfig(slug=org.slug, org_api_key=org.api_keys[0])
    settings = settings.model_copy(update={"tenants": tenants})
    transport = httpx.ASGITransport(app=create_app())
    bot = open_bot(
        settings,
        base_url="http://sandbox.local",
        http=new_http_client(transport=transport),
        database=":memory:",
    )
    return bot, slug or settings.default_tenant or DEMO_TENANT, "the embedded sandbox"


async def _chat(slug: str | None, tz: str | None, language: str | None, stdin: TextIO, stdout: TextIO) -> int:
    bot, tenant, where = _open(slug)
    echo = not stdin.isatty()
    print(
        f"cadence-bot chat ({tenant or 'no business chosen'}, Cadence: {where}). Ctrl-D to quit.", file=stdout
    )
    chat_id = os.environ.get("USER", "local")
    try:
        while True:
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                return 0
            if echo:
                print(f"> {line.rstrip()}", file=stdout)
            inbound = Inbound(
                channel="console",
                chat_id=chat_id,
                message_id=uuid.uuid4().hex,
                text=line.rstrip("\n"),
                tenant=tenant,
                language=language,
                timezone=tz,
            )
            tenant = None  # the channel names the business once; the conversation keeps it
            result = await bot.engine.handle(inbound)
            print(render(result.replies), file=stdout, flush=True)
    finally:
        await bot.aclose()


def run_chat(slug: str | None = None, tz: str | None = None, language: str | None = None) -> int:
    """``cadence-bot chat [SLUG] [--tz ZONE] [--lang CODE]``."""
    try:
        return asyncio.run(_chat(slug, tz, language, sys.stdin, sys.stdout))
    except KeyboardInterrupt:
        return 130
