"""What tests and benchmarks share: a fixed clock, small seeds for the Cadence sandbox, a free port and a
channel that records what the bot sends.

Plain Python, no pytest: ``benchmarks/_harness.py`` imports it as well as the tests (``tests/conftest.py``
re-exports every name, so ``from tests.conftest import NOW`` keeps working).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["NOW", "SALON_KEY", "TEST_KEY", "RecordingChannel", "clinic_seed", "free_port", "salon_seed"]

# Monday 1 June 2026, 08:00 UTC (09:00 in Lisbon): a fixed "now" for every test that needs one.
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

TEST_KEY = "ck_test_clinic_key"
SALON_KEY = "ck_test_salon_key"


def clinic_seed(*, practitioners: int = 1, webhooks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A small org in Lisbon: one 60-minute service, practitioners working 09:00-17:00 every weekday."""
    hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    names = ["Ana", "Bruno", "Carla", "Duarte"]
    return {
        "orgs": [
            {
                "id": "org_clinic",
                "slug": "clinic",
                "name": "Test Clinic",
                "timezone": "Europe/Lisbon",
                "api_keys": [TEST_KEY],
                "webhooks": webhooks or [],
                "services": [
                    {"id": "svc_consult", "name": "Consultation", "duration_minutes": 60},
                    {"id": "svc_quick", "name": "Quick check", "duration_minutes": 15},
                ],
                "practitioners": [
                    {
                        "id": f"prac_{i}",
                        "name": names[i],
                        "service_ids": ["svc_consult", "svc_quick"],
                        "hours": hours,
                    }
                    for i in range(practitioners)
                ],
            }
        ]
    }


def salon_seed() -> dict[str, Any]:
    """A hair salon in Lisbon with two stylists, open Monday to Saturday 09:00-18:00 with lunch."""
    hours = {
        day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")
    }
    return {
        "orgs": [
            {
                "id": "org_salon",
                "slug": "salon",
                "name": "Studio Salon",
                "timezone": "Europe/Lisbon",
                "api_keys": [SALON_KEY],
                "services": [
                    {"id": "svc_cut", "name": "Haircut", "duration_minutes": 30},
                    {"id": "svc_colour", "name": "Colour", "duration_minutes": 90},
                    {"id": "svc_beard", "name": "Beard trim", "duration_minutes": 15},
                ],
                "practitioners": [
                    {
                        "id": "prac_ana",
                        "name": "Ana",
                        "service_ids": ["svc_cut", "svc_colour"],
                        "hours": hours,
                    },
                    {
                        "id": "prac_rui",
                        "name": "Rui",
                        "service_ids": ["svc_cut", "svc_beard"],
                        "hours": hours,
                    },
                ],
            }
        ]
    }


def free_port() -> int:
    """A port nothing listens on right now (for a server whose URL must be known before it starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RecordingChannel:
    """A channel that records what the bot sends on its own initiative (notifications, reminders)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, Any]] = []

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, chat_id: str, replies: Any, *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        self.sent.extend((chat_id, reply) for reply in replies)
        return True

    def texts(self, chat_id: str) -> list[str]:
        return [reply.text for chat, reply in self.sent if chat == chat_id]
