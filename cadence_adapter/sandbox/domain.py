"""The sandbox's rules: what is open, who gets a booking, when it is refused, which events fire.

Every method is synchronous and runs in one database transaction; the HTTP layer calls them from a
worker thread, so concurrent requests really do race inside SQLite, and the occupancy table (see
store.py) is what keeps two bookings off one practitioner's minute, not the checks made here first.

A webhook event is written to the delivery outbox in the same transaction as the change it reports,
so an event is queued exactly when its change commits; delivery.py sends it later.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cadence_adapter.sandbox import availability
from cadence_adapter.sandbox.availability import OpenSlot
from cadence_adapter.sandbox.problems import ApiProblem, not_found, not_open, slot_taken
from cadence_adapter.sandbox.store import (
    BookingRecord,
    DeliveryRecord,
    EndpointRecord,
    OrgRecord,
    PractitionerRecord,
    ServiceRecord,
    Store,
    Tx,
    hash_api_key,
)
from cadence_adapter.sandbox.wire import BookingIn, booking_json, format_instant

__all__ = ["Change", "Clock", "Domain", "utc_now"]

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware. Tests pass a fixed one."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of a booking write: the booking as it now is, whether this request created it
    (201) or found it (200), and how many webhook deliveries it queued."""

    booking: BookingRecord
    created: bool = False
    queued: int = 0


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class Domain:
    """The local Cadence's behaviour over a :class:`Store`, with time from ``clock``."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self.store = store
        self._clock = clock

    def now(self) -> datetime:
        current = self._clock()
        if current.tzinfo is None:
            raise ValueError("the sandbox clock must return a timezone-aware datetime")
        return current.astimezone(UTC)

    def _stamp(self) -> str:
        """A creation time as written on the wire (whole seconds keep it readable)."""
        return format_instant(self.now().replace(microsecond=0))

    # --- orgs and catalogue ------------------------------------------------------------------------

    def org_by_slug(self, slug: str) -> OrgRecord:
        with self.store.read() as tx:
            org = tx.org_by_slug(slug)
        if org is None:
            raise not_found(f"no organization with slug {slug!r}")
        return org

    def org_by_key(self, key: str) -> OrgRecord | None:
        with self.store.read() as tx:
            return tx.org_by_key_hash(hash_api_key(key))

    def orgs(self) -> list[OrgRecord]:
        with self.store.read() as tx:
            return tx.orgs()

    def services(self, org: OrgRecord) -> list[ServiceRecord]:
        with self.store.read() as tx:
            return tx.services(org.id)

    def practitioners(self, org: OrgRecord) -> list[PractitionerRecord]:
        with self.store.read() as tx:
            return tx.practitioners(org.id)

    @staticmethod
    def _service_and_staff(
        tx: Tx, org: OrgRecord, service_id: str, practitioner_id: str | None
    ) -> tuple[ServiceRecord, list[PractitionerRecord]]:
        """The service and the practitioners who could do it (just the one asked for, if any)."""
        service = tx.service(org.id, service_id)
        if service is None:
            raise not_found(f"no service {service_id!r}")
        staff = [p for p in tx.practitioners(org.id) if service.id in p.service_ids]
        if practitioner_id is not None:
            staff = [p for p in staff if p.id == practitioner_id]
            if not staff:
                raise not_found(f"no practitioner {practitioner_id!r} offering {service_id!r}")
        return service, staff

    # --- availability ------------------------------------------------------------------------------

    def availability(
        self,
        org: OrgRecord,
        service_id: str,
        practitioner_id: str | None,
        window_start: datetime,
        window_end: datetime,
    ) -> list[OpenSlot]:
        now = self.now()
        with self.store.read() as tx:
            service, staff = self._service_and_staff(tx, org, service_id, practitioner_id)
            duration = timedelta(minutes=service.duration_minutes)
            busy = tx.busy(org.id, [p.id for p in staff], window_start, window_end + duration)
        tz = ZoneInfo(org.timezone)
        per_practitioner = {
            p.id: availability.practitioner_slots(
                p.hours, tz, busy[p.id], window_start, window_end, now, duration
            )
            for p in staff
        }
        return availability.merge_slots(per_practitioner)

    # --- bookings ----------------------------------------------------------------------------------

    def create_booking(self, org: OrgRecord, request: BookingIn, idempotency_key: str | None) -> Change:
        """Book ``request``; with a key already used, return that booking if the body matches.

        Refusals: 404 service or practitioner, 422 not_open (not a slot start in the future), 409
        slot_taken (a slot start, but every practitioner who could take it is busy).
        """
        now = self.now()
        fingerprint = request.fingerprint()
        with self.store.write() as tx:
            if idempotency_key is not None:
                prior = tx.idempotent_booking(org.id, idempotency_key)
                if prior is not None:
                    if prior[0] != fingerprint:
                        raise ApiProblem(
                            422,
                            "idempotency_mismatch",
                            "this Idempotency-Key was used with a different request body",
                        )
                    booking = tx.booking(org.id, prior[1])
                    assert booking is not None  # an idempotency row always points at a booking
                    return Change(booking)
            service, staff = self._service_and_staff(tx, org, request.service_id, request.practitioner_id)
            duration = timedelta(minutes=service.duration_minutes)
            start, end = request.start, request.start + duration
            tz = ZoneInfo(org.timezone)
            candidates = self._open_for(staff, tz, start, duration, now)
            booking_id = _new_id("bk")
            for practitioner in self._least_loaded_first(tx, org, tz, candidates, start, now):
                if not tx.try_occupy(org.id, practitioner.id, booking_id, start, end):
                    continue  # busy then; the next least-loaded one may be free
                booking = BookingRecord(
                    id=booking_id,
                    org_id=org.id,
                    service_id=service.id,
                    practitioner_id=practitioner.id,
                    start=start,
                    end=end,
                    status="confirmed",
                    customer=request.customer.as_dict(),
                    created_at=self._stamp(),
                )
                tx.insert_booking(booking)
                if idempotency_key is not None:
                    tx.remember_idempotency(org.id, idempotency_key, fingerprint, booking_id)
                queued = self._queue(tx, org, "booking.created", booking)
                return Change(booking, created=True, queued=queued)
        raise slot_taken(f"{format_instant(start)} was just taken; ask for availability again")

    @staticmethod
    def _open_for(
        staff: Sequence[PractitionerRecord], tz: ZoneInfo, start: datetime, duration: timedelta, now: datetime
    ) -> list[PractitionerRecord]:
        """The practitioners whose hours have ``start`` as a slot; 422 not_open when nobody's do."""
        if start <= now:
            raise not_open(f"{format_instant(start)} is in the past")
        on_grid = [p for p in staff if availability.is_grid_start(p.hours, tz, start, duration)]
        if not on_grid:
            raise not_open(f"{format_instant(start)} is not an open slot start for this service")
        return on_grid

    @staticmethod
    def _least_loaded_first(
        tx: Tx,
        org: OrgRecord,
        tz: ZoneInfo,
        candidates: list[PractitionerRecord],
        start: datetime,
        now: datetime,
    ) -> list[PractitionerRecord]:
        """Fewest confirmed bookings on the start's local day, then fewest upcoming overall, then id."""
        if len(candidates) < 2:
            return candidates
        ids = [p.id for p in candidates]
        day = start.astimezone(tz).date()
        that_day = tx.confirmed_counts(
            org.id, ids, _local_midnight(day, tz), _local_midnight(day + timedelta(1), tz)
        )
        upcoming = tx.confirmed_counts(org.id, ids, now)
        return sorted(candidates, key=lambda p: (that_day[p.id], upcoming[p.id], p.id))

    def list_bookings(self, org: OrgRecord, status: str | None) -> list[BookingRecord]:
        with self.store.read() as tx:
            return tx.bookings(org.id, status)

    def get_booking(self, org: OrgRecord, booking_id: str) -> BookingRecord:
        with self.store.read() as tx:
            return _found(tx.booking(org.id, booking_id), booking_id)

    def reschedule(self, org: OrgRecord, booking_id: str, start: datetime) -> Change:
        """Move a booking to ``start`` with the same practitioner, freeing its old time.

        Moving to its current start changes nothing (so a retried request is harmless); the new time
        may overlap the old one, because the old minutes are given back before the new ones are taken.
        """
        now = self.now()
        with self.store.write() as tx:
            booking = _found(tx.booking(org.id, booking_id), booking_id)
            if booking.status != "confirmed":
                raise ApiProblem(422, "booking_cancelled", f"booking {booking_id} is cancelled")
            if start == booking.start:
                return Change(booking)
            duration = booking.end - booking.start
            service = tx.service(org.id, booking.service_id)
            if service is not None:
                duration = timedelta(minutes=service.duration_minutes)
            staff = [p for p in tx.practitioners(org.id) if p.id == booking.practitioner_id]
            self._open_for(staff, ZoneInfo(org.timezone), start, duration, now)
            tx.release(booking.id)
            if not tx.try_occupy(org.id, booking.practitioner_id, booking.id, start, start + duration):
                raise slot_taken(f"{format_instant(start)} is taken for this practitioner")
            tx.move_booking(booking.id, start, start + duration, self._stamp())
            moved = replace(booking, start=start, end=start + duration)
            queued = self._queue(tx, org, "booking.rescheduled", moved, previous=booking)
        return Change(moved, queued=queued)

    def cancel(self, org: OrgRecord, booking_id: str) -> Change:
        """Cancel a booking and free its time; cancelling it again just returns it."""
        with self.store.write() as tx:
            booking = _found(tx.booking(org.id, booking_id), booking_id)
            if booking.status == "cancelled":
                return Change(booking)
            tx.release(booking.id)
            tx.set_status(booking.id, "cancelled", self._stamp())
            cancelled = replace(booking, status="cancelled")
            queued = self._queue(tx, org, "booking.cancelled", cancelled)
        return Change(cancelled, queued=queued)

    # --- webhooks ----------------------------------------------------------------------------------

    def _queue(
        self,
        tx: Tx,
        org: OrgRecord,
        event_type: str,
        booking: BookingRecord,
        previous: BookingRecord | None = None,
    ) -> int:
        """Write the event into the outbox for every subscribed endpoint; the body is fixed now, so
        every retry sends (and signs) the same bytes."""
        event_id = _new_id("evt")
        event: dict[str, Any] = {
            "id": event_id,
            "type": event_type,
            "created_at": self._stamp(),
            "data": booking_json(booking),
        }
        if previous is not None:
            event["previous"] = {"start": format_instant(previous.start), "end": format_instant(previous.end)}
        body = json.dumps(event, separators=(",", ":")).encode()
        return tx.queue_event(org.id, event_type, event_id, body, event["created_at"], due=0.0)

    def create_endpoint(self, org: OrgRecord, url: str, events: Sequence[str]) -> EndpointRecord:
        endpoint = EndpointRecord(
            id=_new_id("wh"),
            org_id=org.id,
            url=url,
            events=tuple(dict.fromkeys(events)),  # de-duplicated, order kept
            secret="whsec_" + secrets.token_hex(24),
        )
        with self.store.write() as tx:
            tx.upsert_endpoint(endpoint, self._stamp())
        return endpoint

    def list_endpoints(self, org: OrgRecord) -> list[EndpointRecord]:
        with self.store.read() as tx:
            return tx.endpoints(org.id)

    def delete_endpoint(self, org: OrgRecord, endpoint_id: str) -> None:
        with self.store.write() as tx:
            if not tx.delete_endpoint(org.id, endpoint_id):
                raise not_found(f"no webhook endpoint {endpoint_id!r}")

    def deliveries(self) -> list[DeliveryRecord]:
        """Every webhook delivery and its state, oldest first (for tests and debugging)."""
        with self.store.read() as tx:
            return tx.deliveries()


def _found(booking: BookingRecord | None, booking_id: str) -> BookingRecord:
    if booking is None:
        raise not_found(f"no booking {booking_id!r}")
    return booking


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)
