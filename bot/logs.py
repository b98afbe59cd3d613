"""Logging for operators: one JSON object per line, with phone numbers and emails masked (ids are not).

Masking happens in the formatter, on the final message, so a careless ``log.info("%s", inbound)``
anywhere still never writes a customer's contact details to disk.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

__all__ = ["JsonFormatter", "configure_logging", "mask"]

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,}\d(?![\w])")
_GROUPS = re.compile(r"\d+")
_LONGEST_GROUP = 6
"""Phone numbers written with separators keep their digits in short groups (``912 345 678``,
``(555) 123-4567``, ``07700 900123``); a longer run is an id, an amount or a list of ids."""


def _is_phone(written: str) -> bool:
    """Whether ``written`` (a run of digits and separators) is a phone number rather than an id.

    Ids (Telegram update and chat ids, message ids, counts) are bare digits, so a bare run of digits
    is never masked: masking it would turn ``260000006`` into ``26****006`` and lose the one thing an
    operator searches the logs for. A phone number is one in international form (a leading ``+``,
    as every SMS chat id is stored) or one written with separators between short digit groups."""
    digits = re.sub(r"\D", "", written)
    if not 8 <= len(digits) <= 15 or _DATE.fullmatch(written):  # times, short refs, amounts, dates
        return False
    if written.startswith("+"):
        return True
    groups = _GROUPS.findall(written)
    return len(groups) > 1 and max(len(group) for group in groups) <= _LONGEST_GROUP


def mask(text: str) -> str:
    """``pat@example.com`` -> ``p***@example.com``; ``+351912345678`` -> ``+351****678``; ids such as
    ``260000006`` stay as they are."""
    text = _EMAIL.sub(r"\1***@\2", text)

    def phone(match: re.Match[str]) -> str:
        if not _is_phone(match.group()):
            return match.group()
        digits = re.sub(r"\D", "", match.group())
        prefix = "+" + digits[:3] if match.group().startswith("+") else digits[:2]
        return f"{prefix}****{digits[-3:]}"

    return _PHONE.sub(phone, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; the URLs carry tenant slugs only, but the volume is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
