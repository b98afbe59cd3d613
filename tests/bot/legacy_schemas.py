# ruff: noqa: E501  (frozen text, as the released bots wrote it)
"""The schemas released bots wrote, as they wrote them, to test that every one migrates forward.

SQLite: ``sqlite_master`` of a file at each released ``PRAGMA user_version`` (sqlite-utils wrote the
first tables); PostgreSQL: the statements of each migration of ``cadence_bot_schema``. Frozen: never edit."""

from __future__ import annotations

from typing import Final

SQLITE: Final[dict[int, tuple[str, ...]]] = {
    1: (
        'CREATE TABLE "conversations" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "state" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "processed_messages" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "message_id" TEXT NOT NULL,\n   "processed_at" TEXT NOT NULL,\n   "replies" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id", "message_id")\n)',
        'CREATE TABLE "profiles" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "name" TEXT,\n   "email" TEXT,\n   "phone" TEXT,\n   "timezone" TEXT,\n   "language" TEXT,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
    ),
    3: (
        'CREATE TABLE "conversations" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "state" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "processed_messages" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "message_id" TEXT NOT NULL,\n   "processed_at" TEXT NOT NULL,\n   "replies" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id", "message_id")\n)',
        'CREATE TABLE "profiles" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "name" TEXT,\n   "email" TEXT,\n   "phone" TEXT,\n   "timezone" TEXT,\n   "language" TEXT,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "owned_bookings" (\n   "tenant" TEXT NOT NULL,\n   "booking_id" TEXT NOT NULL,\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "start" TEXT NOT NULL,\n   "service_name" TEXT NOT NULL DEFAULT \'\',\n   "status" TEXT NOT NULL DEFAULT \'active\',\n   "created_at" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("tenant", "booking_id")\n)',
        'CREATE INDEX "owned_bookings_by_chat"\n    ON "owned_bookings" ("channel", "chat_id")',
        'CREATE INDEX "processed_messages_by_age"\n    ON "processed_messages" ("processed_at")',
        'CREATE TABLE "inbox" (\n   "channel" TEXT NOT NULL,\n   "message_id" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "inbound" TEXT NOT NULL,\n   "received_at" TEXT NOT NULL,\n   "lease_until" TEXT NOT NULL,\n   "attempts" INTEGER NOT NULL,\n   PRIMARY KEY ("channel", "message_id")\n)',
        'CREATE TABLE "jobs" (\n   "key" TEXT PRIMARY KEY NOT NULL,\n   "kind" TEXT NOT NULL,\n   "run_at" TEXT NOT NULL,\n   "payload" TEXT NOT NULL,\n   "lease_until" TEXT NOT NULL,\n   "attempts" INTEGER NOT NULL,\n   "done_at" TEXT,\n   "created_at" TEXT NOT NULL\n)',
        'CREATE INDEX "jobs_due"\n    ON "jobs" ("done_at", "run_at")',
        'CREATE TABLE "opt_outs" (\n   "channel" TEXT NOT NULL,\n   "address" TEXT NOT NULL,\n   "opted_out_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "address")\n)',
    ),
    4: (
        'CREATE TABLE "conversations" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "state" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "profiles" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "name" TEXT,\n   "email" TEXT,\n   "phone" TEXT,\n   "timezone" TEXT,\n   "language" TEXT,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "owned_bookings" (\n   "tenant" TEXT NOT NULL,\n   "booking_id" TEXT NOT NULL,\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "start" TEXT NOT NULL,\n   "service_name" TEXT NOT NULL DEFAULT \'\',\n   "status" TEXT NOT NULL DEFAULT \'active\',\n   "created_at" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL, event_at TEXT,\n   PRIMARY KEY ("tenant", "booking_id")\n)',
        'CREATE INDEX "owned_bookings_by_chat"\n    ON "owned_bookings" ("channel", "chat_id")',
        'CREATE TABLE "inbox" (\n   "channel" TEXT NOT NULL,\n   "message_id" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "inbound" TEXT NOT NULL,\n   "received_at" TEXT NOT NULL,\n   "lease_until" TEXT NOT NULL,\n   "attempts" INTEGER NOT NULL,\n   PRIMARY KEY ("channel", "message_id")\n)',
        'CREATE TABLE "jobs" (\n   "key" TEXT PRIMARY KEY NOT NULL,\n   "kind" TEXT NOT NULL,\n   "run_at" TEXT NOT NULL,\n   "payload" TEXT NOT NULL,\n   "lease_until" TEXT NOT NULL,\n   "attempts" INTEGER NOT NULL,\n   "done_at" TEXT,\n   "created_at" TEXT NOT NULL\n)',
        'CREATE INDEX "jobs_due"\n    ON "jobs" ("done_at", "run_at")',
        'CREATE TABLE "opt_outs" (\n   "channel" TEXT NOT NULL,\n   "address" TEXT NOT NULL,\n   "opted_out_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "address")\n)',
        'CREATE TABLE "processed_messages" (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, chat_id TEXT NOT NULL, message_id TEXT NOT NULL, processed_at TEXT NOT NULL, replies TEXT NOT NULL, UNIQUE (channel, chat_id, message_id))',
        'CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)',
        'CREATE TABLE "reply_from" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "address" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "health" (\n   "name" TEXT PRIMARY KEY NOT NULL,\n   "checked_at" TEXT NOT NULL\n)',
    ),
    5: (
        'CREATE TABLE "conversations" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "state" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "profiles" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "name" TEXT,\n   "email" TEXT,\n   "phone" TEXT,\n   "timezone" TEXT,\n   "language" TEXT,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "owned_bookings" (\n   "tenant" TEXT NOT NULL,\n   "booking_id" TEXT NOT NULL,\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "start" TEXT NOT NULL,\n   "service_name" TEXT NOT NULL DEFAULT \'\',\n   "status" TEXT NOT NULL DEFAULT \'active\',\n   "created_at" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL, event_at TEXT,\n   PRIMARY KEY ("tenant", "booking_id")\n)',
        'CREATE INDEX "owned_bookings_by_chat"\n    ON "owned_bookings" ("channel", "chat_id")',
        'CREATE TABLE "inbox" (\n   "channel" TEXT NOT NULL,\n   "message_id" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "inbound" TEXT NOT NULL,\n   "received_at" TEXT NOT NULL,\n   "lease_until" TEXT NOT NULL,\n   "attempts" INTEGER NOT NULL,\n   PRIMARY KEY ("channel", "message_id")\n)',
        'CREATE TABLE "jobs" (\n   "key" TEXT PRIMARY KEY NOT NULL,\n   "kind" TEXT NOT NULL,\n   "run_at" TEXT NOT NULL,\n   "payload" TEXT NOT NULL,\n   "lease_until" TEXT NOT NULL,\n   "attempts" INTEGER NOT NULL,\n   "done_at" TEXT,\n   "created_at" TEXT NOT NULL\n)',
        'CREATE INDEX "jobs_due"\n    ON "jobs" ("done_at", "run_at")',
        'CREATE TABLE "opt_outs" (\n   "channel" TEXT NOT NULL,\n   "address" TEXT NOT NULL,\n   "opted_out_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "address")\n)',
        'CREATE TABLE "processed_messages" (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, chat_id TEXT NOT NULL, message_id TEXT NOT NULL, processed_at TEXT NOT NULL, replies TEXT NOT NULL, UNIQUE (channel, chat_id, message_id))',
        'CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)',
        'CREATE TABLE "reply_from" (\n   "channel" TEXT NOT NULL,\n   "chat_id" TEXT NOT NULL,\n   "address" TEXT NOT NULL,\n   "updated_at" TEXT NOT NULL,\n   PRIMARY KEY ("channel", "chat_id")\n)',
        'CREATE TABLE "health" (\n   "name" TEXT PRIMARY KEY NOT NULL,\n   "checked_at" TEXT NOT NULL\n)',
        'CREATE TABLE deliveries (channel TEXT NOT NULL, message_sid TEXT NOT NULL, job_key TEXT, chat_id TEXT NOT NULL, status TEXT, error_code TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (channel, message_sid))',
        'CREATE INDEX deliveries_by_age ON deliveries (updated_at)',
    ),
}
"""By ``user_version``: the statements that make a file of that version."""

POSTGRES: Final[tuple[tuple[str, ...], ...]] = (
    (
        'CREATE TABLE conversations (channel text NOT NULL, chat_id text NOT NULL, state text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (channel, chat_id))',
        'CREATE TABLE processed_messages (channel text NOT NULL, chat_id text NOT NULL, message_id text NOT NULL, processed_at timestamptz NOT NULL, replies text NOT NULL, PRIMARY KEY (channel, chat_id, message_id))',
        'CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)',
        'CREATE TABLE profiles (channel text NOT NULL, chat_id text NOT NULL, name text, email text, phone text, timezone text, language text, updated_at timestamptz NOT NULL, PRIMARY KEY (channel, chat_id))',
        "CREATE TABLE owned_bookings (tenant text NOT NULL, booking_id text NOT NULL, channel text NOT NULL, chat_id text NOT NULL, start timestamptz NOT NULL, service_name text NOT NULL DEFAULT '', status text NOT NULL DEFAULT 'active', created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (tenant, booking_id))",
        'CREATE INDEX owned_bookings_by_chat ON owned_bookings (channel, chat_id)',
        'CREATE TABLE inbox (channel text NOT NULL, message_id text NOT NULL, chat_id text NOT NULL, inbound text NOT NULL, received_at timestamptz NOT NULL, lease_until timestamptz NOT NULL, attempts integer NOT NULL, PRIMARY KEY (channel, message_id))',
        'CREATE INDEX inbox_by_lease ON inbox (lease_until)',
        'CREATE TABLE jobs (key text PRIMARY KEY, kind text NOT NULL, run_at timestamptz NOT NULL, payload text NOT NULL, lease_until timestamptz NOT NULL, attempts integer NOT NULL, done_at timestamptz, created_at timestamptz NOT NULL)',
        'CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL',
        'CREATE TABLE opt_outs (channel text NOT NULL, address text NOT NULL, opted_out_at timestamptz NOT NULL, PRIMARY KEY (channel, address))',
    ),
    (
        'ALTER TABLE processed_messages ADD COLUMN seq bigint',
        'UPDATE processed_messages AS p SET seq = o.n FROM (SELECT channel, chat_id, message_id, row_number() OVER (ORDER BY processed_at, message_id) AS n FROM processed_messages) AS o WHERE p.channel = o.channel AND p.chat_id = o.chat_id AND p.message_id = o.message_id',
        'ALTER TABLE processed_messages ALTER COLUMN seq SET NOT NULL, ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY',
        "SELECT setval(pg_get_serial_sequence('processed_messages', 'seq'), (SELECT COALESCE(max(seq), 0) + 1 FROM processed_messages), false)",
        'ALTER TABLE owned_bookings ADD COLUMN event_at timestamptz',
        'CREATE TABLE reply_from (channel text NOT NULL, chat_id text NOT NULL, address text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (channel, chat_id))',
        'CREATE TABLE health (name text PRIMARY KEY, checked_at timestamptz NOT NULL)',
    ),
    (
        'CREATE TABLE deliveries (channel text NOT NULL, message_sid text NOT NULL, job_key text, chat_id text NOT NULL, status text, error_code text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (channel, message_sid))',
        'CREATE INDEX deliveries_by_age ON deliveries (updated_at)',
    ),
)
"""``cadence_bot_schema`` version N is the first N entries applied."""
