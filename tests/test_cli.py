"""The `cadence-bot` command as a newcomer meets it: `make demo` is `cadence-bot chat` with piped input."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = "hi\n1\nnext week\n1\nPat Patient\npat@example.com\n1\nmy bookings\n"


def test_scripted_chat_books_in_the_embedded_sandbox() -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CADENCE_", "BOT_", "TELEGRAM_", "TWILIO_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    out = result.stdout
    assert "Movela Physio" in out
    assert "You're booked!" in out, out
    assert "Your upcoming bookings:" in out
    assert "Traceback" not in result.stderr


def test_nlu_eval_prints_accuracy(tmp_path: object) -> None:
    from pathlib import Path

    items = Path(str(tmp_path)) / "items.jsonl"
    items.write_text(
        '{"id": "a", "text": "tomorrow at 3pm", "reference_now": "2019-03-01",'
        ' "expected_date": "2019-03-02", "expected_time": "15:00"}\n'
    )
    predictions = Path(str(tmp_path)) / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlu-eval", str(items), "--predictions", str(predictions)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "100.00%" in result.stdout
    assert '"predicted_time": "15:00"' in predictions.read_text()


def test_lang_starts_the_chat_in_any_of_the_five_languages() -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CADENCE_", "BOT_", "TELEGRAM_", "TWILIO_"))
    }
    greetings = {
        "de": "Hallo! Ich bin",
        "fr": "Bonjour ! Je suis",
        "pt": "Olá! Sou o assistente",
        "es": "¡Hola!",
    }
    for language, greeting in greetings.items():
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "chat", "--lang", language],
            input="1\n",
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=True,
        )
        assert greeting in result.stdout, (language, result.stdout)


def test_nlu_eval_scores_a_list_of_dates_as_any_of_them(tmp_path: object) -> None:
    from pathlib import Path

    items = Path(str(tmp_path)) / "items.jsonl"
    items.write_text(
        '{"id": "a", "text": "next friday", "reference_now": "2019-03-01",'
        ' "expected_date": ["2019-03-08", "2019-03-15"]}\n'
        '{"id": "b", "text": "next friday", "reference_now": "2019-03-01", "expected_date": ["2019-03-22"]}\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlu-eval", str(items)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "50.00%" in result.stdout.splitlines()[-1], result.stdout


def _clean_env(**values: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CADENCE_", "BOT_", "TELEGRAM_", "TWILIO_"))
    }
    return {**env, **values}


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_version_and_help() -> None:
    from importlib import metadata

    version = _cli("--version", env=_clean_env())
    assert (
        version.returncode == 0 and version.stdout.strip() == f"cadence-bot {metadata.version('cadence-bot')}"
    )
    helped = _cli("--help", env=_clean_env())
    assert (
        "booking assistant" in helped.stdout and "lazily" not in helped.stdout and "``" not in helped.stdout
    )
    assert "the port to listen on" in _cli("serve", "--help", env=_clean_env()).stdout


def test_configuration_errors_are_one_line_and_status_2(tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "tenants.toml"
    bad.write_text("[tenants.movela]\nlanguage = 3\n", encoding="utf-8")
    cases = [
        (("chat",), {"BOT_TENANTS_FILE": str(Path(str(tmp_path)) / "missing.toml")}, "BOT_TENANTS_FILE"),
        (("check",), {"BOT_TENANTS_FILE": str(bad)}, "tenant movela, language"),
        (("check",), {"CADENCE_WEBHOOK_SECRET": "whsec_x"}, "set BOT_DEFAULT_TENANT"),
        (("serve",), {}, "CADENCE_BASE_URL is not set"),
        (("nlu-eval", str(Path(str(tmp_path)) / "nope.jsonl")), {}, "no such file"),
    ]
    for args, values, expected in cases:
        result = _cli(*args, env=_clean_env(**values))
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_check_says_what_works_and_what_does_not() -> None:
    from tests.conftest import SALON_KEY, salon_seed
    from tests.reliability._served import sandbox_process

    with sandbox_process(salon_seed()) as url:
        env = _clean_env(CADENCE_BASE_URL=url, BOT_DEFAULT_TENANT="salon", CADENCE_ORG_API_KEY=SALON_KEY)
        fine = _cli("check", env=env)
        assert fine.returncode == 0, fine.stdout + fine.stderr
        assert "tenant 'salon' is Studio Salon; its org key works" in fine.stdout
        assert "Telegram: not configured" in fine.stdout and "SMS: not configured" in fine.stdout
        broken = _cli(
            "check",
            env={
                **env,
                "CADENCE_ORG_API_KEY": "ck_wrong",
                "TELEGRAM_BOT_TOKEN": "1:x",
                "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
            },
        )
        assert broken.returncode == 2, broken.stdout
        assert len(broken.stderr.strip().splitlines()) == 1 and "org key is refused" in broken.stderr
        assert "FAIL  Cadence: tenant 'salon' is Studio Salon, but its org key is refused" in broken.stdout
        assert "FAIL  Telegram: cannot reach http://127.0.0.1:9" in broken.stdout
