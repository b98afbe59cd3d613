"""Logging for operators: one JSON object per line, with phone numbers and emails masked.

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


def mask(text: str) -> str:
    """``pat@example.com`` -> ``p***@example.com``; ``+351912345678`` -> ``+351****678``."""
    text = _EMAIL.sub(r"\1***@\2", text)

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if len(digits) < 8 or _DATE.fullmatch(match.group()):  # times, ids, amounts, dates
            return match.group()
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
