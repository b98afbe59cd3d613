"""Twilio's delivery status callbacks (``POST /sms/twilio/status``): what a report says, and what it
belongs to. Pure; :class:`channels.sms.channel.SmsChannel` serves the route.

Every message the bot sends through the REST API asks Twilio to report its statuses
(``StatusCallback``) and is recorded with the key of the job it belongs to
(``store.record_delivery``). A report stores the message's latest status on that record
(``store.mark_delivery``, which keeps ``delivered`` when a late ``sent`` arrives), so the record is
the mark on the reminder or notification; a ``failed`` or ``undelivered`` one is also logged with
the job's key and counted in ``cadence_bot_sms_delivery_failures_total{kind}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from channels.sms.signed import Form

__all__ = [
    "FAILED",
    "STATUS_PATH",
    "DeliveryKind",
    "StatusReport",
    "delivery_kind",
    "parse_report",
    "reply_key",
]

STATUS_PATH: Final = "/sms/twilio/status"
FAILED: Final = frozenset({"failed", "undelivered"})
"""Twilio's final statuses for a message that never reached the phone."""

DeliveryKind = Literal["reminder", "notification", "reply", "unknown"]

REPLY_PREFIX: Final = "reply:"

_SID = re.compile(r"[A-Z]{2}[0-9A-Za-z]{1,62}")
_STATUS = re.compile(r"[a-z_]{1,32}")
_ERROR_CODE = re.compile(r"[0-9]{1,10}")
_OUTBOX = re.compile(r"(?:send:[^:]+:)+")
"""An outbox job's key: ``send:<channel>:`` then the id of what it delivers (bot.outbox.outbox_job),
which is another outbox job's key when a remainder of its texts had to wait again."""
_NOTICE = re.compile(r"[^:]+:evt_")
"""What the worker names a notice it queues: ``<tenant>:<Cadence event id>``."""
_PREFIXES: Final[tuple[tuple[str, DeliveryKind], ...]] = (
    ("reminder:", "reminder"),  # bot.reminders.reminder_key, and a reminder turn's message id
    ("event:", "notification"),  # a Cadence event's job (cancelled, moved)
    (REPLY_PREFIX, "reply"),  # a turn's late answer (reply_key)
    ("check:", "reply"),  # a turn the bot starts to settle a booking in doubt (bot.dialog.doubt)
    ("dead-", "reply"),  # the apology for a dead letter (channels.inbox)
)


def reply_key(message_sid: str) -> str:
    """The key a turn's late answer is recorded under: it is no job, but the customer's MessageSid it
    answers is what an operator looks up."""
    return REPLY_PREFIX + message_sid


def delivery_kind(job_key: str | None) -> DeliveryKind:
    """What a delivery was, from the key of the job it belongs to; ``unknown`` without one (a message
    never recorded, such as one sent by an earlier version, or sent for no job). An outbox job delivers
    for something else, named after its prefix, which decides."""
    if not job_key:
        return "unknown"
    outbox = _OUTBOX.match(job_key)
    inner = job_key[outbox.end() :] if outbox else job_key
    for prefix, kind in _PREFIXES:
        if inner.startswith(prefix):
            return kind
    if inner != job_key and _NOTICE.match(inner):
        return "notification"
    return "unknown"


@dataclass(frozen=True)
class StatusReport:
    """One status callback: which message, its status, and Twilio's error code when it failed."""

    message_sid: str
    status: str
    error_code: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED


def parse_report(form: Form) -> StatusReport | None:
    """The report in a (signed) status callback; None when it names no message or no status as Twilio
    writes them. Twilio sends both ``MessageStatus`` and the older ``SmsStatus``; an ``ErrorCode`` that
    is not a number is dropped rather than stored."""
    sid = form.first("MessageSid") or form.first("SmsSid")
    status = (form.first("MessageStatus") or form.first("SmsStatus")).strip().lower()
    if not _SID.fullmatch(sid) or not _STATUS.fullmatch(status):
        return None
    code = form.first("ErrorCode").strip()
    return StatusReport(sid, status, code if _ERROR_CODE.fullmatch(code) else None)
