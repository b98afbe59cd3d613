"""Shared test helpers: the fixed clock, seeds, clients and small polling/receiving tools."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

# Monday 1 June 2026, 08:00 UTC = 09:00 in Lisbon (summer time, UTC+1).
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
KEY = "ck_test_acme_key"
OTHER_KEY = "ck_test_other_key"
BASE = "http://sandbox.test/api/v1"
PUBLIC = "/public/orgs/acme"
AUTH = {"Authorization": f"Bearer {KEY}"}
PAT = {"name": "Pat Patient", "email": "pat@example.com"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


class FixedClock:
    """The sandbox clock for tests: returns ``now`` until told otherwise."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def z(text: str) -> str:
    """A UTC instant on the wire: z("2026-06-01 10:00") == "2026-06-01T10:00:00Z"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def small_seed(
    *, practitioners: int = 2, webhooks: list[dict[str, Any]] | None = None, other_org: bool = True
) -> dict[str, Any]:
    """Org ``acme`` in Lisbon: services of 60 and 30 minutes; practitioners p1, p2, ... working
    09:00-12:00 and 13:00-17:00 local (08:00-11:00 and 12:00-16:00 UTC in June) on weekdays.
    Plus org ``other`` (key OTHER_KEY) to prove tenants are kept apart."""
    hours = {day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WEEKDAYS}
    orgs: list[dict[str, Any]] = [
        {
            "id": "org_acme",
            "slug": "acme",
            "name": "Acme Physio",
            "timezone": "Europe/Lisbon",
            "api_keys": [KEY],
            "webhooks": webhooks or [],
            "services": [
                {"id": "svc_60", "name": "Assessment", "duration_minutes": 60},
                {"id": "svc_30", "name": "Follow-up", "duration_minutes": 30, "description": "Short"},
                {"id": "svc_solo", "name": "Only p1 does this", "duration_minutes": 30},
            ],
            "practitioners": [
                {
                    "id": f"p{i}",
                    "name": f"Practitioner {i}",
                    "service_ids": ["svc_60", "svc_30", *(["svc_solo"] if i == 1 else [])],
                    "hours": hours,
                }
                for i in range(1, practitioners + 1)
            ],
        }
    ]
    if other_org:
        orgs.append(
            {
                "id": "org_other",
                "slug": "other",
                "name": "Other Place",
                "timezone": "America/New_York",
                "api_keys": [OTHER_KEY],
                "services": [{"id": "svc_60", "name": "Session", "duration_minutes": 60}],
                "practitioners": [
                    {
                        "id": "x1",
                        "name": "X",
                        "service_ids": ["svc_60"],
                        "hours": {"mon": [["09:00", "17:00"]]},
                    }
                ],
            }
        )
    return {"orgs": orgs}


@asynccontextmanager
async def client_for(
    app: ASGIApp, *, host: str = "127.0.0.1", **kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` (no lifespan), as if connecting from ``host``."""
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, **kwargs) as client:
        yield client


def booking_body(start: str, service_id: str = "svc_60", **extra: Any) -> dict[str, Any]:
    return {"service_id": service_id, "start": start, "customer": dict(PAT), **extra}


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    code: str = body["error"]["code"]
    return code


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (in the event loop) until ``predicate()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await anyio.sleep(0.01)


@dataclass
class Receiver:
    """A tiny raw ASGI webhook receiver: answers ``statuses`` in turn (then 200) and keeps every request."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan under uvicorn
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
