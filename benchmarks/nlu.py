"""Latency of `interpret_when` beside `dateparser.search_dates`, measured in the same run.

Run: .venv/bin/python benchmarks/nlu.py [--sample N]

Prints p50/p99 per message over a sample of the SGD eval texts (../shared/eval from the repo root;
hand-written messages only when that file is missing) plus hand-written customer messages, the
ratio between the two, and the warm-up time (imports + first call, measured first, in this
process, before anything else of ours or dateparser's is imported). Targets: p99 < 5 ms after
warm-up, warm-up < 1 s. This is a report, not a test: it always exits 0.

dateparser is not a dependency of the bot: it comes with the ``bench`` extra (and ``dev``, which
``make`` installs). Without it only ``interpret_when`` is timed, and the report says so.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()
from datetime import datetime  # noqa: E402

from bot.nlu import interpret_when  # noqa: E402

_NOW = datetime(2019, 3, 1, 9, 0)
interpret_when("tomorrow at 3", _NOW, "UTC")
OUR_WARMUP = time.perf_counter() - _T0

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EVAL_FILE = REPO.parent / "shared" / "eval" / "sgd_datetime_train.jsonl"
P99_TARGET_MS = 5.0
WARMUP_TARGET_S = 1.0

HAND_WRITTEN = [
    "tmrw 3",
    "fri at half 3",
    "the 12th at 10",
    "any time after 4 next week",
    "hi, any chance of saturday at 1?",
    "can i come in tmrw arvo?",
    "Thursday 3ish",
    "thurs 2:30pm",
    "next sat at 11",
    "is 10:30 tomorrow ok?",
    "14th @ 2pm",
    "Friday 13th March at 4",
    "13/03 at 16:00",
    "tomorrow 9:30am please",
    "I'd like friday afternoon",
    "early next week",
    "wednesday next week",
    "in two weeks",
    "a week from today",
    "half 10 on friday",
    "quarter to 5",
    "twelve in the afternoon",
    "four thirty pm",
    "5 o'clock",
    "noon tomorrow",
    "between 2 and 4",
    "before noon",
    "I can't do tomorrow, how about Friday?",
    "We are 3 people, saturday 1pm",
    "on the twentieth",
    "2nd of this month",
    "5th of March",
    "2026-03-20 15:00",
    "Yes please, the 11th would be great. Around 3:30 in the afternoon if possible?",
    "mañana por la tarde",
    "el viernes a las 5 y media",
    "morgen um 15 Uhr",
    "übermorgen um halb 4",
    "demain à 15h",
    "vendredi prochain",
    "amanhã às 15h",
    "sexta que vem às 3 da tarde",
]


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _measure(call: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    """Milliseconds per message."""
    out: list[float] = []
    for text in texts:
        start = time.perf_counter_ns()
        call(text)
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def _sample(size: int) -> tuple[list[str], str]:
    if not EVAL_FILE.exists():
        return list(HAND_WRITTEN), f"hand-written only ({EVAL_FILE} not found)"
    with EVAL_FILE.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    picked = random.Random(0).sample(texts, min(size, len(texts)))
    return picked + list(HAND_WRITTEN), f"{len(picked)} SGD eval texts + {len(HAND_WRITTEN)} hand-written"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=1000, help="eval texts to time (default 1000)")
    args = parser.parse_args(argv)
    texts, origin = _sample(args.sample)

    start = time.perf_counter()
    try:
        import dateparser.search
    except ImportError:
        dateparser = None  # the bench extra is not installed: time ours alone
    else:
        dateparser.search.search_dates("tomorrow at 3", languages=["en"], settings={"RELATIVE_BASE": _NOW})
    their_warmup = time.perf_counter() - start

    ours = _measure(lambda t: interpret_when(t, _NOW, "UTC", ("en",)), texts)
    theirs = (
        _measure(
            lambda t: dateparser.search.search_dates(
                t, languages=["en"], settings={"RELATIVE_BASE": _NOW, "PREFER_DATES_FROM": "future"}
            ),
            texts,
        )
        if dateparser is not None
        else None
    )

    cpus = os.cpu_count() or 0
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}".rstrip()
        + f", {cpus} cores, Python {platform.python_version()}, {platform.system()}"
    )
    print(f"sample: {len(texts)} messages ({origin})")
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'max ms':>10}")
    rows = [("interpret_when", ours)] + ([("dateparser.search_dates", theirs)] if theirs else [])
    for name, values in rows:
        print(
            f"{name:28}{_percentile(values, 0.5):10.3f}{_percentile(values, 0.99):10.3f}"
            f"{statistics.fmean(values):10.3f}{max(values):10.3f}"
        )
    if theirs:
        p50 = _percentile(theirs, 0.5) / _percentile(ours, 0.5)
        p99 = _percentile(theirs, 0.99) / _percentile(ours, 0.99)
        print(f"{'ratio dateparser / ours':28}{p50:9.1f}x{p99:9.1f}x")
        print(
            f"warm-up (imports + first call): interpret_when {OUR_WARMUP:.3f} s,"
            f" dateparser {their_warmup:.3f} s"
        )
    else:
        print(
            "dateparser comparison skipped: dateparser is not installed"
            " (pip install -e '.[bench]' to compare against it)"
        )
        print(f"warm-up (imports + first call): interpret_when {OUR_WARMUP:.3f} s")
    p99_ok = _percentile(ours, 0.99) < P99_TARGET_MS
    warm_ok = OUR_WARMUP < WARMUP_TARGET_S
    print(
        f"targets: p99 < {P99_TARGET_MS:g} ms {'PASS' if p99_ok else 'MISS'}; "
        f"warm-up < {WARMUP_TARGET_S:g} s {'PASS' if warm_ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
