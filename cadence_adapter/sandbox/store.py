"""SQLite storage for the sandbox: the schema and every query, and nothing else.

Concurrency model, because it is what makes "no double booking" true:

- Each thread gets its own connection to one database file (a temporary file when no path is given,
  so the app can be used from several threads and event loops at once; SQLite's shared in-memory mode
  reports lock errors instead of waiting, a file in WAL mode waits politely).
- :meth:`Store.write` opens ``BEGIN IMMEDIATE``: writers queue for the file's write lock (up to the busy
  timeout) and each sees everything committed before it.
- A booking holds its practitioner's minutes in the ``occupancy`` table, whose primary key is
  (org, practitioner, minute). Two bookings that overlap would need the same row, so the second insert
  fails with ``IntegrityError`` inside the database, whatever the Python code above it believed.
  :meth:`Tx.try_occupy` turns that into ``False`` and leaves the transaction usable.

Instants are stored as integer UTC epoch seconds (start/end) or ``...Z`` strings (created_at); only the
sha256 of an API key is ever stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cadence_adapter.sandbox.availability import WeeklyHours, parse_weekly_hours

__all__ = [
    "BookingRecord",
    "DeliveryRecord",
    "EndpointRecord",
    "OrgRecord",
    "PractitionerRecord",
    "ServiceRecord",
    "Store",
    "Tx",
    "hash_api_key",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orgs (
    id        TEXT PRIMARY KEY,
    slug      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    timezone  TEXT NOT NULL,
    branding  TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_sha256  TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id)
);
CREATE TABLE IF NOT EXISTS services (
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes > 0),
    description       TEXT,
    position          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);
CREATE TABLE IF NOT EXISTS practitioners (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    service_ids  TEXT NOT NULL,  -- JSON list
    hours        TEXT NOT NULL,  -- JSON, as in the seed
    position     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);
CREATE TABLE IF NOT EXISTS bookings (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    service_id       TEXT NOT NULL,
    practitioner_id  TEXT NOT NULL,
    start_ts         INTEGER NOT NULL,
    end_ts           INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    customer         TEXT NOT NULL,  -- JSON object
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_by_practitioner ON bookings (org_id, practitioner_id, start_ts);
-- One row per minute a confirmed booking holds. The primary key is the no-double-booking guarantee.
CREATE TABLE IF NOT EXISTS occupancy (
    org_id           TEXT NOT NULL,
    practitioner_id  TEXT NOT NULL,
    minute           INTEGER NOT NULL,  -- epoch seconds // 60
    booking_id       TEXT NOT NULL,
    PRIMARY KEY (org_id, practitioner_id, minute)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS occupancy_by_booking ON occupancy (booking_id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    org_id       TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,  -- sha256 of the normalised request
    booking_id   TEXT NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,  -- JSON list
    created_at  TEXT NOT NULL
);
-- The outbox: written in the same transaction as the booking change, sent by delivery.py.
CREATE TABLE IF NOT EXISTS deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL,
    url              TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    body             BLOB NOT NULL,  -- the exact bytes signed and sent
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL,  -- wall-clock epoch seconds (time.time())
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (status, next_attempt_at);
"""


def hash_api_key(key: str) -> str:
    """What the database keeps of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def _ts(instant: datetime) -> int:
    return int(instant.timestamp())


def _instant(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True)
class OrgRecord:
    id: str
    slug: str
    name: str
    timezone: str
    branding: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    org_id: str
    id: str
    name: str
    duration_minutes: int
    description: str | None


@dataclass(frozen=True, slots=True)
class PractitionerRecord:
    org_id: str
    id: str
    name: str
    service_ids: tuple[str, ...]
    hours: WeeklyHours


@dataclass(frozen=True, slots=True)
class BookingRecord:
    id: str
    org_id: str
    service_id: str
    practitioner_id: str
    start: datetime
    end: datetime
    status: str
    customer: dict[str, str]
    created_at: str


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    id: str
    org_id: str
    url: str
    events: tuple[str, ...]
    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    endpoint_id: str
    url: str
    event_id: str
    event_type: str
    body: bytes
    status: str
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    secret: str | None
    """The endpoint's signing secret; None once the endpoint has been deleted."""


def _org(row: sqlite3.Row) -> OrgRecord:
    return OrgRecord(row["id"], row["slug"], row["name"], row["timezone"], json.loads(row["branding"]))


def _service(row: sqlite3.Row) -> ServiceRecord:
    return ServiceRecord(row["org_id"], row["id"], row["name"], row["duration_minutes"], row["description"])


def _practitioner(row: sqlite3.Row) -> PractitionerRecord:
    return PractitionerRecord(
        row["org_id"],
        row["id"],
        row["name"],
        tuple(json.loads(row["service_ids"])),
        parse_weekly_hours(json.loads(row["hours"])),
    )


def _booking(row: sqlite3.Row) -> BookingRecord:
    return BookingRecord(
        id=row["id"],
        org_id=row["org_id"],
        service_id=row["service_id"],
        practitioner_id=row["practitioner_id"],
        start=_instant(row["start_ts"]),
        end=_instant(row["end_ts"]),
        status=row["status"],
        customer=json.loads(row["customer"]),
        created_at=row["created_at"],
    )


def _endpoint(row: sqlite3.Row) -> EndpointRecord:
    return EndpointRecord(
        row["id"], row["org_id"], row["url"], tuple(json.loads(row["events"])), row["secret"]
    )


def _delivery(row: sqlite3.Row) -> DeliveryRecord:
    return DeliveryRecord(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        body=bytes(row["body"]),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        secret=row["secret"],
    )


def _placeholders(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class Tx:
    """One open transaction; every query the sandbox makes is a method here."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params).fetchall())

    # --- orgs and catalogue ------------------------------------------------------------------------

    def org_by_slug(self, slug: str) -> OrgRecord | None:
        row = self._one("SELECT * FROM orgs WHERE slug = ?", (slug,))
        return _org(row) if row else None

    def org_by_key_hash(self, key_sha256: str) -> OrgRecord | None:
        row = self._one(
            "SELECT orgs.* FROM api_keys JOIN orgs ON orgs.id = api_keys.org_id WHERE key_sha256 = ?",
            (key_sha256,),
        )
        return _org(row) if row else None

    def orgs(self) -> list[OrgRecord]:
        return [_org(row) for row in self._all("SELECT * FROM orgs ORDER BY rowid")]

    def services(self, org_id: str) -> list[ServiceRecord]:
        rows = self._all("SELECT * FROM services WHERE org_id = ? ORDER BY position, id", (org_id,))
        return [_service(row) for row in rows]

    def service(self, org_id: str, service_id: str) -> ServiceRecord | None:
        row = self._one("SELECT * FROM services WHERE org_id = ? AND id = ?", (org_id, service_id))
        return _service(row) if row else None

    def practitioners(self, org_id: str) -> list[PractitionerRecord]:
        rows = self._all("SELECT * FROM practitioners WHERE org_id = ? ORDER BY position, id", (org_id,))
        return [_practitioner(row) for row in rows]

    # --- seeding (upserts, so seeding the same file twice changes nothing) -------------------------

    def upsert_org(
        self, org_id: str, slug: str, name: str, timezone: str, branding: Mapping[str, Any]
    ) -> None:
        self.conn.execute(
            "INSERT INTO orgs (id, slug, name, timezone, branding) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name,"
            " timezone = excluded.timezone, branding = excluded.branding",
            (org_id, slug, name, timezone, json.dumps(dict(branding))),
        )

    def add_api_key(self, org_id: str, key: str) -> None:
        self.conn.execute(
            "INSERT INTO api_keys (key_sha256, org_id) VALUES (?, ?)"
            " ON CONFLICT (key_sha256) DO UPDATE SET org_id = excluded.org_id",
            (hash_api_key(key), org_id),
        )

    def upsert_service(
        self, org_id: str, service_id: str, name: str, duration: int, description: str | None, position: int
    ) -> None:
        self.conn.execute(
            "INSERT INTO services (org_id, id, name, duration_minutes, description, position)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name,"
            " duration_minutes = excluded.duration_minutes, description = excluded.description,"
            " position = excluded.position",
            (org_id, service_id, name, duration, description, position),
        )

    def upsert_practitioner(
        self,
        org_id: str,
        practitioner_id: str,
        name: str,
        service_ids: Sequence[str],
        hours: Mapping[str, Any],
        position: int,
    ) -> None:
        self.conn.execute(
            "INSERT INTO practitioners (org_id, id, name, service_ids, hours, position)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name,"
            " service_ids = excluded.service_ids, hours = excluded.hours, position = excluded.position",
            (org_id, practitioner_id, name, json.dumps(list(service_ids)), json.dumps(dict(hours)), position),
        )

    def upsert_endpoint(self, endpoint: EndpointRecord, created_at: str) -> None:
        self.conn.execute(
            "INSERT INTO webhook_endpoints (id, org_id, url, secret, events, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url,"
            " secret = excluded.secret, events = excluded.events",
            (
                endpoint.id,
                endpoint.org_id,
                endpoint.url,
                endpoint.secret,
                json.dumps(endpoint.events),
                created_at,
            ),
        )

    # --- bookings ----------------------------------------------------------------------------------

    def booking(self, org_id: str, booking_id: str) -> BookingRecord | None:
        row = self._one("SELECT * FROM bookings WHERE org_id = ? AND id = ?", (org_id, booking_id))
        return _booking(row) if row else None

    def bookings(self, org_id: str, status: str | None = None) -> list[BookingRecord]:
        """The org's bookings, newest first (by creation; ties in insertion order, newest first)."""
        sql = "SELECT * FROM bookings WHERE org_id = ?"
        params: list[object] = [org_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY created_at DESC, rowid DESC"
        return [_booking(row) for row in self._all(sql, params)]

    def busy(
        self, org_id: str, practitioner_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Confirmed bookings of these practitioners that overlap [start, end), by practitioner."""
        found: dict[str, list[tuple[datetime, datetime]]] = {pid: [] for pid in practitioner_ids}
        if not practitioner_ids:
            return found
        rows = self._all(
            "SELECT practitioner_id, start_ts, end_ts FROM bookings WHERE org_id = ? AND status = 'confirmed'"
            f" AND practitioner_id IN ({_placeholders(practitioner_ids)}) AND start_ts < ? AND end_ts > ?",
            (org_id, *practitioner_ids, _ts(end), _ts(start)),
        )
        for row in rows:
            found[row["practitioner_id"]].append((_instant(row["start_ts"]), _instant(row["end_ts"])))
        return found

    def confirmed_counts(
        self, org_id: str, practitioner_ids: Sequence[str], start: datetime, end: datetime | None = None
    ) -> dict[str, int]:
        """How many confirmed bookings each practitioner has starting in [start, end)."""
        counts = dict.fromkeys(practitioner_ids, 0)
        if not practitioner_ids:
            return counts
        sql = (
            "SELECT practitioner_id, COUNT(*) AS n FROM bookings WHERE org_id = ? AND status = 'confirmed'"
            f" AND practitioner_id IN ({_placeholders(practitioner_ids)}) AND start_ts >= ?"
        )
        params: list[object] = [org_id, *practitioner_ids, _ts(start)]
        if end is not None:
            sql += " AND start_ts < ?"
            params.append(_ts(end))
        for row in self._all(sql + " GROUP BY practitioner_id", params):
            counts[row["practitioner_id"]] = row["n"]
        return counts

    def try_occupy(
        self, org_id: str, practitioner_id: str, booking_id: str, start: datetime, end: datetime
    ) -> bool:
        """Claim the practitioner's minutes in [start, end) for the booking; False if any is held.

        The savepoint undoes a partial claim, so the caller can try another practitioner in the same
        transaction.
        """
        first, last = _ts(start) // 60, (_ts(end) - 1) // 60
        rows = [(org_id, practitioner_id, minute, booking_id) for minute in range(first, last + 1)]
        self.conn.execute("SAVEPOINT occupy")
        try:
            self.conn.executemany(
                "INSERT INTO occupancy (org_id, practitioner_id, minute, booking_id) VALUES (?, ?, ?, ?)",
                rows,
            )
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK TO occupy")
            self.conn.execute("RELEASE occupy")
            return False
        self.conn.execute("RELEASE occupy")
        return True

    def release(self, booking_id: str) -> None:
        """Give back every minute the booking holds."""
        self.conn.execute("DELETE FROM occupancy WHERE booking_id = ?", (booking_id,))

    def insert_booking(self, booking: BookingRecord) -> None:
        self.conn.execute(
            "INSERT INTO bookings (id, org_id, service_id, practitioner_id, start_ts, end_ts, status,"
            " customer, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                booking.id,
                booking.org_id,
                booking.service_id,
                booking.practitioner_id,
                _ts(booking.start),
                _ts(booking.end),
                booking.status,
                json.dumps(booking.customer),
                booking.created_at,
                booking.created_at,
            ),
        )

    def move_booking(self, booking_id: str, start: datetime, end: datetime, updated_at: str) -> None:
        self.conn.execute(
            "UPDATE bookings SET start_ts = ?, end_ts = ?, updated_at = ? WHERE id = ?",
            (_ts(start), _ts(end), updated_at, booking_id),
        )

    def set_status(self, booking_id: str, status: str, updated_at: str) -> None:
        self.conn.execute(
            "UPDATE bookings SET status = ?, updated_at = ? WHERE id = ?", (status, updated_at, booking_id)
        )

    def idempotent_booking(self, org_id: str, key: str) -> tuple[str, str] | None:
        """(fingerprint, booking id) stored under an Idempotency-Key, if any."""
        row = self._one(
            "SELECT fingerprint, booking_id FROM idempotency_keys WHERE org_id = ? AND key = ?", (org_id, key)
        )
        return (row["fingerprint"], row["booking_id"]) if row else None

    def remember_idempotency(self, org_id: str, key: str, fingerprint: str, booking_id: str) -> None:
        self.conn.execute(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint, booking_id) VALUES (?, ?, ?, ?)",
            (org_id, key, fingerprint, booking_id),
        )

    # --- webhook endpoints and the delivery outbox -------------------------------------------------

    def endpoints(self, org_id: str) -> list[EndpointRecord]:
        rows = self._all(
            "SELECT * FROM webhook_endpoints WHERE org_id = ? ORDER BY created_at, rowid", (org_id,)
        )
        return [_endpoint(row) for row in rows]

    def delete_endpoint(self, org_id: str, endpoint_id: str) -> bool:
        """Remove the endpoint and fail its pending deliveries; False when the org has no such endpoint."""
        cursor = self.conn.execute(
            "DELETE FROM webhook_endpoints WHERE org_id = ? AND id = ?", (org_id, endpoint_id)
        )
        if cursor.rowcount == 0:
            return False
        self.conn.execute(
            "UPDATE deliveries SET status = 'failed', last_error = 'endpoint deleted'"
            " WHERE endpoint_id = ? AND status = 'pending'",
            (endpoint_id,),
        )
        return True

    def queue_event(
        self, org_id: str, event_type: str, event_id: str, body: bytes, created_at: str, due: float
    ) -> int:
        """One pending delivery per endpoint of the org subscribed to ``event_type``; returns how many."""
        queued = 0
        for endpoint in self.endpoints(org_id):
            if event_type not in endpoint.events:
                continue
            self.conn.execute(
                "INSERT INTO deliveries (id, endpoint_id, url, event_id, event_type, body, status,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (
                    "dlv_" + secrets.token_hex(10),
                    endpoint.id,
                    endpoint.url,
                    event_id,
                    event_type,
                    body,
                    due,
                    created_at,
                ),
            )
            queued += 1
        return queued

    _DELIVERY_SELECT = (
        "SELECT deliveries.*, webhook_endpoints.secret AS secret FROM deliveries"
        " LEFT JOIN webhook_endpoints ON webhook_endpoints.id = deliveries.endpoint_id"
    )

    def due_deliveries(
        self, now: float, exclude: Iterable[str] = ()
    ) -> tuple[list[DeliveryRecord], float | None]:
        """Pending deliveries due by ``now`` (oldest first), and when the next later one falls due."""
        skip = set(exclude)
        rows = self._all(
            self._DELIVERY_SELECT + " WHERE status = 'pending' ORDER BY next_attempt_at, deliveries.rowid"
        )
        due: list[DeliveryRecord] = []
        next_at: float | None = None
        for row in rows:
            if row["id"] in skip:
                continue
            if row["next_attempt_at"] <= now:
                due.append(_delivery(row))
            elif next_at is None:
                next_at = row["next_attempt_at"]
        return due, next_at

    def deliveries(self) -> list[DeliveryRecord]:
        return [_delivery(row) for row in self._all(self._DELIVERY_SELECT + " ORDER BY deliveries.rowid")]

    def record_attempt(
        self,
        delivery_id: str,
        *,
        status: str,
        next_attempt_at: float,
        last_status: int | None,
        last_error: str | None,
    ) -> None:
        self.conn.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_status = ?,"
            " last_error = ? WHERE id = ? AND status = 'pending'",
            (status, next_attempt_at, last_status, last_error, delivery_id),
        )


class _Connections:
    """Every connection the store opened, so they can all be closed; kept apart from the Store so the
    finalizer that cleans up a temporary database holds no reference to the Store itself."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: list[sqlite3.Connection] = []

    def close_all(self) -> None:
        with self.lock:
            conns, self.open = self.open, []
        for conn in conns:
            conn.close()


def _cleanup(connections: _Connections, tempdir: str | None) -> None:
    connections.close_all()
    if tempdir is not None:
        shutil.rmtree(tempdir, ignore_errors=True)


class Store:
    """The sandbox database. ``path=None`` uses a temporary file removed when the store is closed or
    garbage collected."""

    BUSY_TIMEOUT_SECONDS = 30.0

    def __init__(self, path: str | Path | None = None) -> None:
        tempdir: str | None = None
        if path is None:
            tempdir = tempfile.mkdtemp(prefix="cadence-sandbox-")
            path = Path(tempdir) / "sandbox.db"
        self.path = Path(path)
        self.temporary = tempdir is not None
        self._local = threading.local()
        self._connections = _Connections()
        self._finalizer = weakref.finalize(self, _cleanup, self._connections, tempdir)
        self._conn().executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: transactions are opened explicitly by read()/write(), not by the
            # sqlite3 module's implicit BEGIN before the first write.
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=self.BUSY_TIMEOUT_SECONDS
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = " + ("OFF" if self.temporary else "NORMAL"))
            conn.execute("PRAGMA foreign_keys = ON")
            with self._connections.lock:
                self._connections.open.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute(begin)
        try:
            yield Tx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> AbstractContextManager[Tx]:
        """A consistent snapshot for reading (WAL readers never block the writer)."""
        return self._transaction("BEGIN DEFERRED")

    def write(self) -> AbstractContextManager[Tx]:
        """A write transaction that holds the database's write lock from its first statement."""
        return self._transaction("BEGIN IMMEDIATE")

    def close(self) -> None:
        """Close every connection (and delete a temporary database)."""
        self._finalizer()
