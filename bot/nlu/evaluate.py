"""`cadence-bot nlu-eval FILE.jsonl [--predictions OUT.jsonl]`: score date/time understanding.

Items: {"id", "text", "reference_now", "timezone"?, "language"?, "expected_date"?,
"expected_time"?}. `reference_now` is local; a date alone means 09:00 that day. An item is correct
when the first candidate date equals `expected_date` (when given; a list means any of those dates)
and the exact time equals `expected_time` (when given); a window is not a time and a date range
predicts no date.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from bot.nlu.when import When, interpret_when

CATEGORIES = ("date-only", "time-only", "date+time")


@dataclass(frozen=True)
class Scored:
    id: str
    category: str | None
    correct: bool
    predicted_date: str | None
    predicted_time: str | None


def parse_reference(value: str) -> datetime:
    """ "2019-03-01" means 09:00 that day; a full ISO datetime is taken as is (local)."""
    if "T" in value or " " in value.strip():
        return datetime.fromisoformat(value.strip())
    return datetime.combine(datetime.fromisoformat(value.strip()).date(), time(9, 0))


def category(item: dict[str, Any]) -> str | None:
    has_date = item.get("expected_date") is not None
    has_time = item.get("expected_time") is not None
    if has_date and has_time:
        return "date+time"
    if has_date:
        return "date-only"
    if has_time:
        return "time-only"
    return None


def predictions_of(when: When) -> tuple[str | None, str | None]:
    d = when.dates[0].isoformat() if when.dates else None
    t = when.time.strftime("%H:%M") if when.time else None
    return d, t


def score_item(item: dict[str, Any]) -> Scored:
    language = item.get("language") or "en"
    when = interpret_when(
        str(item.get("text", "")),
        parse_reference(str(item["reference_now"])),
        tz=item.get("timezone") or "UTC",
        languages=(language,),
    )
    d, t = predictions_of(when)
    expected_date = item.get("expected_date")
    expected_time = item.get("expected_time")
    # A list of dates is "any of these" (an item that more than one day can honestly answer).
    dates = expected_date if isinstance(expected_date, list) else [expected_date]
    correct = (expected_date is None or d in dates) and (expected_time is None or expected_time == t)
    return Scored(str(item.get("id")), category(item), correct, d, t)


def read_items(path: Path) -> Iterator[dict[str, Any]]:
    """The items of a JSONL file; a line that is not a JSON object with a usable
    `reference_now` is reported on stderr and skipped, so one bad line does not stop a run."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("not a JSON object")
                parse_reference(str(item["reference_now"]))
            except (ValueError, KeyError) as exc:
                print(f"{path}:{number}: skipped ({exc!r})", file=sys.stderr)
                continue
            yield item


def summarize(scored: Iterable[Scored]) -> dict[str, tuple[int, int]]:
    """(correct, total) per category and "overall"; items without expectations are not counted."""
    totals: dict[str, list[int]] = {name: [0, 0] for name in (*CATEGORIES, "overall")}
    for s in scored:
        if s.category is None:
            continue
        for name in (s.category, "overall"):
            totals[name][0] += int(s.correct)
            totals[name][1] += 1
    return {name: (c, n) for name, (c, n) in totals.items()}


def run_eval(path: Path, predictions: Path | None = None) -> int:
    scored = [score_item(item) for item in read_items(Path(path))]
    if predictions is not None:
        with Path(predictions).open("w", encoding="utf-8") as out:
            for s in scored:
                out.write(
                    json.dumps(
                        {"id": s.id, "predicted_date": s.predicted_date, "predicted_time": s.predicted_time}
                    )
                    + "\n"
                )
    for name, (correct, total) in summarize(scored).items():
        share = 100.0 * correct / total if total else 0.0
        print(f"{name:<10} {share:6.2f}%  ({correct}/{total})")
    return 0
