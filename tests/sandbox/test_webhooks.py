"""Webhook endpoints and signed, retried, persistent background deliveries."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from cadence_adapter.sandbox import create_app, sandbox_of
from cadence_adapter.webhooks import parse_event, verify_signature
from tests.sandbox.helpers import (
    AUTH,
    OTHER_KEY,
    PUBLIC,
    FixedClock,
    Receiver,
    booking_body,
    client_for,
    error_code,
    eventually,
    small_seed,
    z,
)

pytestmark = pytest.mark.anyio

HOOK = "http://receiver.test/hook"
ALL_EVENTS = ["booking.created", "booking.rescheduled", "booking.cancelled"]
FAST = (0.01, 0.01, 0.01, 0.01)
START = z("2026-06-02 09:00")


@asynccontextmanager
async def sandbox(
    clock: FixedClock,
    transport: httpx.AsyncBaseTransport,
    *,
    delays: tuple[float, ...] = FAST,
    **kwargs: Any,
) -> AsyncIterator[Starlette]:
    kwargs.setdefault("seed", small_seed())
    app = create_app(clock=clock, webhook_transport=transport, webhook_retry_delays=delays, **kwargs)
    try:
        yield app
    finally:
        await sandbox_of(app).aclose()


async def register(client: httpx.AsyncClient, events: list[str] = ALL_EVENTS) -> str:
    response = await client.post("/webhooks", json={"url": HOOK, "events": events}, headers=AUTH)
    assert response.status_code == 201
    secret: str = response.json()["secret"]
    return secret


def check_signed(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every request the receiver got, verified and parsed; returns the event bodies."""
    events = []
    for headers, body in receiver.requests:
        assert verify_signature(secret, body, headers["x-cadence-signature"])
        assert headers["content-type"] == "application/json"
        event = json.loads(body)
        assert headers["x-cadence-event"] == event["type"]
        assert parse_event(body).id == event["id"]
        events.append(event)
    return events


async def test_endpoint_management(app: Starlette) -> None:
    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    async with client_for(app) as client:
        created = await client.post(
            "/webhooks", json={"url": HOOK, "events": ["booking.created"]}, headers=AUTH
        )
        endpoint = created.json()
        listed = await client.get("/webhooks", headers=AUTH)
        theirs = await client.get("/webhooks", headers=other)
        not_theirs = await client.delete(f"/webhooks/{endpoint['id']}", headers=other)
        deleted = await client.delete(f"/webhooks/{endpoint['id']}", headers=AUTH)
        again = await client.delete(f"/webhooks/{endpoint['id']}", headers=AUTH)
        after = await client.get("/webhooks", headers=AUTH)
        unauthorised = await client.delete(f"/webhooks/{endpoint['id']}")
    assert created.status_code == 201
    assert set(endpoint) == {"id", "url", "events", "secret"}
    assert endpoint["id"].startswith("wh_") and endpoint["secret"].startswith("whsec_")
    assert (endpoint["url"], endpoint["events"]) == (HOOK, ["booking.created"])
    assert listed.json() == {"webhooks": [{"id": endpoint["id"], "url": HOOK, "events": ["booking.created"]}]}
    assert theirs.json() == {"webhooks": []}
    assert not_theirs.status_code == 404 and error_code(not_theirs) == "not_found"
    assert deleted.status_code == 204 and deleted.content == b""
    assert again.status_code == 404
    assert after.json() == {"webhooks": []}
    assert unauthorised.status_code == 401


async def test_created_rescheduled_cancelled_are_delivered_signed(clock: FixedClock) -> None:
    receiver = Receiver()
    async with sandbox(clock, httpx.ASGITransport(app=receiver)) as app, client_for(app) as client:
        secret = await register(client)
        booking = (await client.post(f"{PUBLIC}/bookings", json=booking_body(START))).json()
        await eventually(lambda: len(receiver.requests) == 1)
        await client.post(
            f"/bookings/{booking['id']}/reschedule", json={"start": z("2026-06-02 10:00")}, headers=AUTH
        )
        await eventually(lambda: len(receiver.requests) == 2)
        cancelled = (await client.post(f"/bookings/{booking['id']}/cancel", headers=AUTH)).json()
        await eventually(lambda: len(receiver.requests) == 3)
        await client.post(f"/bookings/{booking['id']}/cancel", headers=AUTH)  # no change, no event
        # Deliveries go out in order: once a later booking's event has arrived, an event for the
        # repeated cancel would have arrived before it.
        await client.post(f"{PUBLIC}/bookings", json=booking_body(START))
        await eventually(lambda: len(receiver.requests) == 4)
        records = sandbox_of(app).deliveries()[:3]
    events = check_signed(receiver, secret)[:3]
    assert [e["type"] for e in check_signed(receiver, secret)] == [*ALL_EVENTS, "booking.created"]
    assert len({e["id"] for e in events}) == 3 and all(e["id"].startswith("evt_") for e in events)
    assert events[0]["data"] == booking
    assert events[0]["created_at"] == z("2026-06-01 08:00")
    assert events[1]["data"]["start"] == z("2026-06-02 10:00")
    assert events[1]["previous"] == {"start": START, "end": z("2026-06-02 10:00")}
    assert events[2]["data"] == cancelled
    assert [(r.status, r.attempts, r.last_status) for r in records] == [("delivered", 1, 200)] * 3


async def test_only_subscribed_events_are_sent_and_seed_secrets_sign(clock: FixedClock) -> None:
    receiver = Receiver()
    seeded = [{"url": HOOK, "secret": "whsec_from_the_seed", "events": ["booking.cancelled"]}]
    transport = httpx.ASGITransport(app=receiver)
    async with sandbox(clock, transport, seed=small_seed(webhooks=seeded)) as app, client_for(app) as client:
        listed = (await client.get("/webhooks", headers=AUTH)).json()["webhooks"]
        booking = (await client.post("/bookings", json=booking_body(START), headers=AUTH)).json()
        await client.post(f"/bookings/{booking['id']}/cancel", headers=AUTH)
        await eventually(lambda: len(receiver.requests) == 1)
        # In order: once a second cancel's event is here, a booking.created would have come before it.
        second = (await client.post("/bookings", json=booking_body(START), headers=AUTH)).json()
        await client.post(f"/bookings/{second['id']}/cancel", headers=AUTH)
        await eventually(lambda: len(receiver.requests) == 2)
    assert [(w["url"], w["events"]) for w in listed] == [(HOOK, ["booking.cancelled"])]
    signed = check_signed(receiver, "whsec_from_the_seed")
    assert [e["type"] for e in signed] == ["booking.cancelled"] * 2


async def test_failed_deliveries_are_retried_until_2xx(clock: FixedClock) -> None:
    receiver = Receiver(statuses=[500, 503])
    async with sandbox(clock, httpx.ASGITransport(app=receiver)) as app, client_for(app) as client:
        secret = await register(client)
        await client.post("/bookings", json=booking_body(START), headers=AUTH)
        await eventually(lambda: [r.status for r in sandbox_of(app).deliveries()] == ["delivered"])
        record = sandbox_of(app).deliveries()[0]
    assert len(receiver.requests) == 3
    assert len({body for _, body in receiver.requests}) == 1  # every retry sends the same bytes
    check_signed(receiver, secret)
    assert (record.attempts, record.last_status, record.last_error) == (3, 200, None)


async def test_deliveries_give_up_after_the_last_delay_and_record_it(clock: FixedClock) -> None:
    receiver = Receiver(statuses=[500] * 10)
    transport = httpx.ASGITransport(app=receiver)
    async with sandbox(clock, transport, delays=(0.01, 0.02)) as app, client_for(app) as client:
        await register(client)
        await client.post("/bookings", json=booking_body(START), headers=AUTH)
        await eventually(lambda: [r.status for r in sandbox_of(app).deliveries()] == ["failed"])
        record = sandbox_of(app).deliveries()[0]
    assert len(receiver.requests) == 3
    assert (record.attempts, record.last_status, record.last_error) == (3, 500, "HTTP 500")


async def test_connection_errors_and_receiver_crashes_are_retried(clock: FixedClock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if len(calls) == 2:
            raise RuntimeError("receiver bug")
        return httpx.Response(204)

    async with sandbox(clock, httpx.MockTransport(handler)) as app, client_for(app) as client:
        await register(client)
        await client.post("/bookings", json=booking_body(START), headers=AUTH)
        await eventually(lambda: [r.status for r in sandbox_of(app).deliveries()] == ["delivered"])
    assert len(calls) == 3


def hanging_transport(started: list[float]) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        started.append(time.monotonic())
        await anyio.sleep(3600)
        raise AssertionError("unreachable")

    return httpx.MockTransport(handler)


async def test_delivery_never_delays_the_response(clock: FixedClock) -> None:
    started: list[float] = []
    async with sandbox(clock, hanging_transport(started)) as app, client_for(app) as client:
        await register(client)
        before = time.monotonic()
        response = await client.post("/bookings", json=booking_body(START), headers=AUTH)
        elapsed = time.monotonic() - before
        await eventually(lambda: bool(started))
        statuses = [r.status for r in sandbox_of(app).deliveries()]
    assert response.status_code == 201 and elapsed < 1.0
    assert statuses == ["pending"]


async def test_a_restarted_sandbox_resumes_pending_deliveries(clock: FixedClock, tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    started: list[float] = []
    # First run: the receiver never answers, and the sandbox stops while the delivery is in flight.
    async with sandbox(clock, hanging_transport(started), db=db) as first, client_for(first) as client:
        secret = await register(client)
        booking = (await client.post("/bookings", json=booking_body(START), headers=AUTH)).json()
        await eventually(lambda: bool(started))
    # Second run on the same file: the first request wakes delivery, which sends the stored event.
    receiver = Receiver()
    async with (
        sandbox(clock, httpx.ASGITransport(app=receiver), db=db) as second,
        client_for(second) as client,
    ):
        assert [r.status for r in sandbox_of(second).deliveries()] == ["pending"]
        await client.get(f"{PUBLIC}")
        await eventually(lambda: len(receiver.requests) == 1)
        await eventually(lambda: [r.status for r in sandbox_of(second).deliveries()] == ["delivered"])
    [event] = check_signed(receiver, secret)
    assert event["type"] == "booking.created" and event["data"]["id"] == booking["id"]


async def test_deleting_an_endpoint_fails_its_pending_deliveries(clock: FixedClock) -> None:
    receiver = Receiver(statuses=[500] * 10)
    transport = httpx.ASGITransport(app=receiver)
    async with sandbox(clock, transport, delays=(60,)) as app, client_for(app) as client:
        await register(client)
        endpoint_id = (await client.get("/webhooks", headers=AUTH)).json()["webhooks"][0]["id"]
        await client.post("/bookings", json=booking_body(START), headers=AUTH)
        await eventually(lambda: [r.attempts for r in sandbox_of(app).deliveries()] == [1])
        await client.delete(f"/webhooks/{endpoint_id}", headers=AUTH)

        def outcomes() -> list[tuple[str, str | None]]:
            return [(r.status, r.last_error) for r in sandbox_of(app).deliveries()]

        await eventually(lambda: outcomes() == [("failed", "endpoint deleted")])
    assert len(receiver.requests) == 1
