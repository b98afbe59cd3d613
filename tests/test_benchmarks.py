"""The benchmarks keep running: each one in quick mode (tiny sizes, targets not judged) as `make bench`
runs them, a script in a subprocess, exits 0 and prints its table and its target lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"


def run(script: str, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{script} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def target(out: str, name: str) -> str:
    """The ``TARGET name=...`` line."""
    lines = [line for line in out.splitlines() if line.startswith(f"TARGET {name}=")]
    assert len(lines) == 1, out
    return lines[0]


def test_the_helper_module_does_nothing_as_a_script() -> None:
    assert run("_harness.py") == ""


def test_turn() -> None:
    out = run("turn.py", "--quick")
    assert "whole turn (engine.handle)" in out
    assert "bot overhead (turn - Cadence)" in out
    assert "bare Cadence requests, replayed" in out
    assert "bot overhead / bare Cadence" in out
    assert target(out, "p99_overhead_ms").endswith(("ok", "MISS (quick run: not judged)"))


def test_requests_per_booking_meet_their_target() -> None:
    out = run("cadence_requests.py", "--quick")
    assert "baseline, cold cache" in out
    assert "POST bookings" in out
    # Counting requests is deterministic, so the target is checked here too, quick or not.
    assert target(out, "warm_requests_per_booking").endswith(": ok")


def test_nlu_without_dateparser_times_ours_alone() -> None:
    """dateparser is only in the bench extra: without it the comparison is skipped, saying why."""
    script = BENCHMARKS / "nlu.py"
    code = (
        "import runpy, sys; sys.modules['dateparser'] = None"  # what a missing package looks like to import
        f"; sys.argv = [{str(script)!r}, '--sample', '20']; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "dateparser comparison skipped: dateparser is not installed" in result.stdout
    assert "interpret_when" in result.stdout and "dateparser.search_dates" not in result.stdout


def test_store() -> None:
    out = run("store.py", "--quick")
    assert "PTB PicklePersistence" in out
    assert len(re.findall(r"^SQLite +[\d,]+ +\d", out, re.MULTILINE)) == 2  # 1,000 and 10,000 conversations
    assert target(out, "sqlite_p50_ratio_10000_vs_1000")


@pytest.mark.slow
def test_webhook() -> None:
    out = run("webhook.py", "--quick")
    assert "echo (200 after reading the body)" in out
    assert "bot burst: acknowledged" in out
    assert "bot conversations: answered" in out
    assert "echo bot conversations: answered" in out
    assert target(out, "answered_throughput_vs_echo")
