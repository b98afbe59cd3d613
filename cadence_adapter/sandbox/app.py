"""The sandbox's HTTP surface: the documented Cadence routes under ``/api/v1``, as a Starlette app.

Everything is declared in :func:`create_app`: the routes of the keyless public surface (tenant by slug,
rate limited per client) and of the keyed surface (``Authorization: Bearer ck_...``), the exception
handlers that give every error the ``{"error": {"code", "message"}}`` body, and a lifespan that starts
and stops webhook delivery. Handlers only translate HTTP to :class:`~cadence_adapter.sandbox.domain.Domain`
calls and back; the rules live there, SQL in store.py, slot arithmetic in availability.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from cadence_adapter.sandbox.delivery import DEFAULT_RETRY_DELAYS, Deliverer
from cadence_adapter.sandbox.domain import Change, Clock, Domain, utc_now
from cadence_adapter.sandbox.problems import ApiProblem, error_response, invalid_request
from cadence_adapter.sandbox.ratelimit import DEFAULT_RATE_LIMIT, RateLimit, RateLimitMiddleware, TokenBuckets
from cadence_adapter.sandbox.seed import Seed, apply_seed, load_seed
from cadence_adapter.sandbox.store import DeliveryRecord, OrgRecord, Store
from cadence_adapter.sandbox.wire import (
    BookingIn,
    RescheduleIn,
    WebhookIn,
    booking_json,
    endpoint_json,
    format_instant,
    org_json,
    parse_body,
    parse_instant,
    practitioner_json,
    service_json,
    slot_json,
)

__all__ = ["MAX_BODY_BYTES", "Sandbox", "create_app", "sandbox_of"]

MAX_BODY_BYTES = 64 * 1024
DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=31)
BOOKING_STATUSES = ("confirmed", "cancelled")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sandbox:
    """What a running sandbox app is made of; reach it with :func:`sandbox_of`."""

    store: Store
    domain: Domain
    deliverer: Deliverer

    def deliveries(self) -> list[DeliveryRecord]:
        """Every webhook delivery with its status, attempts and last outcome, oldest first."""
        return self.domain.deliveries()

    async def aclose(self) -> None:
        """Stop webhook delivery and close the database; the app is unusable afterwards."""
        await self.deliverer.aclose()
        self.store.close()


def sandbox_of(app: Starlette) -> Sandbox:
    sandbox: Sandbox = app.state.sandbox
    return sandbox


# --- request helpers -------------------------------------------------------------------------------


async def _read_json(request: Request) -> Any:
    """The decoded JSON body: 422 when over :data:`MAX_BODY_BYTES` (checked while reading, so a huge
    body is never held in memory), 400 ``bad_request`` when it is not JSON."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise invalid_request(f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise invalid_request(f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiProblem(400, "bad_request", "expected a JSON body")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiProblem(400, "bad_request", "the body is not valid JSON") from None


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise invalid_request("Idempotency-Key must be 1 to 255 characters")
    return key


def _query_instant(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise invalid_request(f"{name}: {exc}") from None


def _query_id(request: Request, name: str, *, required: bool) -> str | None:
    value = request.query_params.get(name) or None
    if value is None and required:
        raise invalid_request(f"{name} is required")
    if value is not None and len(value) > 100:
        raise invalid_request(f"{name} is too long")
    return value


class _Handlers:
    """One method per route. A handler serves both surfaces when the org comes from :meth:`_org`."""

    def __init__(self, domain: Domain, deliverer: Deliverer) -> None:
        self.domain = domain
        self.deliverer = deliverer

    async def _org(self, request: Request) -> OrgRecord:
        """The org by slug on the public surface, by API key on the keyed one."""
        slug = request.path_params.get("slug")
        if slug is not None:
            return await run_in_threadpool(self.domain.org_by_slug, slug)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiProblem(
                401,
                "unauthorized",
                "missing org API key: send Authorization: Bearer ck_...",
                headers={"WWW-Authenticate": "Bearer"},
            )
        org = await run_in_threadpool(self.domain.org_by_key, key.strip())
        if org is None:
            raise ApiProblem(
                401, "unauthorized", "unknown org API key", headers={"WWW-Authenticate": "Bearer"}
            )
        return org

    def _changed(self, change: Change, *, created_status: int = 200) -> JSONResponse:
        if change.queued:
            self.deliverer.kick()  # sent in the background; the response does not wait
        status = created_status if change.created else 200
        return JSONResponse(booking_json(change.booking), status_code=status)

    async def get_org(self, request: Request) -> Response:
        return JSONResponse(org_json(await self._org(request)))

    async def list_services(self, request: Request) -> Response:
        org = await self._org(request)
        services = await run_in_threadpool(self.domain.services, org)
        return JSONResponse({"services": [service_json(s) for s in services]})

    async def list_practitioners(self, request: Request) -> Response:
        org = await self._org(request)
        practitioners = await run_in_threadpool(self.domain.practitioners, org)
        return JSONResponse({"practitioners": [practitioner_json(p) for p in practitioners]})

    async def availability(self, request: Request) -> Response:
        org = await self._org(request)
        service_id = _query_id(request, "service_id", required=True)
        assert service_id is not None
        practitioner_id = _query_id(request, "practitioner_id", required=False)
        start = _query_instant(request, "from") or self.domain.now()
        end = _query_instant(request, "to") or start + DEFAULT_WINDOW
        if end <= start:
            raise invalid_request("'to' must be after 'from'")
        if end - start > MAX_WINDOW:
            raise invalid_request(f"the window from 'from' to 'to' may span at most {MAX_WINDOW.days} days")
        slots = await run_in_threadpool(
            self.domain.availability, org, service_id, practitioner_id, start, end
        )
        return JSONResponse({"slots": [slot_json(slot) for slot in slots]})

    async def create_booking(self, request: Request) -> Response:
        org = await self._org(request)
        body = parse_body(BookingIn, await _read_json(request))
        key = _idempotency_key(request)
        change = await run_in_threadpool(self.domain.create_booking, org, body, key)
        return self._changed(change, created_status=201)

    async def list_bookings(self, request: Request) -> Response:
        org = await self._org(request)
        status = request.query_params.get("status") or None
        if status is not None and status not in BOOKING_STATUSES:
            raise invalid_request(f"status must be one of {', '.join(BOOKING_STATUSES)}")
        bookings = await run_in_threadpool(self.domain.list_bookings, org, status)
        return JSONResponse({"bookings": [booking_json(b) for b in bookings]})

    async def get_booking(self, request: Request) -> Response:
        org = await self._org(request)
        booking = await run_in_threadpool(self.domain.get_booking, org, request.path_params["booking_id"])
        return JSONResponse(booking_json(booking))

    async def reschedule_booking(self, request: Request) -> Response:
        org = await self._org(request)
        body = parse_body(RescheduleIn, await _read_json(request))
        change = await run_in_threadpool(
            self.domain.reschedule, org, request.path_params["booking_id"], body.start
        )
        return self._changed(change)

    async def cancel_booking(self, request: Request) -> Response:
        org = await self._org(request)
        change = await run_in_threadpool(self.domain.cancel, org, request.path_params["booking_id"])
        return self._changed(change)

    async def create_webhook(self, request: Request) -> Response:
        org = await self._org(request)
        body = parse_body(WebhookIn, await _read_json(request))
        endpoint = await run_in_threadpool(self.domain.create_endpoint, org, body.url, body.events)
        return JSONResponse(endpoint_json(endpoint, with_secret=True), status_code=201)

    async def list_webhooks(self, request: Request) -> Response:
        org = await self._org(request)
        endpoints = await run_in_threadpool(self.domain.list_endpoints, org)
        return JSONResponse({"webhooks": [endpoint_json(e) for e in endpoints]})

    async def delete_webhook(self, request: Request) -> Response:
        org = await self._org(request)
        await run_in_threadpool(self.domain.delete_endpoint, org, request.path_params["webhook_id"])
        return Response(status_code=204)


# --- errors ----------------------------------------------------------------------------------------

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return exc.response()


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("sandbox bug on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the sandbox failed; this is a bug in the sandbox")


class _ResumeDeliveries:
    """On the first request, restart delivery of webhooks a previous run left pending.

    Needed because ``httpx.ASGITransport`` never runs the lifespan; under uvicorn the lifespan has
    already done it and this costs one flag check per request.
    """

    def __init__(self, app: ASGIApp, deliverer: Deliverer, store: Store) -> None:
        self.app = app
        self.deliverer = deliverer
        self.store = store
        self.checked = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.checked and scope["type"] == "http":
            self.checked = True
            await _resume_pending(self.deliverer, self.store)
        await self.app(scope, receive, send)


async def _resume_pending(deliverer: Deliverer, store: Store) -> None:
    def pending() -> bool:
        with store.read() as tx:
            due, next_at = tx.due_deliveries(float("inf"))
            return bool(due) or next_at is not None

    if await run_in_threadpool(pending):
        deliverer.ensure_started()


# --- the app ---------------------------------------------------------------------------------------


def create_app(
    *,
    db: str | Path | None = None,
    seed: Mapping[str, Any] | str | Path | Seed | None = None,
    clock: Clock | None = None,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
) -> Starlette:
    """A local Cadence.

    Parameters:
        db: SQLite file to use (created if missing); None for a temporary database that lives as long
            as the app and works from several threads and event loops.
        seed: a seed dict or JSON file (DESIGN.md's format); None for the built-in demo (movela, bloom).
            Seeding an existing file upserts, so it never duplicates. Raises ``SeedError`` when invalid.
        clock: returns the current aware instant; drives "only future slots" and timestamps.
        rate_limit: token bucket per client host on the public surface; None disables it.
        webhook_transport: where webhook POSTs go (e.g. ``httpx.ASGITransport(receiver)``); None for
            the network.
        webhook_retry_delays: seconds to wait before each retry of a failed delivery; after the last
            one the delivery is recorded as failed.
    """
    valid_seed = load_seed(seed)  # validate before touching the database
    store = Store(db)
    domain = Domain(store, clock or utc_now)
    apply_seed(store, valid_seed, created_at=format_instant(domain.now().replace(microsecond=0)))
    deliverer = Deliverer(store, transport=webhook_transport, retry_delays=webhook_retry_delays)
    api = _Handlers(domain, deliverer)

    public_routes: list[BaseRoute] = [
        Route("/orgs/{slug}", api.get_org),
        Route("/orgs/{slug}/services", api.list_services),
        Route("/orgs/{slug}/practitioners", api.list_practitioners),
        Route("/orgs/{slug}/availability", api.availability),
        Route("/orgs/{slug}/bookings", api.create_booking, methods=["POST"]),
    ]
    keyed_routes: list[BaseRoute] = [
        Route("/services", api.list_services),
        Route("/practitioners", api.list_practitioners),
        Route("/availability", api.availability),
        Route("/bookings", api.create_booking, methods=["POST"]),
        Route("/bookings", api.list_bookings, methods=["GET"]),
        Route("/bookings/{booking_id}", api.get_booking),
        Route("/bookings/{booking_id}/reschedule", api.reschedule_booking, methods=["POST"]),
        Route("/bookings/{booking_id}/cancel", api.cancel_booking, methods=["POST"]),
        Route("/webhooks", api.create_webhook, methods=["POST"]),
        Route("/webhooks", api.list_webhooks, methods=["GET"]),
        Route("/webhooks/{webhook_id}", api.delete_webhook, methods=["DELETE"]),
    ]
    public_middleware = (
        [Middleware(RateLimitMiddleware, buckets=TokenBuckets(rate_limit))] if rate_limit is not None else []
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await _resume_pending(deliverer, store)
        yield
        await deliverer.aclose()

    app = Starlette(
        routes=[
            Mount(
                "/api/v1",
                routes=[Mount("/public", routes=public_routes, middleware=public_middleware), *keyed_routes],
            )
        ],
        middleware=[Middleware(_ResumeDeliveries, deliverer=deliverer, store=store)],
        exception_handlers={
            ApiProblem: _on_problem,
            HTTPException: _on_http_exception,
            Exception: _on_crash,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = Sandbox(store=store, domain=domain, deliverer=deliverer)
    return app
