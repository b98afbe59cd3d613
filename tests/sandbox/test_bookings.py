"""Booking, rescheduling and cancelling in process: every status the quickstart documents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from cadence_adapter.sandbox import create_app, sandbox_of
from cadence_adapter.sandbox.store import Store
from tests.sandbox.helpers import (
    AUTH,
    OTHER_KEY,
    PAT,
    PUBLIC,
    FixedClock,
    booking_body,
    client_for,
    error_code,
    small_seed,
    z,
)

pytestmark = pytest.mark.anyio

# Tuesday 2 June 2026; Lisbon is UTC+1, so 10:00 local is 09:00Z.
TUE_10 = z("2026-06-02 09:00")
TUE_11 = z("2026-06-02 10:00")
SURFACES = [
    pytest.param(("/bookings", AUTH), id="keyed"),
    pytest.param((f"{PUBLIC}/bookings", {}), id="public"),
]


async def book(client: httpx.AsyncClient, start: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", {})
    return await client.post("/bookings", json=booking_body(start, **extra), headers={**AUTH, **headers})


async def free_practitioners(client: httpx.AsyncClient, start: str, service_id: str = "svc_60") -> list[str]:
    params = {"service_id": service_id, "from": start, "to": start.replace(":00Z", ":01Z")}
    slots = (await client.get(f"{PUBLIC}/availability", params=params)).json()["slots"]
    return slots[0]["practitioner_ids"] if slots and slots[0]["start"] == start else []


@pytest.mark.parametrize("surface", SURFACES)
async def test_create_returns_201_and_the_booking(
    app: Starlette, surface: tuple[str, dict[str, str]]
) -> None:
    path, headers = surface
    async with client_for(app) as client:
        response = await client.post(path, json=booking_body("2026-06-02T10:00:00+01:00"), headers=headers)
        fetched = await client.get(f"/bookings/{response.json()['id']}", headers=AUTH)
    assert response.status_code == 201
    booking = response.json()
    assert booking["id"].startswith("bk_")
    assert {k: v for k, v in booking.items() if k != "id"} == {
        "org_id": "org_acme",
        "service_id": "svc_60",
        "practitioner_id": "p1",
        "start": TUE_10,
        "end": z("2026-06-02 10:00"),
        "status": "confirmed",
        "customer": PAT,
        "created_at": z("2026-06-01 08:00"),
    }
    assert fetched.status_code == 200 and fetched.json() == booking


@pytest.mark.parametrize("surface", SURFACES)
async def test_idempotency_key_replays_and_mismatches(
    app: Starlette, surface: tuple[str, dict[str, str]]
) -> None:
    path, auth = surface
    headers = {**auth, "Idempotency-Key": "visit-42"}
    async with client_for(app) as client:
        first = await client.post(path, json=booking_body(TUE_10), headers=headers)
        # The same request, with the start written in another offset and keys in another order.
        same = {"customer": PAT, "start": "2026-06-02T10:00:00+01:00", "service_id": "svc_60"}
        replay = await client.post(path, json=same, headers=headers)
        different = await client.post(path, json=booking_body(TUE_11), headers=headers)
        listed = await client.get("/bookings", headers=AUTH)
    assert first.status_code == 201
    assert replay.status_code == 200 and replay.json() == first.json()
    assert different.status_code == 422 and error_code(different) == "idempotency_mismatch"
    assert len(listed.json()["bookings"]) == 1


async def test_idempotency_keys_belong_to_one_org(app: Starlette) -> None:
    other = {"Authorization": f"Bearer {OTHER_KEY}", "Idempotency-Key": "k"}
    async with client_for(app) as client:
        mine = await book(client, TUE_10, headers={"Idempotency-Key": "k"})
        theirs = await client.post("/bookings", json=booking_body(z("2026-06-08 13:00")), headers=other)
    assert mine.status_code == 201 and theirs.status_code == 201
    assert theirs.json()["org_id"] == "org_other"


async def test_replay_after_cancel_returns_the_booking_as_it_is_now(app: Starlette) -> None:
    headers = {"Idempotency-Key": "again"}
    async with client_for(app) as client:
        first = await book(client, TUE_10, headers=headers)
        await client.post(f"/bookings/{first.json()['id']}/cancel", headers=AUTH)
        replay = await book(client, TUE_10, headers=headers)
    assert replay.status_code == 200 and replay.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        booking_body(TUE_10, service_id="svc_nope"),
        booking_body(TUE_10, practitioner_id="nobody"),
        booking_body(TUE_10, service_id="svc_solo", practitioner_id="p2"),  # p2 does not offer it
    ],
)
async def test_unknown_service_or_practitioner_is_404(app: Starlette, body: dict[str, Any]) -> None:
    async with client_for(app) as client:
        response = await client.post("/bookings", json=body, headers=AUTH)
    assert response.status_code == 404 and error_code(response) == "not_found"


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(z("2026-06-01 08:00"), id="now-is-not-future"),
        pytest.param(z("2026-05-29 09:00"), id="past"),
        pytest.param(z("2026-06-02 09:05"), id="off-grid"),
        pytest.param(z("2026-06-02 09:00:30"), id="seconds"),
        pytest.param(z("2026-06-02 06:00"), id="before-opening"),
        pytest.param(z("2026-06-02 10:30"), id="runs-into-lunch"),
        pytest.param(z("2026-06-02 11:30"), id="lunch"),
        pytest.param(z("2026-06-06 09:00"), id="saturday"),
    ],
)
async def test_a_start_that_is_not_an_open_slot_is_422_not_open(app: Starlette, start: str) -> None:
    async with client_for(app) as client:
        response = await book(client, start)
        by_practitioner = await book(client, start, practitioner_id="p1")
    assert response.status_code == 422 and error_code(response) == "not_open"
    assert by_practitioner.status_code == 422 and error_code(by_practitioner) == "not_open"


async def test_an_overlapping_booking_for_the_practitioner_is_409(app: Starlette) -> None:
    async with client_for(app) as client:
        first = await book(client, TUE_10, practitioner_id="p1")
        again = await book(client, TUE_10, practitioner_id="p1")
        overlap = await book(client, z("2026-06-02 09:45"), practitioner_id="p1", service_id="svc_30")
        touching = await book(client, TUE_11, practitioner_id="p1")
        other_practitioner = await book(client, TUE_10, practitioner_id="p2")
    assert first.status_code == 201
    assert again.status_code == 409 and error_code(again) == "slot_taken"
    assert overlap.status_code == 409 and error_code(overlap) == "slot_taken"
    assert touching.status_code == 201  # 11:00 starts when 10:00-11:00 ends
    assert other_practitioner.status_code == 201


async def test_any_practitioner_until_all_are_busy_then_409(app: Starlette) -> None:
    async with client_for(app) as client:
        first = await book(client, TUE_10)
        second = await book(client, TUE_10)
        third = await book(client, TUE_10)
        offered = await free_practitioners(client, TUE_10)
    assert (first.status_code, second.status_code) == (201, 201)
    assert {first.json()["practitioner_id"], second.json()["practitioner_id"]} == {"p1", "p2"}
    assert third.status_code == 409 and error_code(third) == "slot_taken"
    assert offered == []


async def test_least_loaded_practitioner_is_chosen(app: Starlette) -> None:
    async with client_for(app) as client:
        # Tuesday: p1 already has a booking that day, so p2 gets the next one.
        await book(client, z("2026-06-02 08:00"), practitioner_id="p1")
        tuesday = await book(client, TUE_11)
        # Thursday: nobody has one that day; p1 has 1 upcoming (Tuesday), p2 has 1 too -> tie -> p1 by id.
        thursday = await book(client, z("2026-06-04 09:00"))
        # Friday: none that day; upcoming p1 = 2, p2 = 1 -> p2.
        friday = await book(client, z("2026-06-05 09:00"))
        # Wednesday: p2 has fewer that day but is busy at that time -> p1.
        await book(client, z("2026-06-03 08:00"), practitioner_id="p1")
        await book(client, z("2026-06-03 09:00"), practitioner_id="p1")
        await book(client, z("2026-06-03 13:00"), practitioner_id="p2")
        wednesday = await book(client, z("2026-06-03 13:00"))
    assert tuesday.json()["practitioner_id"] == "p2"
    assert thursday.json()["practitioner_id"] == "p1"
    assert friday.json()["practitioner_id"] == "p2"
    assert wednesday.json()["practitioner_id"] == "p1"


async def test_reschedule_moves_the_booking_and_frees_the_old_slot(app: Starlette) -> None:
    async with client_for(app) as client:
        booking = (await book(client, TUE_10, practitioner_id="p1")).json()
        moved = await client.post(
            f"/bookings/{booking['id']}/reschedule", json={"start": "2026-06-02T15:00:00+01:00"}, headers=AUTH
        )
        freed = await free_practitioners(client, TUE_10)
        taken = await free_practitioners(client, z("2026-06-02 14:00"))
        rebook_old = await book(client, TUE_10, practitioner_id="p1")
        fetched = await client.get(f"/bookings/{booking['id']}", headers=AUTH)
    assert moved.status_code == 200
    assert moved.json() == {**booking, "start": z("2026-06-02 14:00"), "end": z("2026-06-02 15:00")}
    assert fetched.json() == moved.json()
    assert freed == ["p1", "p2"] and taken == ["p2"]
    assert rebook_old.status_code == 201


async def test_reschedule_refusals(app: Starlette) -> None:
    async with client_for(app) as client:
        booking = (await book(client, TUE_10, practitioner_id="p1")).json()
        await book(client, z("2026-06-02 13:00"), practitioner_id="p1")
        path = f"/bookings/{booking['id']}/reschedule"
        taken = await client.post(path, json={"start": z("2026-06-02 13:30")}, headers=AUTH)
        off_grid = await client.post(path, json={"start": z("2026-06-02 13:10")}, headers=AUTH)
        past = await client.post(path, json={"start": z("2026-05-01 09:00")}, headers=AUTH)
        bad = await client.post(path, json={"when": "soon"}, headers=AUTH)
        missing = await client.post("/bookings/bk_nope/reschedule", json={"start": TUE_11}, headers=AUTH)
        other_org = await client.post(
            path, json={"start": TUE_11}, headers={"Authorization": f"Bearer {OTHER_KEY}"}
        )
        unchanged = await client.get(f"/bookings/{booking['id']}", headers=AUTH)
    assert taken.status_code == 409 and error_code(taken) == "slot_taken"
    assert off_grid.status_code == 422 and error_code(off_grid) == "not_open"
    assert past.status_code == 422 and error_code(past) == "not_open"
    assert bad.status_code == 422 and error_code(bad) == "invalid_request"
    assert missing.status_code == 404 and other_org.status_code == 404
    assert unchanged.json() == booking  # a refused move leaves the booking (and its slot) as it was


async def test_reschedule_may_overlap_its_own_old_time_and_same_start_is_a_no_op(app: Starlette) -> None:
    async with client_for(app) as client:
        booking = (await book(client, TUE_10, practitioner_id="p1")).json()
        path = f"/bookings/{booking['id']}/reschedule"
        shifted = await client.post(path, json={"start": z("2026-06-02 09:15")}, headers=AUTH)
        same = await client.post(path, json={"start": z("2026-06-02 09:15")}, headers=AUTH)
    assert shifted.status_code == 200 and shifted.json()["start"] == z("2026-06-02 09:15")
    assert same.status_code == 200 and same.json() == shifted.json()
    with sandbox_of(app).store.read() as tx:
        held = tx.conn.execute("SELECT MIN(minute), MAX(minute), COUNT(*) FROM occupancy").fetchone()
    first_minute = int(datetime.fromisoformat(z("2026-06-02 09:15")).timestamp()) // 60
    assert tuple(held) == (first_minute, first_minute + 59, 60)  # 10:00-10:15 local was given back


async def test_cancel_frees_the_slot_and_is_repeatable(app: Starlette) -> None:
    async with client_for(app) as client:
        booking = (await book(client, TUE_10, practitioner_id="p1")).json()
        cancelled = await client.post(f"/bookings/{booking['id']}/cancel", headers=AUTH)
        again = await client.post(f"/bookings/{booking['id']}/cancel", headers=AUTH)
        rebooked = await book(client, TUE_10, practitioner_id="p1")
        move = await client.post(
            f"/bookings/{booking['id']}/reschedule", json={"start": TUE_11}, headers=AUTH
        )
        other_org = await client.post(
            f"/bookings/{booking['id']}/cancel", headers={"Authorization": f"Bearer {OTHER_KEY}"}
        )
    assert cancelled.status_code == 200 and cancelled.json() == {**booking, "status": "cancelled"}
    assert again.status_code == 200 and again.json() == cancelled.json()
    assert rebooked.status_code == 201
    assert move.status_code == 422 and error_code(move) == "booking_cancelled"
    assert other_org.status_code == 404


async def test_list_bookings_newest_first_with_status_filter(app: Starlette, clock: FixedClock) -> None:
    async with client_for(app) as client:
        ids = []
        for start in (TUE_10, TUE_11, z("2026-06-02 12:00")):
            ids.append((await book(client, start, practitioner_id="p1")).json()["id"])
            clock.advance(minutes=1)
        await client.post(f"/bookings/{ids[1]}/cancel", headers=AUTH)
        everything = (await client.get("/bookings", headers=AUTH)).json()["bookings"]
        confirmed = (await client.get("/bookings", params={"status": "confirmed"}, headers=AUTH)).json()
        cancelled = (await client.get("/bookings", params={"status": "cancelled"}, headers=AUTH)).json()
        wrong = await client.get("/bookings", params={"status": "maybe"}, headers=AUTH)
        theirs = (await client.get("/bookings", headers={"Authorization": f"Bearer {OTHER_KEY}"})).json()
    assert [b["id"] for b in everything] == ids[::-1]
    assert [b["id"] for b in confirmed["bookings"]] == [ids[2], ids[0]]
    assert [b["id"] for b in cancelled["bookings"]] == [ids[1]]
    assert wrong.status_code == 422 and error_code(wrong) == "invalid_request"
    assert theirs == {"bookings": []}


async def test_thirty_concurrent_requests_in_process_make_one_booking(clock: FixedClock) -> None:
    app = create_app(seed=small_seed(practitioners=1), clock=clock, rate_limit=None)
    statuses: list[int] = []
    async with client_for(app) as client:

        async def attempt(i: int) -> None:
            body = booking_body(TUE_10, customer={"name": f"Customer {i}", "phone": "+351 912 345 678"})
            statuses.append((await client.post(f"{PUBLIC}/bookings", json=body)).status_code)

        async with anyio.create_task_group() as group:
            for i in range(30):
                group.start_soon(attempt, i)
        listed = (await client.get("/bookings", headers=AUTH)).json()["bookings"]
    await sandbox_of(app).aclose()
    assert sorted(statuses) == [201] + [409] * 29
    assert len(listed) == 1


def test_the_database_refuses_overlapping_occupancy_by_itself() -> None:
    """Below every Python check: two claims on one practitioner's minute cannot both commit."""
    store = Store()
    start = datetime.fromisoformat(TUE_10)
    with store.write() as tx:
        assert tx.try_occupy("org", "p1", "bk_a", start, start + timedelta(minutes=60))
        assert not tx.try_occupy(
            "org", "p1", "bk_b", start + timedelta(minutes=59), start + timedelta(minutes=90)
        )
        assert tx.try_occupy(
            "org", "p1", "bk_c", start + timedelta(minutes=60), start + timedelta(minutes=90)
        )
        assert tx.try_occupy("org", "p2", "bk_d", start, start + timedelta(minutes=60))
        rows = tx.conn.execute("SELECT booking_id, COUNT(*) FROM occupancy GROUP BY booking_id").fetchall()
    store.close()
    assert dict(rows) == {"bk_a": 60, "bk_c": 30, "bk_d": 60}


async def test_concurrent_retries_with_one_idempotency_key_make_one_booking(app: Starlette) -> None:
    answers: list[httpx.Response] = []
    async with client_for(app) as client:

        async def attempt() -> None:
            answers.append(await book(client, TUE_10, headers={"Idempotency-Key": "retry-me"}))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(attempt)
        listed = (await client.get("/bookings", headers=AUTH)).json()["bookings"]
    assert sorted(r.status_code for r in answers) == [200] * 9 + [201]
    assert {r.json()["id"] for r in answers} == {listed[0]["id"]} and len(listed) == 1
