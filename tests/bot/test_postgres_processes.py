"""Several ``cadence-bot serve`` processes on one PostgreSQL database, as behind a load balancer.

Real processes (the CLI, configured from the environment), a sandbox Cadence and a fake Bot API on
127.0.0.1. Each customer's updates land on either process at random, and some are delivered to both at
once (Telegram retrying through the balancer). Every conversation must finish with exactly one booking,
every update must be answered exactly once, and both processes must have done real work.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.channels.fake_telegram import BOT_TOKEN, Customer, FakeTelegram, wait_until
from tests.conftest import SALON_KEY, free_port, salon_seed

pytestmark = pytest.mark.slow

SECRET = "several-processes-secret"
ROOT = Path(__file__).resolve().parents[2]
TIMES = ("9am", "10am", "11am", "2pm", "3pm", "4pm")
NAMES = ("Kim Alves", "Rita Brito", "Nuno Costa", "Eva Dias", "Rui Esteves", "Lia Faria")


def start_serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, 30, "serve to answer /healthz")
    return process, url


@pytest.fixture
def world(postgres_database: str, tmp_path: Path) -> Iterator[tuple[FakeTelegram, str, list[str], str]]:
    fake = FakeTelegram()
    with (
        serving(create_sandbox(seed=salon_seed(), rate_limit=None)) as cadence,
        serving(fake.app) as fake_url,
    ):
        env = {
            **os.environ,
            "CADENCE_BASE_URL": cadence,
            "BOT_DATABASE": postgres_database,
            "BOT_DEFAULT_TENANT": "salon",
            "CADENCE_ORG_API_KEY": SALON_KEY,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": fake_url,
        }
        servers = [start_serve(env, tmp_path / f"serve-{n}.log") for n in range(2)]
        try:
            yield fake, cadence, [url for _, url in servers], postgres_database
        finally:
            for process, _ in servers:
                process.terminate()
            for process, _ in servers:
                process.wait(10)


def post(url: str, update: dict[str, Any]) -> None:
    response = httpx.post(
        f"{url}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_two_processes_on_one_database_answer_each_update_once_and_book_once(
    world: tuple[FakeTelegram, str, list[str], str],
) -> None:
    fake, cadence, urls, database = world
    rng = random.Random(8)

    def answered(update_id: int) -> bool:
        with psycopg.connect(database) as conn:
            processed = conn.execute(
                "SELECT count(*) FROM processed_messages WHERE message_id = %s", [str(update_id)]
            ).fetchone()
            queued = conn.execute(
                "SELECT count(*) FROM inbox WHERE message_id = %s", [str(update_id)]
            ).fetchone()
        return bool(processed and processed[0] == 1 and queued and queued[0] == 0)

    def converse(n: int) -> list[str]:
        customer = Customer(fake, lambda update: None, set, chat_id=7_000 + n, first_name=f"Kim{n}")
        for text in (f"haircut on tuesday at {TIMES[n]}", NAMES[n], f"kim{n}@example.com", "yes"):
            update = customer.message_update(text=text)
            targets = rng.sample(urls, 2) if rng.random() < 0.4 else [rng.choice(urls)]
            with ThreadPoolExecutor(len(targets)) as pool:  # a redelivery reaches the other process at once
                list(pool.map(lambda url, update=update: post(url, update), targets))
            wait_until(lambda update=update: answered(update["update_id"]), 20, f"update of customer {n}")
        return [str(message["text"]) for message in fake.sent(customer.chat_id)]

    with ThreadPoolExecutor(len(TIMES)) as pool:
        transcripts = list(pool.map(converse, range(len(TIMES))))

    for n, texts in enumerate(transcripts):
        assert "You're booked" in texts[-1], (n, texts)

    # Each update answered once: what the chats received is exactly what the store says was replied.
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT chat_id, replies FROM processed_messages WHERE channel = 'telegram'"
        ).fetchall()
    stored: dict[str, int] = {}
    for chat_id, replies in rows:
        stored[chat_id] = stored.get(chat_id, 0) + replies.count('"text"')
    assert {str(7_000 + n): len(texts) for n, texts in enumerate(transcripts)} == stored

    bookings = httpx.get(
        f"{cadence}/api/v1/bookings", headers={"Authorization": f"Bearer {SALON_KEY}"}, timeout=10
    ).json()["bookings"]
    emails = sorted(booking["customer"]["email"] for booking in bookings if booking["status"] != "cancelled")
    assert emails == sorted(f"kim{n}@example.com" for n in range(len(TIMES)))

    # Both processes took turns (the balancer really spread the work).
    assert all(turns_taken(url) > 0 for url in urls)


def turns_taken(url: str) -> float:
    """The process's count of telegram turns, from its /metrics."""
    lines = httpx.get(f"{url}/metrics", timeout=5).text.splitlines()
    prefix = 'cadence_bot_turns_total{channel="telegram"'
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(prefix))
