"""Async clients for Cadence: the keyless public surface by slug, and the keyed org surface.

Both share one pooled ``httpx.AsyncClient`` (pass your own to share it across tenants) and one request
path: error statuses become the typed exceptions of :mod:`cadence_adapter.errors`, and transient
failures (no connection, timeouts, 429, 502/503/504) are retried with jittered exponential backoff
inside a bounded total time. Every POST carries an ``Idempotency-Key``, the caller's or one generated
once per logical call and reused by its retries, so a retry can never create a second booking.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from cadence_adapter.errors import (
    APIError,
    BadRequest,
    CadenceError,
    InvalidResponse,
    NotFound,
    RateLimited,
    SlotNotOpen,
    SlotTaken,
    Unauthorized,
    Unavailable,
)
from cadence_adapter.models import (
    Availability,
    Booking,
    BookingRequest,
    Customer,
    Org,
    Practitioner,
    Service,
    WebhookEndpoint,
    isoformat_z,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "CadenceClient",
    "CadencePublicClient",
    "RetryPolicy",
    "api_root",
    "new_http_client",
]

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_ModelT = TypeVar("_ModelT", bound=BaseModel)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a transient failure."""

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 2.0
    total_seconds: float = 12.0
    """No retry starts once this much time has passed since the first attempt."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter backoff: uniform in [0, min(max, base * 2**attempt)]."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


NO_RETRY = RetryPolicy(attempts=1)


def api_root(base_url: str) -> str:
    """The ``/api/v1`` root for a service root; a root that already ends in ``/api/v1`` is kept."""
    root = base_url.rstrip("/")
    return root if root.endswith("/api/v1") else root + "/api/v1"


def new_http_client(
    *, transport: httpx.AsyncBaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.AsyncClient:
    """A pooled client suitable for sharing between every Cadence client of a process."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.AsyncClient(transport=transport, timeout=timeout, limits=limits)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_from(response: httpx.Response) -> APIError:
    """The typed exception for an error response, reading the ``{"error": {code, message}}`` body."""
    code, message = "", response.reason_phrase or "error"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = str(body["error"].get("code") or "")
        message = str(body["error"].get("message") or message)
    status = response.status_code
    if status == 429:
        return RateLimited(message, code=code or "rate_limited", retry_after=_retry_after(response))
    kind: type[APIError]
    if status in (401, 403):
        kind = Unauthorized
    elif status == 404:
        kind = NotFound
    elif status == 409:
        kind = SlotTaken
    elif status == 422 and code in ("not_open", "slot_not_open", ""):
        kind = SlotNotOpen
    elif status in (400, 422):
        kind = BadRequest
    elif status >= 500:
        kind = Unavailable
    else:
        kind = APIError
    return kind(message, status=status, code=code)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:  # not JSON, not UTF-8, or nested past the parser's depth
        raise InvalidResponse(f"Cadence answered {response.status_code} with a body not JSON") from exc
    except RecursionError as exc:
        raise InvalidResponse(f"Cadence answered {response.status_code} with JSON nested too deep") from exc


def _items(body: Any, key: str) -> list[Any]:
    """A list response, whether bare, under its own key, or under ``data``."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for name in (key, "data"):
            if isinstance(body.get(name), list):
                return list(body[name])
    raise InvalidResponse(f"unexpected response shape for {key}")


def _parse(model: type[_ModelT], data: Any) -> _ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidResponse(f"unexpected {model.__name__} from Cadence: {exc}") from exc


class _Requester:
    """The one request path both clients share: URL, auth, retries, error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        http: httpx.AsyncClient | None,
        retry: RetryPolicy,
        sleep: Sleep,
        rng: random.Random | None,
    ) -> None:
        self.root = api_root(base_url)
        self.headers = dict(headers)
        self.http = http if http is not None else new_http_client()
        self.owns_http = http is None
        self.retry = retry
        self.sleep = sleep
        self.rng = rng or random.Random()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = dict(self.headers)
        if method == "POST":
            # Generated once here, so every retry of this call presents the same key.
            headers["Idempotency-Key"] = idempotency_key or f"cb_{uuid.uuid4().hex}"
        url = self.root + path
        started = time.monotonic()
        attempt = 0
        # A POST attempt whose outcome is unknown (no answer, a 5xx): a later 429 says nothing of it, so
        # the caller hears of the doubt, never of the 429 alone (which would mean "nothing was made").
        missed: Unavailable | None = None
        while True:
            error: CadenceError
            try:
                response = await self.http.request(method, url, params=params, json=json, headers=headers)
            except httpx.TimeoutException as exc:
                error = Unavailable(f"Cadence timed out: {type(exc).__name__}", code="timeout")
            except httpx.TransportError as exc:
                error = Unavailable(f"Cadence unreachable: {type(exc).__name__}", code="network")
            else:
                if response.is_success:
                    return _json(response)
                error = _error_from(response)
            if method == "POST" and isinstance(error, Unavailable):
                missed = error
            delay = self._retry_delay(error, attempt, started)
            if delay is None:
                raise missed if missed is not None and isinstance(error, RateLimited) else error
            await self.sleep(delay)
            attempt += 1

    def _retry_delay(self, error: CadenceError, attempt: int, started: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        transient = isinstance(error, RateLimited) or (
            isinstance(error, Unavailable) and (error.status == 0 or error.status in _RETRY_STATUSES)
        )
        if not transient or attempt + 1 >= self.retry.attempts:
            return None
        delay = self.retry.delay(attempt, self.rng)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if time.monotonic() - started + delay > self.retry.total_seconds:
            return None
        return delay

    async def aclose(self) -> None:
        if self.owns_http:
            await self.http.aclose()


def _availability_params(
    service_id: str, start: datetime | None, end: datetime | None, practitioner_id: str | None
) -> dict[str, str]:
    params = {"service_id": service_id}
    if start is not None:
        params["from"] = isoformat_z(start)
    if end is not None:
        params["to"] = isoformat_z(end)
    if practitioner_id:
        params["practitioner_id"] = practitioner_id
    return params


def _booking_body(
    service_id: str,
    start: datetime,
    customer: Customer | Mapping[str, Any],
    practitioner_id: str | None,
) -> dict[str, Any]:
    person = customer if isinstance(customer, Customer) else Customer.model_validate(customer)
    request = BookingRequest(
        service_id=service_id, start=start, customer=person, practitioner_id=practitioner_id
    )
    return request.to_wire()


class _ClientBase:
    """The booking surface both clients share; ``_prefix`` is where it lives (public: by slug)."""

    _requester: _Requester
    _prefix: str = ""

    async def list_services(self) -> list[Service]:
        body = await self._requester.request("GET", f"{self._prefix}/services")
        return [_parse(Service, item) for item in _items(body, "services")]

    async def list_practitioners(self) -> list[Practitioner]:
        body = await self._requester.request("GET", f"{self._prefix}/practitioners")
        return [_parse(Practitioner, item) for item in _items(body, "practitioners")]

    async def get_availability(
        self,
        service_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        practitioner_id: str | None = None,
    ) -> Availability:
        params = _availability_params(service_id, start, end, practitioner_id)
        body = await self._requester.request("GET", f"{self._prefix}/availability", params=params)
        return _parse(Availability, body)

    async def create_booking(
        self,
        service_id: str,
        start: datetime,
        customer: Customer | Mapping[str, Any],
        *,
        practitioner_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Booking:
        body = _booking_body(service_id, start, customer, practitioner_id)
        answer = await self._requester.request(
            "POST", f"{self._prefix}/bookings", json=body, idempotency_key=idempotency_key
        )
        return _parse(Booking, answer)

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it; a shared one is left to its owner."""
        await self._requester.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class CadencePublicClient(_ClientBase):
    """The keyless public surface of one tenant, found by its slug."""

    def __init__(
        self,
        base_url: str,
        slug: str,
        *,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.slug = slug
        self._requester = _Requester(base_url, headers={}, http=http, retry=retry, sleep=sleep, rng=rng)
        self._prefix = f"/public/orgs/{httpx.URL(path=slug).raw_path.decode()}"

    async def get_org(self) -> Org:
        return _parse(Org, await self._requester.request("GET", self._prefix))


class CadenceClient(_ClientBase):
    """The keyed surface of one org: everything the public one does, plus managing bookings and
    webhook endpoints. The key is a server secret: read it from the environment, never log it."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._requester = _Requester(
            base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            http=http,
            retry=retry,
            sleep=sleep,
            rng=rng,
        )

    def __repr__(self) -> str:  # never show the key
        return f"CadenceClient({self._requester.root!r})"

    async def list_bookings(self, *, status: str | None = None) -> list[Booking]:
        params = {"status": status} if status else None
        body = await self._requester.request("GET", "/bookings", params=params)
        return [_parse(Booking, item) for item in _items(body, "bookings")]

    async def get_booking(self, booking_id: str) -> Booking:
        return _parse(Booking, await self._requester.request("GET", f"/bookings/{booking_id}"))

    async def reschedule_booking(
        self, booking_id: str, start: datetime, *, idempotency_key: str | None = None
    ) -> Booking:
        answer = await self._requester.request(
            "POST",
            f"/bookings/{booking_id}/reschedule",
            json={"start": isoformat_z(start)},
            idempotency_key=idempotency_key,
        )
        return _parse(Booking, answer)

    async def cancel_booking(self, booking_id: str, *, idempotency_key: str | None = None) -> Booking:
        answer = await self._requester.request(
            "POST", f"/bookings/{booking_id}/cancel", json={}, idempotency_key=idempotency_key
        )
        return _parse(Booking, answer)

    async def create_webhook(self, url: str, events: list[str]) -> WebhookEndpoint:
        """Register an endpoint; the answer carries the signing secret, shown this once."""
        answer = await self._requester.request("POST", "/webhooks", json={"url": url, "events": events})
        return _parse(WebhookEndpoint, answer)

    async def list_webhooks(self) -> list[WebhookEndpoint]:
        body = await self._requester.request("GET", "/webhooks")
        return [_parse(WebhookEndpoint, item) for item in _items(body, "webhooks")]

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._requester.request("DELETE", f"/webhooks/{webhook_id}")
