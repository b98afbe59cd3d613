"""The Cadence client against the sandbox: in process (ASGI transport) and over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from cadence_adapter import (
    BadRequest,
    CadenceClient,
    CadencePublicClient,
    InvalidResponse,
    NotFound,
    RateLimited,
    RetryPolicy,
    Slot,
    SlotNotOpen,
    SlotTaken,
    Unauthorized,
    Unavailable,
    api_root,
    new_http_client,
)
from cadence_adapter.sandbox import RateLimit, create_app
from cadence_adapter.sandbox.server import serving
from tests.conftest import NOW, TEST_KEY, clinic_seed

pytestmark = pytest.mark.anyio

PAT = {"name": "Pat Patient", "email": "pat@example.com"}
# Monday 1 June 2026 in Lisbon (UTC+1): 10:00 local is 09:00Z.
TEN_LOCAL = datetime.fromisoformat("2026-06-01T09:00:00+00:00")


async def _no_sleep(_: float) -> None:
    return None


FAST = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0, total_seconds=5)


@pytest.fixture
def app() -> Any:
    return create_app(seed=clinic_seed(), clock=lambda: NOW)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
def public(http: httpx.AsyncClient) -> CadencePublicClient:
    return CadencePublicClient("http://cadence.test", "clinic", http=http, retry=FAST, sleep=_no_sleep)


@pytest.fixture
def keyed(http: httpx.AsyncClient) -> CadenceClient:
    return CadenceClient("http://cadence.test/api/v1/", TEST_KEY, http=http, retry=FAST, sleep=_no_sleep)


def test_api_root_accepts_service_root_or_api_root() -> None:
    assert api_root("https://cadence.example.com") == "https://cadence.example.com/api/v1"
    assert api_root("https://cadence.example.com/api/v1/") == "https://cadence.example.com/api/v1"


async def test_public_surface_reads_the_tenant(public: CadencePublicClient) -> None:
    org = await public.get_org()
    assert (org.slug, org.timezone) == ("clinic", "Europe/Lisbon")
    services = await public.list_services()
    assert [s.id for s in services] == ["svc_consult", "svc_quick"]
    assert [p.id for p in await public.list_practitioners()] == ["prac_0"]
    availability = await public.get_availability("svc_consult", start=NOW, end=NOW + timedelta(days=1))
    assert availability.slots, "a working Monday has open slots"
    first = availability.slots[0]
    assert first.start.tzinfo is not None and first.start > NOW
    assert first.end - first.start == timedelta(minutes=60)


async def test_booking_created_then_replayed_with_the_same_key(
    public: CadencePublicClient, keyed: CadenceClient
) -> None:
    booking = await public.create_booking("svc_consult", TEN_LOCAL, PAT, idempotency_key="visit-42")
    assert booking.status == "confirmed" and booking.start == TEN_LOCAL
    replay = await public.create_booking("svc_consult", TEN_LOCAL, PAT, idempotency_key="visit-42")
    assert replay.id == booking.id
    assert [b.id for b in await keyed.list_bookings()] == [booking.id]


async def test_same_key_with_another_body_is_refused(public: CadencePublicClient) -> None:
    await public.create_booking("svc_consult", TEN_LOCAL, PAT, idempotency_key="k1")
    with pytest.raises(BadRequest) as info:
        await public.create_booking("svc_quick", TEN_LOCAL, PAT, idempotency_key="k1")
    assert info.value.status == 422


async def test_each_documented_failure_has_its_exception(
    public: CadencePublicClient, keyed: CadenceClient, http: httpx.AsyncClient
) -> None:
    with pytest.raises(NotFound):
        await CadencePublicClient("http://cadence.test", "nobody", http=http).get_org()
    with pytest.raises(NotFound):
        await public.create_booking("svc_missing", TEN_LOCAL, PAT)
    with pytest.raises(SlotNotOpen):
        await public.create_booking("svc_consult", TEN_LOCAL + timedelta(minutes=7), PAT)
    with pytest.raises(SlotNotOpen):
        await public.create_booking("svc_consult", NOW - timedelta(days=1), PAT)
    await public.create_booking("svc_consult", TEN_LOCAL, PAT)
    with pytest.raises(SlotTaken) as taken:
        await public.create_booking("svc_consult", TEN_LOCAL, {"name": "Sam", "phone": "+351912345678"})
    assert taken.value.status == 409 and taken.value.code == "slot_taken"
    with pytest.raises(Unauthorized):
        await CadenceClient("http://cadence.test", "ck_wrong", http=http).list_bookings()
    with pytest.raises(BadRequest):
        await public.create_booking("svc_consult", TEN_LOCAL, {"name": "No Contact"})


async def test_rate_limit_carries_retry_after() -> None:
    app = create_app(seed=clinic_seed(), clock=lambda: NOW, rate_limit=RateLimit(per_second=0.01, burst=1))
    async with new_http_client(transport=httpx.ASGITransport(app=app)) as http:
        client = CadencePublicClient(
            "http://cadence.test", "clinic", http=http, retry=RetryPolicy(attempts=1)
        )
        await client.get_org()
        with pytest.raises(RateLimited) as info:
            await client.get_org()
    assert info.value.retry_after is not None and info.value.retry_after > 0


async def test_reschedule_frees_the_old_slot_and_cancel_frees_the_new(
    public: CadencePublicClient, keyed: CadenceClient
) -> None:
    booking = await public.create_booking("svc_consult", TEN_LOCAL, PAT)
    later = TEN_LOCAL + timedelta(hours=2)

    async def open_starts() -> set[datetime]:
        window = await keyed.get_availability("svc_consult", start=NOW, end=NOW + timedelta(hours=12))
        return {s.start for s in window.slots}

    assert TEN_LOCAL not in await open_starts()
    moved = await keyed.reschedule_booking(booking.id, later)
    assert moved.start == later
    starts = await open_starts()
    assert TEN_LOCAL in starts and later not in starts
    cancelled = await keyed.cancel_booking(booking.id)
    assert cancelled.status == "cancelled"
    assert later in await open_starts()
    assert (await keyed.get_booking(booking.id)).status == "cancelled"


async def test_webhook_endpoints_are_managed_with_the_key(keyed: CadenceClient) -> None:
    created = await keyed.create_webhook("http://127.0.0.1:9/hook", ["booking.created"])
    assert created.secret and created.secret.startswith("whsec_")
    listed = await keyed.list_webhooks()
    assert [w.id for w in listed] == [created.id] and listed[0].secret is None
    await keyed.delete_webhook(created.id)
    assert await keyed.list_webhooks() == []


class FaultyTransport(httpx.AsyncBaseTransport):
    """Injects failures in front of a real transport, one per request, in order.

    ``503`` answers without reaching Cadence; ``connect`` fails before sending; ``drop`` lets Cadence
    process the request and then loses the answer, the case idempotency keys exist for.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: list[str]) -> None:
        self.inner = inner
        self.faults = list(faults)
        self.keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("Idempotency-Key"))
        fault = self.faults.pop(0) if self.faults else None
        if fault == "503":
            return httpx.Response(503, json={"error": {"code": "unavailable", "message": "try later"}})
        if fault == "connect":
            raise httpx.ConnectError("refused", request=request)
        response = await self.inner.handle_async_request(request)
        if fault == "drop":
            await response.aread()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return response


async def test_retries_keep_one_idempotency_key_and_book_once(app: Any) -> None:
    faulty = FaultyTransport(httpx.ASGITransport(app=app), ["503", "connect", "drop"])
    async with new_http_client(transport=faulty) as http:
        public = CadencePublicClient("http://cadence.test", "clinic", http=http, retry=FAST, sleep=_no_sleep)
        booking = await public.create_booking("svc_consult", TEN_LOCAL, PAT)
        keyed = CadenceClient("http://cadence.test", TEST_KEY, http=http)
        bookings = await keyed.list_bookings()
    assert len(faulty.keys) == 5  # four attempts at the booking, then the listing
    booking_keys = set(faulty.keys[:4])
    assert len(booking_keys) == 1 and None not in booking_keys
    assert [b.id for b in bookings] == [booking.id]


async def test_gives_up_after_the_attempts_and_never_retries_a_refusal(app: Any) -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    faulty = FaultyTransport(httpx.ASGITransport(app=app), ["503"] * 10)
    async with new_http_client(transport=faulty) as http:
        public = CadencePublicClient("http://cadence.test", "clinic", http=http, retry=FAST, sleep=record)
        with pytest.raises(Unavailable):
            await public.list_services()
        assert len(faulty.keys) == 4 and len(delays) == 3
        faulty.faults.clear()
        faulty.keys.clear()
        with pytest.raises(SlotNotOpen):
            await public.create_booking("svc_consult", NOW - timedelta(hours=1), PAT)
        assert len(faulty.keys) == 1


async def test_rate_limited_waits_at_least_retry_after(app: Any) -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    def limited(request: httpx.Request) -> httpx.Response:
        if not delays:
            return httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"code": "rate_limited"}})
        return httpx.Response(200, json={"services": []})

    async with new_http_client(transport=httpx.MockTransport(limited)) as http:
        public = CadencePublicClient("http://cadence.test", "clinic", http=http, retry=FAST, sleep=record)
        assert await public.list_services() == []
    assert delays == [2.0]


async def test_unknown_fields_from_the_real_service_are_ignored() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"data": [{"id": "s1", "name": "Cut", "duration_minutes": 30, "price_cents": 2500, "new": {}}]}
        return httpx.Response(200, json=body)

    async with new_http_client(transport=httpx.MockTransport(handler)) as http:
        services = await CadencePublicClient("http://x", "shop", http=http).list_services()
    assert services[0].name == "Cut"


def test_every_instant_is_aware_utc_whatever_the_wire_says() -> None:
    nine = datetime(2026, 6, 1, 9, tzinfo=UTC)
    wire = ["2026-06-01T09:00:00Z", "2026-06-01T10:00:00+01:00", "2026-06-01T09:00:00", "2026-06-01 09:00Z"]
    for text in wire:
        slot = Slot.model_validate({"start": text, "end": text})
        assert slot.start == nine and slot.start.tzinfo is UTC, text
    assert Slot(start=nine.astimezone(timezone(timedelta(hours=-3))), end=nine).start.tzinfo is UTC
    assert Slot.model_validate_json(Slot(start=nine, end=nine).model_dump_json()).start == nine
    with pytest.raises(ValidationError):
        Slot.model_validate({"start": "not a time", "end": "2026-06-01T09:00:00Z"})


@pytest.fixture(scope="module")
def live_base_url() -> Iterator[str]:
    seed = clinic_seed()
    with serving(create_app(seed=seed, clock=lambda: NOW)) as url:
        yield url


async def test_over_real_http(live_base_url: str) -> None:
    async with CadencePublicClient(live_base_url, "clinic") as public:
        booking = await public.create_booking("svc_consult", TEN_LOCAL + timedelta(hours=3), PAT)
    async with CadenceClient(live_base_url, TEST_KEY) as keyed:
        assert (await keyed.get_booking(booking.id)).id == booking.id


async def test_thirty_concurrent_requests_for_one_slot_book_once(live_base_url: str) -> None:
    slot = TEN_LOCAL + timedelta(days=1)
    async with new_http_client() as http:
        public = CadencePublicClient(live_base_url, "clinic", http=http, retry=RetryPolicy(attempts=1))

        async def attempt(i: int) -> str:
            try:
                await public.create_booking(
                    "svc_consult", slot, {"name": f"C{i}", "email": f"c{i}@example.com"}
                )
            except SlotTaken:
                return "taken"
            return "booked"

        outcomes = await asyncio.gather(*(attempt(i) for i in range(30)))
    assert outcomes.count("booked") == 1 and outcomes.count("taken") == 29


async def test_a_post_whose_answer_was_missed_stays_in_doubt_through_later_429s() -> None:
    """A timeout (Cadence may have made it) then only 429s: the caller hears Unavailable, never the 429
    alone, which would mean nothing was made and invite a request under a new key."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("Idempotency-Key", ""))
        if len(calls) == 1:
            raise httpx.ReadTimeout("the answer never came", request=request)
        return httpx.Response(429, json={"error": {"code": "rate_limited", "message": "slow down"}})

    async with new_http_client(transport=httpx.MockTransport(handler)) as http:
        public = CadencePublicClient("http://cadence.test", "clinic", http=http, retry=FAST, sleep=_no_sleep)
        with pytest.raises(Unavailable):
            await public.create_booking("svc_consult", TEN_LOCAL, PAT, idempotency_key="k-1")
        with pytest.raises(RateLimited):  # a GET has nothing in doubt: the 429 is the answer
            await public.list_services()
    assert set(calls[:4]) == {"k-1"}


async def test_a_success_whose_body_is_not_json_is_an_invalid_response_not_the_callers_fault() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>gateway</html>")

    async with new_http_client(transport=httpx.MockTransport(handler)) as http:
        public = CadencePublicClient("http://cadence.test", "clinic", http=http, retry=FAST, sleep=_no_sleep)
        with pytest.raises(InvalidResponse):
            await public.create_booking("svc_consult", TEN_LOCAL, PAT)
        with pytest.raises(InvalidResponse):
            await public.list_services()
