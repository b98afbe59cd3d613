"""``GET /metrics`` with prometheus_client: what it measures, that its parsers read it (labels with
quotes and line breaks included), one registry per bot, multiprocess mode, and where it is served:
on the public port, behind ``BOT_METRICS_TOKEN``, or only on ``--metrics-port``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import prometheus_client
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.app import create_app
from bot.config import Settings
from bot.metrics import Metrics
from bot.service import Bot, open_bot
from bot.types import Inbound
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.conftest import NOW, free_port, salon_seed

ROOT = Path(__file__).resolve().parents[2]
AWKWARD = 'said "no"\nthen \\left'
"""An error kind with a quote, a line break and a backslash: each must be escaped on the way out."""


def samples(text: str) -> dict[str, list[Sample]]:
    """Every family ``/metrics`` sent, by name, as prometheus_client's own parser reads it."""
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(found: dict[str, list[Sample]], family: str, sample: str, **labels: str) -> float:
    return sum(s.value for s in found[family] if s.name == sample and labels.items() <= s.labels.items())


@contextmanager
def sandbox() -> Iterator[str]:
    with serving(create_sandbox(seed=salon_seed(), clock=lambda: NOW)) as url:
        yield url


def unreachable_bot() -> Bot:
    return open_bot(Settings(), base_url="http://127.0.0.1:9", database=":memory:")


@pytest.mark.anyio
async def test_a_turn_is_counted_and_timed_and_the_parser_reads_every_series() -> None:
    with sandbox() as cadence:
        bot = open_bot(Settings(default_tenant="salon"), base_url=cadence, database=":memory:")
        try:
            await bot.engine.handle(Inbound(channel="console", chat_id="1", message_id="m1", text="hi"))
            bot.metrics.inc("cadence_bot_errors_total", kind=AWKWARD)
            transport = httpx.ASGITransport(app=create_app(bot, [], run_worker=False))
            async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
                text_format = await client.get("/metrics")
                openmetrics = await client.get(
                    "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
                )
        finally:
            await bot.aclose()

    assert text_format.status_code == 200 and text_format.headers["content-type"].startswith("text/plain")
    found = samples(text_format.text)
    assert value(found, "cadence_bot_turns", "cadence_bot_turns_total", channel="console", result="ok") == 1
    assert value(found, "cadence_bot_turn_seconds", "cadence_bot_turn_seconds_count", channel="console") == 1
    assert value(found, "cadence_bot_cadence_seconds", "cadence_bot_cadence_seconds_count") >= 1
    assert [s.labels for s in found["cadence_bot_errors"] if s.name == "cadence_bot_errors_total"] == [
        {"kind": AWKWARD}
    ]
    assert "# TYPE cadence_bot_turns_total counter" in text_format.text  # what dashboards were built on
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_gc_objects_collected"} <= set(
        found
    )
    assert bot.metrics.value("cadence_bot_turns_total", channel="console", result="ok") == 1
    assert bot.metrics.value("cadence_bot_turns_total", result="error") == 0
    assert bot.metrics.value("cadence_bot_errors_total") == 1

    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    families = {family.name: family for family in parse_openmetrics(openmetrics.text)}
    errors = families["cadence_bot_errors"].samples
    assert [s.labels["kind"] for s in errors if s.name.endswith("_total")] == [AWKWARD]


def test_each_bot_has_its_own_registry_and_the_global_one_is_untouched() -> None:
    first, second = Metrics(), Metrics()
    first.inc("cadence_bot_bookings_total", 2, channel="sms")
    first.observe("cadence_bot_cadence_seconds", 0.02)
    assert first.value("cadence_bot_bookings_total", channel="sms") == 2
    assert second.value("cadence_bot_bookings_total", channel="sms") == 0
    shared = prometheus_client.REGISTRY
    assert shared.get_sample_value("cadence_bot_bookings_total", {"channel": "sms"}) is None
    with pytest.raises(ValueError):
        first.inc("cadence_bot_turns_total", channel="sms")  # a label missing is the caller's bug


@pytest.mark.anyio
async def test_a_token_guards_metrics_and_nothing_else() -> None:
    bot = unreachable_bot()
    app = create_app(bot, [], run_worker=False, metrics_token="s3cret-token")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client:
            refused = [
                await client.get("/metrics"),
                await client.get("/metrics", headers={"Authorization": "Bearer wrong"}),
                await client.get("/metrics", headers={"Authorization": "Basic s3cret-token"}),
                await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token-and-more"}),
            ]
            allowed = [
                await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}),
                await client.get("/metrics", headers={"Authorization": "bearer s3cret-token"}),
            ]
            health = await client.get("/healthz")
    finally:
        await bot.aclose()
    assert [r.status_code for r in refused] == [401] * 4
    assert refused[0].headers["www-authenticate"].startswith("Bearer")
    assert "cadence_bot" not in refused[0].text
    assert [r.status_code for r in allowed] == [200, 200]
    assert "cadence_bot_turns_total" in allowed[0].text
    assert health.status_code == 200  # liveness, unauthenticated as before: only /metrics takes the token


def listening() -> socket.socket:
    return socket.create_server(("127.0.0.1", 0))


def test_with_a_metrics_port_metrics_leave_the_public_port() -> None:
    sock = listening()
    port = sock.getsockname()[1]
    bot = unreachable_bot()
    with serving(create_app(bot, [], metrics_socket=sock)) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404
        private = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert private.status_code == 200 and "cadence_bot_turns" in samples(private.text)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 404  # /metrics alone there
    with pytest.raises(httpx.ConnectError):  # the lifespan closed it with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_token_also_guards_the_metrics_port() -> None:
    sock = listening()
    port = sock.getsockname()[1]
    bot = unreachable_bot()
    with serving(create_app(bot, [], metrics_socket=sock, metrics_token="tok")):
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
        allowed = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer tok"})
        assert allowed.status_code == 200


MULTIPROCESS_WORKER = textwrap.dedent(
    """
    import sys
    from bot.metrics import Metrics

    metrics = Metrics()
    metrics.inc("cadence_bot_turns_total", float(sys.argv[1]), channel="sms", result="ok")
    metrics.inc("cadence_bot_errors_total", kind=sys.argv[2])
    metrics.observe("cadence_bot_turn_seconds", 0.2, channel="sms")
    sys.stdout.write(metrics.render())
    """
)


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def worker(turns: int) -> str:
        done = subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_WORKER, str(turns), AWKWARD],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    worker(2)  # a process that has exited still counts: its file stays
    found = samples(worker(3))
    assert value(found, "cadence_bot_turns", "cadence_bot_turns_total", channel="sms", result="ok") == 5
    assert value(found, "cadence_bot_errors", "cadence_bot_errors_total", kind=AWKWARD) == 2
    assert value(found, "cadence_bot_turn_seconds", "cadence_bot_turn_seconds_count", channel="sms") == 2
    assert not [name for name in found if name.startswith("process_")]  # they would describe one process


# ``cadence-bot serve`` itself: the options and variables reach the app, and Ctrl-C stops both servers.


def serve_env(tmp_path: Path, **values: str) -> dict[str, str]:
    prefixes = ("CADENCE_", "BOT_", "TELEGRAM_", "TWILIO_", "PROMETHEUS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {
        **env,
        "CADENCE_BASE_URL": "http://127.0.0.1:9",
        "BOT_DATABASE": str(tmp_path / "bot.db"),
        **values,
    }


@contextmanager
def serve(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_serve_with_a_metrics_port_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    metrics_port = free_port()
    with serve(serve_env(tmp_path), "--metrics-port", str(metrics_port)) as (process, url):
        assert httpx.get(f"{url}/metrics").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").status_code == 200
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "GET /metrics is open" not in output
    for port in (url.rsplit(":", 1)[1], metrics_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


@pytest.mark.slow
def test_serve_with_a_token_and_without_either(tmp_path: Path) -> None:
    with serve(serve_env(tmp_path, BOT_METRICS_TOKEN="from-env\n")) as (process, url):
        assert httpx.get(f"{url}/metrics").status_code == 401
        allowed = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer from-env"})
        assert allowed.status_code == 200
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "GET /metrics is open" not in output
    with serve(serve_env(tmp_path)) as (process, url):
        assert httpx.get(f"{url}/metrics").status_code == 200  # as before, with a warning in the log
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "GET /metrics is open to anyone" in output


def test_serve_metrics_errors_are_one_line_and_status_2(tmp_path: Path) -> None:
    taken = listening()
    port = free_port()
    cases = [
        (["--port", str(port), "--metrics-port", str(port)], {}, "is the public port"),
        (["--metrics-port", str(taken.getsockname()[1])], {}, "in use"),
        ([], {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")}, "PROMETHEUS_MULTIPROC_DIR"),
    ]
    try:
        for args, values, expected in cases:
            done = subprocess.run(
                [sys.executable, "-m", "bot.cli", "serve", *args],
                cwd=ROOT,
                env=serve_env(tmp_path, **values),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 2, (args, done.stdout, done.stderr)
            assert len(done.stderr.strip().splitlines()) == 1 and expected in done.stderr, done.stderr
    finally:
        taken.close()
