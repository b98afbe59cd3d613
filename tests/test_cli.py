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
