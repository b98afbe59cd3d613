"""Reading the catalogue and availability on both surfaces, errors for unknown things, rate limiting."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from starlette.applications import Starlette

from cadence_adapter.sandbox import RateLimit, create_app, sandbox_of
from tests.sandbox.helpers import (
    AUTH,
    NOW,
    OTHER_KEY,
    PUBLIC,
    FixedClock,
    client_for,
    error_code,
    small_seed,
    z,
)

pytestmark = pytest.mark.anyio


async def test_public_org_services_and_practitioners(app: Starlette) -> None:
    async with client_for(app) as client:
        org = await client.get(PUBLIC)
        services = await client.get(f"{PUBLIC}/services")
        practitioners = await client.get(f"{PUBLIC}/practitioners")
    assert org.status_code == 200
    assert org.json() == {
        "id": "org_acme",
        "slug": "acme",
        "name": "Acme Physio",
        "timezone": "Europe/Lisbon",
        "branding": {},
    }
    assert services.json()["services"][:2] == [
        {"id": "svc_60", "name": "Assessment", "duration_minutes": 60},
        {"id": "svc_30", "name": "Follow-up", "duration_minutes": 30, "description": "Short"},
    ]
    assert practitioners.json()["practitioners"][0] == {
        "id": "p1",
        "name": "Practitioner 1",
        "service_ids": ["svc_60", "svc_30", "svc_solo"],
    }


async def test_keyed_surface_reads_the_keys_org(app: Starlette) -> None:
    async with client_for(app) as client:
        mine = await client.get("/services", headers=AUTH)
        theirs = await client.get("/services", headers={"Authorization": f"Bearer {OTHER_KEY}"})
        staff = await client.get("/practitioners", headers=AUTH)
    assert [s["id"] for s in mine.json()["services"]] == ["svc_60", "svc_30", "svc_solo"]
    assert [s["name"] for s in theirs.json()["services"]] == ["Session"]
    assert [p["id"] for p in staff.json()["practitioners"]] == ["p1", "p2"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer ck_wrong"}, {"Authorization": "Basic Y2s6"}, {"Authorization": "Bearer "}],
)
async def test_keyed_routes_need_a_valid_key(app: Starlette, headers: dict[str, str]) -> None:
    async with client_for(app) as client:
        for method, path in [
            ("GET", "/services"),
            ("GET", "/bookings"),
            ("POST", "/bookings"),
            ("GET", "/webhooks"),
        ]:
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 401, path
            assert error_code(response) == "unauthorized"


async def test_availability_default_window_is_the_next_seven_days(app: Starlette) -> None:
    async with client_for(app) as client:
        response = await client.get(f"{PUBLIC}/availability", params={"service_id": "svc_60"})
    slots = response.json()["slots"]
    assert response.status_code == 200
    # Now is 09:00 Lisbon on Monday: the first slot is 09:15 (strictly after now), both practitioners free.
    assert slots[0] == {
        "start": z("2026-06-01 08:15"),
        "end": z("2026-06-01 09:15"),
        "practitioner_ids": ["p1", "p2"],
    }
    starts = [datetime.fromisoformat(s["start"]) for s in slots]
    assert starts == sorted(set(starts)) and all(NOW < s < NOW + timedelta(days=7) for s in starts)
    # Five weekdays (Mon is partly past) x (9 morning + 13 afternoon starts for 60 minutes).
    assert len(slots) == 5 * 22 - 1


async def test_availability_only_offers_future_slots(app: Starlette, clock: FixedClock) -> None:
    clock.advance(hours=3, minutes=5)  # 12:05 Lisbon: the morning is gone
    async with client_for(app) as client:
        response = await client.get("/availability", params={"service_id": "svc_30"}, headers=AUTH)
    assert response.json()["slots"][0]["start"] == z("2026-06-01 12:00")  # 13:00 Lisbon


async def test_availability_window_practitioner_and_offsets(app: Starlette) -> None:
    params = {
        "service_id": "svc_60",
        "practitioner_id": "p2",
        "from": "2026-06-02T09:00:00+01:00",  # 08:00Z
        "to": "2026-06-02T08:45:00Z",
    }
    async with client_for(app) as client:
        response = await client.get(f"{PUBLIC}/availability", params=params)
    assert [(s["start"], s["practitioner_ids"]) for s in response.json()["slots"]] == [
        (z("2026-06-02 08:00"), ["p2"]),
        (z("2026-06-02 08:15"), ["p2"]),
        (z("2026-06-02 08:30"), ["p2"]),
    ]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 422, "invalid_request"),
        (
            {"service_id": "svc_60", "from": "2026-06-01T00:00:00Z", "to": "2026-07-03T00:00:00Z"},
            422,
            "invalid_request",
        ),
        (
            {"service_id": "svc_60", "from": "2026-06-05T00:00:00Z", "to": "2026-06-04T00:00:00Z"},
            422,
            "invalid_request",
        ),
        ({"service_id": "svc_60", "from": "next tuesday"}, 422, "invalid_request"),
        ({"service_id": "svc_60", "from": "2026-06-05T10:00:00"}, 422, "invalid_request"),
        ({"service_id": "svc_nope"}, 404, "not_found"),
        ({"service_id": "svc_60", "practitioner_id": "nobody"}, 404, "not_found"),
        ({"service_id": "svc_solo", "practitioner_id": "p2"}, 404, "not_found"),
    ],
)
async def test_availability_refusals(app: Starlette, params: dict[str, str], status: int, code: str) -> None:
    async with client_for(app) as client:
        response = await client.get(f"{PUBLIC}/availability", params=params)
    assert response.status_code == status
    assert error_code(response) == code


async def test_thirty_one_days_is_allowed(app: Starlette) -> None:
    params = {"service_id": "svc_30", "from": "2026-06-01T00:00:00Z", "to": "2026-07-02T00:00:00Z"}
    async with client_for(app) as client:
        response = await client.get(f"{PUBLIC}/availability", params=params)
    assert response.status_code == 200 and response.json()["slots"]


async def test_unknown_slug_route_and_method_are_404_and_405_with_the_error_body(app: Starlette) -> None:
    async with client_for(app) as client:
        for path in ["/public/orgs/nobody", "/public/orgs/nobody/services", "/nothing/here"]:
            response = await client.get(path)
            assert response.status_code == 404 and error_code(response) == "not_found", path
        booking = await client.get("/bookings/bk_missing", headers=AUTH)
        assert booking.status_code == 404 and error_code(booking) == "not_found"
        wrong_method = await client.delete(f"{PUBLIC}/services")
        assert wrong_method.status_code == 405 and error_code(wrong_method) == "method_not_allowed"


async def test_demo_seed_serves_both_tenants(demo_app: Starlette) -> None:
    async with client_for(demo_app) as client:
        movela = await client.get("/public/orgs/movela/services")
        bloom = await client.get("/services", headers={"Authorization": "Bearer ck_test_bloom_demo"})
        slots = await client.get("/public/orgs/bloom/availability", params={"service_id": "svc_bloom_colour"})
    assert len(movela.json()["services"]) == 4
    assert {s["name"] for s in bloom.json()["services"]} == {"Haircut", "Colour", "Beard trim", "Blow-dry"}
    assert slots.status_code == 200 and slots.json()["slots"]


async def test_demo_hours_follow_lisbon_summer_time(clock: FixedClock) -> None:
    clock.now = datetime.fromisoformat("2026-03-20T00:00:00+00:00")
    app = create_app(clock=clock)
    params = {
        "service_id": "svc_movela_assessment",
        "practitioner_id": "prac_movela_ana",
        "from": "2026-03-27T00:00:00Z",
        "to": "2026-03-31T00:00:00Z",
    }
    async with client_for(app) as client:
        slots = (await client.get("/public/orgs/movela/availability", params=params)).json()["slots"]
    await sandbox_of(app).aclose()
    friday, monday = slots[0], next(s for s in slots if s["start"].startswith("2026-03-30"))
    assert friday["start"] == z("2026-03-27 09:00")  # 09:00 WET (UTC+0)
    assert monday["start"] == z("2026-03-30 08:00")  # 09:00 WEST (UTC+1)


async def test_public_surface_is_rate_limited_per_client(clock: FixedClock) -> None:
    app = create_app(seed=small_seed(), clock=clock, rate_limit=RateLimit(per_second=0.5, burst=3))
    async with client_for(app) as client, client_for(app, host="10.0.0.9") as elsewhere:
        statuses = [(await client.get(f"{PUBLIC}/services")).status_code for _ in range(3)]
        limited = await client.get(f"{PUBLIC}/services")
        fresh = await elsewhere.get(f"{PUBLIC}/services")  # another client has its own bucket
        keyed = [(await client.get("/services", headers=AUTH)).status_code for _ in range(5)]
    await sandbox_of(app).aclose()
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and error_code(limited) == "rate_limited"
    assert limited.headers["Retry-After"] == "2"  # one token comes back in 2 s at 0.5 per second
    assert fresh.status_code == 200
    assert keyed == [200] * 5  # the keyed surface is not rate limited


async def test_rate_limit_none_disables_it(app: Starlette) -> None:
    async with client_for(app) as client:
        statuses = {(await client.get(PUBLIC)).status_code for _ in range(300)}
    assert statuses == {200}


async def test_an_unescaped_plus_in_a_query_offset_still_parses(app: Starlette) -> None:
    # "+01:00" typed into a URL by hand arrives as " 01:00"; the sandbox reads it as meant.
    url = (
        f"{PUBLIC}/availability?service_id=svc_60&from=2026-06-02T10:00:00+01:00&to=2026-06-02T10:30:00+01:00"
    )
    async with client_for(app) as client:
        response = await client.get(url)
    assert [s["start"] for s in response.json()["slots"]] == [z("2026-06-02 09:00"), z("2026-06-02 09:15")]
