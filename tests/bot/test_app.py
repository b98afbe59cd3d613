"""The serve app without channels: health and metrics over real HTTP; masking in logs."""

from __future__ import annotations

import gc
import io
import json
import logging

import httpx

from bot.app import create_app
from bot.config import Settings
from bot.logs import JsonFormatter, mask
from bot.service import open_bot
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.conftest import NOW, salon_seed


def test_healthz_readyz_and_metrics_over_http() -> None:
    with serving(create_sandbox(seed=salon_seed(), clock=lambda: NOW)) as cadence:
        bot = open_bot(Settings(default_tenant="salon"), base_url=cadence, database=":memory:")
        with serving(create_app(bot, [])) as url:
            assert httpx.get(f"{url}/healthz").status_code == 200
            ready = httpx.get(f"{url}/readyz")
            assert ready.status_code == 200 and ready.json()["cadence"] == "ok"
            metrics = httpx.get(f"{url}/metrics")
            assert metrics.status_code == 200 and "# TYPE cadence_bot_turns_total counter" in metrics.text
    bot = open_bot(Settings(), base_url="http://127.0.0.1:9", database=":memory:")
    with serving(create_app(bot, [])) as url:
        health = httpx.get(f"{url}/healthz")
        ready = httpx.get(f"{url}/readyz")
    assert health.status_code == 200, "liveness does not depend on Cadence"
    body = ready.json()
    assert ready.status_code == 503 and body["database"] == "ok" and body["cadence"] != "ok"


def test_freeze_gc_freezes_what_start_up_left_alive() -> None:
    bot = open_bot(Settings(), base_url="http://127.0.0.1:9", database=":memory:")
    assert gc.get_freeze_count() == 0
    try:
        with serving(create_app(bot, [], freeze_gc=True)):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on building apps


def test_logs_are_json_with_contacts_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.masking")
    log.addHandler(handler)
    try:
        log.warning("booking for %s at %s", "pat.patient@example.com", "+351 912 345 678")
    finally:
        log.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "warning"
    assert "pat.patient" not in entry["message"] and "912 345" not in entry["message"]
    assert "p***@example.com" in entry["message"] and "678" in entry["message"]
    assert mask("at 10:30 on 2026-06-01, ref 12345") == "at 10:30 on 2026-06-01, ref 12345"
