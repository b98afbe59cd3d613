"""The sandbox's JSON edge: what requests may contain, and how records are written back.

Input models are strict on purpose (``extra="forbid"``, no type coercion, limits in ``Field``), so a
client bug shows up here as a 422 ``invalid_request`` naming the field, rather than as a booking that
the real Cadence would have refused. Output is plain dicts built from store records; every instant
leaves as UTC ISO-8601 with a ``Z``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from cadence_adapter.models import isoformat_z
from cadence_adapter.sandbox.availability import OpenSlot
from cadence_adapter.sandbox.problems import invalid_request
from cadence_adapter.sandbox.store import (
    BookingRecord,
    EndpointRecord,
    OrgRecord,
    PractitionerRecord,
    ServiceRecord,
)

__all__ = [
    "BookingIn",
    "CustomerIn",
    "RescheduleIn",
    "WebhookIn",
    "booking_json",
    "endpoint_json",
    "format_instant",
    "org_json",
    "parse_body",
    "parse_instant",
    "practitioner_json",
    "service_json",
    "slot_json",
]

_ModelT = TypeVar("_ModelT", bound=BaseModel)

# Deliberately simple: one @, no spaces, a dot in the domain. Real validation is sending a message.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
# A '+' in an unescaped query string arrives as a space: "10:00:00 01:00" meant "10:00:00+01:00".
_SPACE_OFFSET = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")
# Far enough either way for any booking, near enough that adding a duration can never overflow.
_EARLIEST, _LATEST = datetime(1971, 1, 1, tzinfo=UTC), datetime(9998, 1, 1, tzinfo=UTC)


def parse_instant(value: object) -> datetime:
    """An ISO-8601 instant with an explicit offset (``Z`` or ``±HH:MM``), as an aware UTC datetime.

    Raises ``ValueError`` for anything else: a time without an offset is ambiguous, and guessing the
    zone of a booking is how appointments end up an hour off.
    """
    if not isinstance(value, str):
        raise ValueError("must be an ISO-8601 date-time string")
    text = _SPACE_OFFSET.sub(r"\1+\2", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an ISO-8601 date-time: {value[:64]!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("needs a UTC offset, e.g. 2026-06-01T13:00:00Z")
    instant = parsed.astimezone(UTC)
    if not _EARLIEST <= instant < _LATEST:
        raise ValueError("is out of range")
    return instant


def format_instant(value: datetime) -> str:
    return isoformat_z(value)


Instant = Annotated[datetime, BeforeValidator(parse_instant)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CustomerIn(_Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("is not a valid email address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE.match(value) or not 5 <= digits <= 15:
            raise ValueError("is not a valid phone number")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> CustomerIn:
        if self.email is None and self.phone is None:
            raise ValueError("a customer needs an email or a phone")
        return self

    def as_dict(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class BookingIn(_Input):
    """``POST /bookings``: ``practitioner_id`` omitted (or null) means any free practitioner."""

    service_id: Identifier
    start: Instant
    customer: CustomerIn
    practitioner_id: Identifier | None = None

    def fingerprint(self) -> str:
        """The request's identity for Idempotency-Key replays: the same booking asked the same way,
        whatever the offset or key order the client used."""
        canonical = {
            "service_id": self.service_id,
            "start": format_instant(self.start),
            "customer": self.customer.as_dict(),
            "practitioner_id": self.practitioner_id,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


class RescheduleIn(_Input):
    start: Instant


class WebhookIn(_Input):
    url: Annotated[str, StringConstraints(max_length=2000)]
    events: list[Literal["booking.created", "booking.cancelled", "booking.rescheduled"]] = Field(
        min_length=1, max_length=10
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
            raise ValueError("must be an http(s) URL")
        return value


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def parse_body(model: type[_ModelT], data: Any) -> _ModelT:
    """Validate decoded JSON against an input model; 422 ``invalid_request`` naming the first problems."""
    if not isinstance(data, dict):
        raise invalid_request("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False)[:3]:
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{_where(tuple(error['loc']))}: {message}")
        raise invalid_request("; ".join(problems)) from None


def org_json(org: OrgRecord) -> dict[str, Any]:
    return {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "timezone": org.timezone,
        "branding": org.branding,
    }


def service_json(service: ServiceRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": service.id,
        "name": service.name,
        "duration_minutes": service.duration_minutes,
    }
    if service.description:
        body["description"] = service.description
    return body


def practitioner_json(practitioner: PractitionerRecord) -> dict[str, Any]:
    return {"id": practitioner.id, "name": practitioner.name, "service_ids": list(practitioner.service_ids)}


def slot_json(slot: OpenSlot) -> dict[str, Any]:
    return {
        "start": format_instant(slot.start),
        "end": format_instant(slot.end),
        "practitioner_ids": list(slot.practitioner_ids),
    }


def booking_json(booking: BookingRecord) -> dict[str, Any]:
    return {
        "id": booking.id,
        "org_id": booking.org_id,
        "service_id": booking.service_id,
        "practitioner_id": booking.practitioner_id,
        "start": format_instant(booking.start),
        "end": format_instant(booking.end),
        "status": booking.status,
        "customer": dict(booking.customer),
        "created_at": booking.created_at,
    }


def endpoint_json(endpoint: EndpointRecord, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events)}
    if with_secret:
        body["secret"] = endpoint.secret
    return body
