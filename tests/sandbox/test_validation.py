"""Bad input is a 4xx with the error body, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from tests.sandbox.helpers import AUTH, PAT, PUBLIC, booking_body, client_for, error_code, z

pytestmark = pytest.mark.anyio

START = z("2026-06-02 09:00")


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"service_id": "svc_60",', b"", b"   ", b"\xff\xfe\x00garbage", b"[" * 20000],
    ids=["broken", "truncated", "empty", "blank", "not-utf8", "deep"],
)
async def test_malformed_json_is_400_bad_request(app: Starlette, raw: bytes) -> None:
    async with client_for(app) as client:
        for path, headers in [("/bookings", AUTH), (f"{PUBLIC}/bookings", {})]:
            response = await client.post(
                path, content=raw, headers={**headers, "Content-Type": "application/json"}
            )
            assert response.status_code == 400, path
            assert error_code(response) == "bad_request"


def _with(**changes: Any) -> dict[str, Any]:
    body = booking_body(START)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


INVALID_BODIES = {
    "array": [booking_body(START)],
    "string": "book me",
    "missing-service": _with(service_id=...),
    "missing-start": _with(start=...),
    "missing-customer": _with(customer=...),
    "service-not-a-string": _with(service_id=60),
    "start-a-number": _with(start=1780390800),
    "start-not-a-date": _with(start="tomorrow at ten"),
    "start-without-offset": _with(start="2026-06-02T10:00:00"),
    "start-date-only": _with(start="2026-06-02"),
    "start-year-9999": _with(start="9999-12-31T23:45:00Z"),
    "customer-a-string": _with(customer="Pat"),
    "unknown-field": _with(notes="window seat"),
    "practitioner-a-list": _with(practitioner_id=["p1"]),
    "no-email-or-phone": _with(customer={"name": "Pat"}),
    "nulls-only": _with(customer={"name": "Pat", "email": None, "phone": None}),
    "bad-email": _with(customer={"name": "Pat", "email": "pat-at-example.com"}),
    "email-with-space": _with(customer={"name": "Pat", "email": "pat @example.com"}),
    "bad-phone": _with(customer={"name": "Pat", "phone": "call me"}),
    "short-phone": _with(customer={"name": "Pat", "phone": "123"}),
    "blank-name": _with(customer={"name": "   ", "email": "pat@example.com"}),
    "name-not-a-string": _with(customer={"name": 7, "email": "pat@example.com"}),
    "long-name": _with(customer={"name": "P" * 201, "email": "pat@example.com"}),
    "long-email": _with(customer={"name": "Pat", "email": "p" * 250 + "@example.com"}),
    "long-service-id": _with(service_id="s" * 101),
    "huge-body": _with(customer={"name": "Pat", "email": "pat@example.com", "notes": "x" * 70_000}),
}


@pytest.mark.parametrize("body", list(INVALID_BODIES.values()), ids=list(INVALID_BODIES))
async def test_invalid_booking_bodies_are_422_invalid_request(app: Starlette, body: Any) -> None:
    async with client_for(app) as client:
        for path, headers in [("/bookings", AUTH), (f"{PUBLIC}/bookings", {})]:
            response = await client.post(path, json=body, headers=headers)
            assert response.status_code == 422, (path, response.text)
            assert error_code(response) == "invalid_request"


async def test_messages_name_the_field(app: Starlette) -> None:
    async with client_for(app) as client:
        email = await client.post("/bookings", json=INVALID_BODIES["bad-email"], headers=AUTH)
        contact = await client.post("/bookings", json=INVALID_BODIES["no-email-or-phone"], headers=AUTH)
        offset = await client.post("/bookings", json=INVALID_BODIES["start-without-offset"], headers=AUTH)
    assert email.json()["error"]["message"] == "customer.email: is not a valid email address"
    assert "email or a phone" in contact.json()["error"]["message"]
    assert offset.json()["error"]["message"] == "start: needs a UTC offset, e.g. 2026-06-01T13:00:00Z"


async def test_a_declared_oversized_body_is_refused_before_reading(app: Starlette) -> None:
    async with client_for(app) as client:
        response = await client.post(
            "/bookings", content=b"{}", headers={**AUTH, "Content-Length": str(10**9)}
        )
    assert response.status_code == 422 and error_code(response) == "invalid_request"


async def test_accepted_contact_shapes(app: Starlette) -> None:
    customers = [
        {"name": "  Pat  ", "phone": "+351 912 345 678"},
        {"name": "Lee", "email": "lee.o'neil+tag@sub.example.co.uk"},
        {"name": "Ana", "email": "ana@example.com", "phone": "(212) 555-0100"},
    ]
    starts = [z("2026-06-02 09:00"), z("2026-06-02 10:00"), z("2026-06-02 12:00")]
    async with client_for(app) as client:
        responses = [
            await client.post("/bookings", json=booking_body(start, customer=customer), headers=AUTH)
            for start, customer in zip(starts, customers, strict=True)
        ]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert responses[0].json()["customer"] == {"name": "Pat", "phone": "+351 912 345 678"}


async def test_idempotency_key_limits(app: Starlette) -> None:
    async with client_for(app) as client:
        long_key = await client.post(
            "/bookings", json=booking_body(START), headers={**AUTH, "Idempotency-Key": "k" * 256}
        )
        blank_key = await client.post(
            "/bookings", json=booking_body(START), headers={**AUTH, "Idempotency-Key": " "}
        )
    assert long_key.status_code == 422 and blank_key.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"url": "not a url", "events": ["booking.created"]},
        {"url": "ftp://example.com/hook", "events": ["booking.created"]},
        {"url": "http://example.com/hook", "events": []},
        {"url": "http://example.com/hook", "events": ["booking.exploded"]},
        {"url": "http://example.com/hook"},
        {"url": "http://example.com/hook", "events": "booking.created"},
        {"url": "http://example.com/" + "x" * 2000, "events": ["booking.created"]},
    ],
)
async def test_invalid_webhook_bodies_are_422(app: Starlette, body: dict[str, Any]) -> None:
    async with client_for(app) as client:
        response = await client.post("/webhooks", json=body, headers=AUTH)
    assert response.status_code == 422 and error_code(response) == "invalid_request"


async def test_reschedule_body_errors(app: Starlette) -> None:
    async with client_for(app) as client:
        booking = (await client.post("/bookings", json=booking_body(START), headers=AUTH)).json()
        path = f"/bookings/{booking['id']}/reschedule"
        malformed = await client.post(path, content=b"{", headers=AUTH)
        wrong_type = await client.post(path, json={"start": 5}, headers=AUTH)
    assert malformed.status_code == 400 and error_code(malformed) == "bad_request"
    assert wrong_type.status_code == 422 and error_code(wrong_type) == "invalid_request"


async def test_customer_fields_are_kept_as_given(app: Starlette) -> None:
    async with client_for(app) as client:
        response = await client.post("/bookings", json=booking_body(START), headers=AUTH)
    assert response.json()["customer"] == PAT
