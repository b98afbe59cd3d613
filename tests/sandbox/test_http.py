"""The sandbox over real HTTP on 127.0.0.1: serving(), the CLI entry point, concurrency, webhooks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from cadence_adapter.sandbox import RateLimit, create_app, sandbox_of
from cadence_adapter.sandbox.server import _bind, serving
from cadence_adapter.webhooks import verify_signature
from tests.sandbox.helpers import (
    AUTH,
    NOW,
    PAT,
    FixedClock,
    Receiver,
    booking_body,
    error_code,
    small_seed,
    z,
)

pytestmark = pytest.mark.slow

START = z("2026-06-02 09:00")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api() -> Iterator[str]:
    """The /api/v1 root of a one-practitioner sandbox served on 127.0.0.1, rate limit 1/s burst 5."""
    app = create_app(seed=small_seed(practitioners=1), clock=FixedClock(NOW), rate_limit=RateLimit(1, 5))
    with serving(app) as base_url:
        yield base_url + "/api/v1"


def test_serving_yields_a_working_base_url_and_stops_cleanly(api: str) -> None:
    assert api.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=api) as client:
        org = client.get("/public/orgs/acme")
        first = client.post("/bookings", json=booking_body(START), headers={**AUTH, "Idempotency-Key": "a"})
        replay = client.post("/bookings", json=booking_body(START), headers={**AUTH, "Idempotency-Key": "a"})
        mismatch = client.post(
            "/bookings", json=booking_body(z("2026-06-02 10:00")), headers={**AUTH, "Idempotency-Key": "a"}
        )
        taken = client.post("/bookings", json=booking_body(START), headers=AUTH)
        not_open = client.post("/bookings", json=booking_body(z("2026-06-02 09:05")), headers=AUTH)
        missing = client.post("/bookings", json=booking_body(START, service_id="svc_x"), headers=AUTH)
        unauthorised = client.get("/bookings")
        malformed = client.post("/bookings", content=b"{", headers=AUTH)
        invalid = client.post("/bookings", json=booking_body(START, customer={"name": "Pat"}), headers=AUTH)
        limited = [client.get("/public/orgs/acme/services") for _ in range(6)]
    assert org.status_code == 200 and org.json()["slug"] == "acme"
    assert (first.status_code, replay.status_code, replay.json()["id"]) == (201, 200, first.json()["id"])
    assert (mismatch.status_code, error_code(mismatch)) == (422, "idempotency_mismatch")
    assert (taken.status_code, error_code(taken)) == (409, "slot_taken")
    assert (not_open.status_code, error_code(not_open)) == (422, "not_open")
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    assert (unauthorised.status_code, error_code(unauthorised)) == (401, "unauthorized")
    assert (malformed.status_code, error_code(malformed)) == (400, "bad_request")
    assert (invalid.status_code, error_code(invalid)) == (422, "invalid_request")
    # The org GET above spent one token of five; the sixth services call is refused.
    assert [r.status_code for r in limited].count(429) >= 1
    assert limited[-1].status_code == 429 and int(limited[-1].headers["Retry-After"]) >= 1


def test_serving_releases_the_port() -> None:
    app = create_app(seed=small_seed())
    with serving(app) as base_url:
        assert httpx.get(base_url + "/api/v1/public/orgs/acme").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/api/v1/public/orgs/acme", timeout=1)


def test_the_listening_socket_says_it_is_tcp_so_answers_are_not_held_back() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; a bare socket() has 0, and
    then each answer with a body waited ~40 ms on Nagle's algorithm and the client's delayed ACK."""
    with closing(_bind("127.0.0.1", 0)) as sock:
        assert sock.proto == socket.IPPROTO_TCP


def test_thirty_concurrent_requests_for_one_slot_make_exactly_one_booking(
    api: str,
) -> None:
    barrier = threading.Barrier(30)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        body = booking_body(START, customer={"name": f"Customer {i}", "email": f"c{i}@example.com"})
        with httpx.Client(base_url=api, timeout=30) as client:
            barrier.wait()
            status = client.post("/bookings", json=body, headers=AUTH).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with httpx.Client(base_url=api) as client:
        bookings = client.get("/bookings", headers=AUTH).json()["bookings"]
    assert sorted(statuses) == [201] + [409] * 29
    assert len(bookings) == 1 and bookings[0]["start"] == START


def test_webhooks_reach_a_real_receiver() -> None:
    receiver = Receiver(statuses=[502])
    with serving(receiver) as hook_base:
        hook = hook_base + "/cadence/webhook"
        seed = small_seed(
            webhooks=[{"url": hook, "secret": "whsec_real_http", "events": ["booking.created"]}]
        )
        app = create_app(seed=seed, clock=FixedClock(NOW), webhook_retry_delays=(0.05,))
        with serving(app) as base_url, httpx.Client(base_url=base_url + "/api/v1") as client:
            booking = client.post("/public/orgs/acme/bookings", json=booking_body(START)).json()
            deadline = 100
            while len(receiver.requests) < 2 and deadline:
                threading.Event().wait(0.05)
                deadline -= 1
            records = sandbox_of(app).deliveries()
    assert len(receiver.requests) == 2  # a 502, then the retry
    headers, body = receiver.requests[-1]
    assert verify_signature("whsec_real_http", body, headers["x-cadence-signature"])
    assert json.loads(body)["data"]["id"] == booking["id"]
    assert [(r.status, r.attempts) for r in records] == [("delivered", 2)]


def test_cli_sandbox_prints_where_it_listens_and_stops_on_interrupt() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        keys = process.stdout.readline().strip()
        assert line.startswith("Cadence sandbox on http://127.0.0.1:")
        assert line.endswith("/api/v1 (tenants: movela, bloom)")
        assert "ck_test_movela_demo" in keys
        api = line.split()[3]
        services = httpx.get(
            api + "/services", headers={"Authorization": "Bearer ck_test_movela_demo"}, timeout=5
        )
        slots = httpx.get(api + "/public/orgs/movela/availability?service_id=svc_movela_followup", timeout=5)
        assert services.status_code == 200 and len(services.json()["services"]) == 4
        assert slots.status_code == 200
        booking = httpx.post(
            api + "/public/orgs/movela/bookings",
            json={
                "service_id": "svc_movela_followup",
                "start": slots.json()["slots"][0]["start"],
                "customer": PAT,
            },
            timeout=5,
        )
        assert booking.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    assert code == 0, process.stderr.read() if process.stderr else ""


def test_cli_sandbox_with_a_bad_seed_exits_2(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"orgs": [{"id": "x"}]}))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "sandbox", "--seed", str(seed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "is invalid" in result.stderr and "orgs[0].slug" in result.stderr
