"""run_eval: per-category accuracy and per-item predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu.evaluate import parse_reference, run_eval


def test_run_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [
        {"id": "a", "text": "the 5th", "reference_now": "2019-03-01", "expected_date": "2019-03-05"},
        {"id": "b", "text": "at 3pm", "reference_now": "2019-03-01", "expected_time": "15:00"},
        {
            "id": "c",
            "text": "tomorrow at 4",
            "reference_now": "2019-03-01",
            "expected_date": "2019-03-02",
            "expected_time": "16:00",
        },
        {"id": "d", "text": "after 4", "reference_now": "2019-03-01", "expected_time": "16:00"},
        {
            "id": "e",
            "text": "mañana a las 5",
            "reference_now": "2019-03-01T09:00",
            "language": "es",
            "timezone": "Europe/Madrid",
            "expected_date": "2019-03-02",
            "expected_time": "17:00",
        },
    ]
    source = tmp_path / "items.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    out = tmp_path / "predictions.jsonl"
    assert run_eval(source, predictions=out) == 0
    printed = capsys.readouterr().out
    assert "date-only" in printed and "time-only" in printed and "date+time" in printed
    assert "overall     80.00%  (4/5)" in printed
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"id": "a", "predicted_date": "2019-03-05", "predicted_time": None}
    assert rows[3] == {"id": "d", "predicted_date": None, "predicted_time": None}  # a window
    assert rows[4] == {"id": "e", "predicted_date": "2019-03-02", "predicted_time": "17:00"}


def test_reference_date_alone_means_nine() -> None:
    assert parse_reference("2019-03-01").isoformat() == "2019-03-01T09:00:00"
    assert parse_reference("2019-03-01T18:30").isoformat() == "2019-03-01T18:30:00"


def test_bad_lines_are_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "items.jsonl"
    good = {"id": "a", "text": "at 3pm", "reference_now": "2019-03-01", "expected_time": "15:00"}
    source.write_text("not json\n[1]\n{}\n" + json.dumps(good) + "\n", encoding="utf-8")
    assert run_eval(source) == 0
    captured = capsys.readouterr()
    assert "overall    100.00%  (1/1)" in captured.out
    assert captured.err.count(": skipped (") == 3
