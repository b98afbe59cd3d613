"""Counters and histograms for ``GET /metrics``, in Prometheus' text format. One instance per bot."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_HELP = {
    "cadence_bot_turns_total": ("counter", "Inbound messages handled, by channel and result."),
    "cadence_bot_bookings_total": ("counter", "Bookings made or moved through the bot, by channel."),
    "cadence_bot_errors_total": ("counter", "Failures, by kind."),
    "cadence_bot_turn_seconds": ("histogram", "Time to handle one inbound message."),
    "cadence_bot_cadence_seconds": ("histogram", "Time of one HTTP request to Cadence."),
}

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels, extra: str = "") -> str:
    parts = [f'{key}="{value}"' for key, value in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histograms: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._sums: dict[str, dict[Labels, tuple[float, int]]] = defaultdict(dict)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            buckets = self._histograms[name].setdefault(key, [0.0] * (len(_LATENCY_BUCKETS) + 1))
            buckets[bisect.bisect_left(_LATENCY_BUCKETS, seconds)] += 1
            total, count = self._sums[name].get(key, (0.0, 0))
            self._sums[name][key] = (total + seconds, count + 1)

    def value(self, name: str, **labels: str) -> float:
        """A counter's current value (tests and health checks read it)."""
        with self._lock:
            return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name, (kind, text) in _HELP.items():
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                for key, value in sorted(self._counters.get(name, {}).items()):
                    lines.append(f"{name}{_labels(key)} {value:g}")
                for key, buckets in sorted(self._histograms.get(name, {}).items()):
                    running = 0.0
                    for bound, count in zip((*_LATENCY_BUCKETS, float("inf")), buckets, strict=True):
                        running += count
                        le = "+Inf" if bound == float("inf") else f"{bound:g}"
                        bucket = _labels(key, 'le="' + le + '"')
                        lines.append(f"{name}_bucket{bucket} {running:g}")
                    total, count = self._sums[name][key]
                    lines.append(f"{name}_sum{_labels(key)} {total:g}")
                    lines.append(f"{name}_count{_labels(key)} {count}")
        return "\n".join(lines) + "\n"
