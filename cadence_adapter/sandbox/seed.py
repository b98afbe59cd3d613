"""The seed: which orgs, keys, services, practitioners and webhook endpoints a sandbox starts with.

A seed is a JSON file (``cadence-bot sandbox --seed FILE``) or a dict (tests), in the format of
DESIGN.md. It is validated in full before anything is written, so a typo is one clear message naming
the place (``orgs[0].practitioners[1].hours.mon[0]: end 09:00 is not after start 13:00``) rather than a
half-seeded database. Without a seed the built-in demo (``demo_seed.json`` beside this file: ``movela``
and ``bloom``) is loaded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from cadence_adapter.sandbox.availability import WeeklyHours, parse_weekly_hours
from cadence_adapter.sandbox.store import EndpointRecord, Store

__all__ = [
    "DEMO_SEED_PATH",
    "EVENT_TYPES",
    "Seed",
    "SeedError",
    "SeedOrg",
    "SeedPractitioner",
    "SeedService",
    "SeedWebhook",
    "apply_seed",
    "load_seed",
    "seed_endpoint_id",
]

DEMO_SEED_PATH = Path(__file__).with_name("demo_seed.json")

EVENT_TYPES = ("booking.created", "booking.cancelled", "booking.rescheduled")

EventName = Literal["booking.created", "booking.cancelled", "booking.rescheduled"]

# Ids end up in URLs and query strings, so they are kept to characters that need no escaping.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HttpUrl = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$")]


class SeedError(ValueError):
    """A seed that cannot be read or does not describe a valid set of orgs; the message says where."""


class _SeedModel(BaseModel):
    # Unknown fields are refused: in a hand-written file they are almost always typos.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedService(_SeedModel):
    id: Identifier
    name: Name
    duration_minutes: int = Field(gt=0, le=24 * 60)
    description: str | None = Field(default=None, max_length=2000)


class SeedPractitioner(_SeedModel):
    id: Identifier
    name: Name
    service_ids: list[Identifier]
    hours: dict[str, list[list[str]]] = Field(default_factory=dict)

    @field_validator("hours")
    @classmethod
    def _hours_parse(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        parse_weekly_hours(value)  # raises ValueError naming the day and interval
        return value

    def weekly_hours(self) -> WeeklyHours:
        return parse_weekly_hours(self.hours)


class SeedWebhook(_SeedModel):
    url: HttpUrl
    secret: str = Field(min_length=8, max_length=200)
    events: list[EventName] = Field(min_length=1)


class SeedOrg(_SeedModel):
    id: Identifier
    slug: Slug
    name: Name
    timezone: str
    api_keys: list[Annotated[str, StringConstraints(min_length=8, max_length=200)]] = Field(
        default_factory=list
    )
    webhooks: list[SeedWebhook] = Field(default_factory=list)
    services: list[SeedService] = Field(default_factory=list)
    practitioners: list[SeedPractitioner] = Field(default_factory=list)
    branding: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Lisbon") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SeedOrg:
        _unique("service id", [service.id for service in self.services])
        _unique("practitioner id", [practitioner.id for practitioner in self.practitioners])
        _unique("webhook url", [webhook.url for webhook in self.webhooks])
        known = {service.id for service in self.services}
        for practitioner in self.practitioners:
            missing = [sid for sid in practitioner.service_ids if sid not in known]
            if missing:
                raise ValueError(f"practitioner {practitioner.id!r} offers unknown service(s) {missing}")
        return self


class Seed(_SeedModel):
    orgs: list[SeedOrg] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_across_orgs(self) -> Seed:
        _unique("org id", [org.id for org in self.orgs])
        _unique("org slug", [org.slug for org in self.orgs])
        _unique("api key", [key for org in self.orgs for key in org.api_keys])
        return self


def _unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as ``orgs[0].practitioners[1].hours``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "seed"


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"seed {source} is invalid:"]
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {_where(tuple(error['loc']))}: {message}")
    return "\n".join(lines)


def load_seed(source: Seed | Mapping[str, Any] | str | Path | None = None) -> Seed:
    """The validated seed from a file path, a dict, or (for None) the built-in demo.

    Raises :class:`SeedError` for an unreadable file, a file that is not JSON, or content that does not
    validate; the message names the source and every problem found.
    """
    if isinstance(source, Seed):
        return source
    if source is None:
        source = DEMO_SEED_PATH
    if isinstance(source, Mapping):
        data: Any = dict(source)
        label = "(dict)"
    else:
        path = Path(source)
        label = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SeedError(f"cannot read seed {label}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedError(
                f"seed {label} is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from exc
    try:
        return Seed.model_validate(data)
    except ValidationError as exc:
        raise SeedError(_describe(exc, label)) from exc


def seed_endpoint_id(org_id: str, url: str) -> str:
    """A stable id for a seed webhook, so seeding the same file again updates rather than duplicates."""
    return "wh_seed_" + hashlib.sha256(f"{org_id}\n{url}".encode()).hexdigest()[:16]


def apply_seed(store: Store, seed: Seed, *, created_at: str) -> None:
    """Write the seed into the store in one transaction. Upserts throughout: applying the same seed to
    an existing database changes nothing, and an edited seed updates names, hours and endpoints in place
    (nothing is deleted; bookings are never touched)."""
    with store.write() as tx:
        for org in seed.orgs:
            tx.upsert_org(org.id, org.slug, org.name, org.timezone, org.branding)
            for key in org.api_keys:
                tx.add_api_key(org.id, key)
            for position, service in enumerate(org.services):
                tx.upsert_service(
                    org.id, service.id, service.name, service.duration_minutes, service.description, position
                )
            for position, practitioner in enumerate(org.practitioners):
                tx.upsert_practitioner(
                    org.id,
                    practitioner.id,
                    practitioner.name,
                    practitioner.service_ids,
                    practitioner.hours,
                    position,
                )
            for webhook in org.webhooks:
                endpoint = EndpointRecord(
                    id=seed_endpoint_id(org.id, webhook.url),
                    org_id=org.id,
                    url=webhook.url,
                    events=tuple(webhook.events),
                    secret=webhook.secret,
                )
                tx.upsert_endpoint(endpoint, created_at)
