"""The bot's Prometheus metrics, kept with ``prometheus_client`` in one registry per bot.

What is measured (the names are the ones dashboards already use)::

    cadence_bot_turns_total{channel, result}   counter    inbound messages handled; result ok | error
    cadence_bot_bookings_total{channel}        counter    bookings made or moved through the bot
    cadence_bot_errors_total{kind}             counter    failures, by kind (an exception, a Cadence 5xx, ...)
    cadence_bot_dead_letters_total{channel}    counter    inbound messages given up on after their attempts
    cadence_bot_sms_delivery_failures_total{kind}  counter  texts Twilio reports failed or undelivered, by
                                               what they were: reminder | notification | reply | unknown
    cadence_bot_channel_up{channel}            gauge      1 while a channel serves, 0 once disabled at start
    cadence_bot_turn_seconds{channel}          histogram  time to handle one inbound message
    cadence_bot_cadence_seconds                histogram  time of one HTTP request to Cadence

and the standard ``process_*`` (CPU, memory, open files, start time), ``python_gc_*`` and
``python_info`` series of the process.

Nothing is global: each :class:`Metrics` owns a ``CollectorRegistry``, so the many bots a test run
builds in one process never see each other's numbers (prometheus_client's default ``REGISTRY`` is
left alone).

**Multiprocess mode.** When several processes serve one bot (a balancer in front of several
``cadence-bot serve``, or uvicorn workers sharing a socket), a scrape reaches one of them, and its
numbers alone would be wrong. Set ``PROMETHEUS_MULTIPROC_DIR`` to one empty directory, the same for
all of them, before they start: prometheus_client then keeps every value in a file per process there,
and :meth:`Metrics.exposition` in any process reports the sum over all of them (scrape one, not
each). The library decides this once, when it is first imported, so the variable must be in the
environment the processes start with; empty the directory before a restart, as files of processes
that have exited keep counting. In this mode there are no ``process_*`` series (they would describe
only the process that answered the scrape), and one process should hold one :class:`Metrics` (two in
one process add into the same files). See docs/metrics.md.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    values,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["LATENCY_BUCKETS", "CounterName", "HistogramName", "Metrics", "multiprocess_mode"]

CounterName = Literal[
    "cadence_bot_turns_total",
    "cadence_bot_bookings_total",
    "cadence_bot_errors_total",
    "cadence_bot_dead_letters_total",
    "cadence_bot_sms_delivery_failures_total",
]
HistogramName = Literal["cadence_bot_turn_seconds", "cadence_bot_cadence_seconds"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_mode() -> bool:
    """Whether prometheus_client keeps its values in ``PROMETHEUS_MULTIPROC_DIR``: it chose when it was
    imported, from that variable, and every metric created since follows the choice."""
    return values.ValueClass is not values.MutexValue


class Metrics:
    """Counters and histograms of one bot, with :meth:`inc`, :meth:`observe` and :meth:`value` by
    exposition name, and :meth:`exposition` for ``GET /metrics``.

    Raises ``ValueError`` when built in multiprocess mode and ``PROMETHEUS_MULTIPROC_DIR`` is not a
    directory (a start-up error, before any value is written)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        """This bot's series (in multiprocess mode, this process's share of them)."""
        self.multiprocess = multiprocess_mode()
        self._exposed = self.registry
        if self.multiprocess:
            # What a scrape sees: the files of every process. Built first, so a missing directory is
            # reported as such rather than as a file that cannot be opened.
            self._exposed = CollectorRegistry()
            MultiProcessCollector(self._exposed)  # type: ignore[no-untyped-call]
        self._counters: dict[str, Counter] = {
            "cadence_bot_turns_total": Counter(
                "cadence_bot_turns_total",
                "Inbound messages handled, by channel and result.",
                ["channel", "result"],
                registry=self.registry,
            ),
            "cadence_bot_bookings_total": Counter(
                "cadence_bot_bookings_total",
                "Bookings made or moved through the bot, by channel.",
                ["channel"],
                registry=self.registry,
            ),
            "cadence_bot_errors_total": Counter(
                "cadence_bot_errors_total", "Failures, by kind.", ["kind"], registry=self.registry
            ),
            "cadence_bot_dead_letters_total": Counter(
                "cadence_bot_dead_letters_total",
                "Inbound messages given up on after their attempts (the customer gets an apology).",
                ["channel"],
                registry=self.registry,
            ),
            "cadence_bot_sms_delivery_failures_total": Counter(
                "cadence_bot_sms_delivery_failures_total",
                "Texts Twilio reported failed or undelivered (status callbacks), by what they were: "
                "reminder, notification, reply or unknown.",
                ["kind"],
                registry=self.registry,
            ),
        }
        self._channel_up = Gauge(
            "cadence_bot_channel_up",
            "1 while a channel serves; 0 when it was disabled at start (its credentials failed).",
            ["channel"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        self._histograms: dict[str, Histogram] = {
            "cadence_bot_turn_seconds": Histogram(
                "cadence_bot_turn_seconds",
                "Time to handle one inbound message.",
                ["channel"],
                buckets=LATENCY_BUCKETS,
                registry=self.registry,
            ),
            "cadence_bot_cadence_seconds": Histogram(
                "cadence_bot_cadence_seconds",
                "Time of one HTTP request to Cadence.",
                buckets=LATENCY_BUCKETS,
                registry=self.registry,
            ),
        }
        if not self.multiprocess:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def inc(self, name: CounterName, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to a counter's series. The labels must be exactly the counter's (see the
        module docstring); anything else is a ``ValueError``, a bug in the caller."""
        counter = self._counters[name]
        (counter.labels(**labels) if labels else counter).inc(amount)

    def observe(self, name: HistogramName, seconds: float, **labels: str) -> None:
        """Record one duration in a histogram's series; the labels as for :meth:`inc`."""
        histogram = self._histograms[name]
        (histogram.labels(**labels) if labels else histogram).observe(seconds)

    def channel_up(self, channel: str, up: bool) -> None:
        """Record whether ``channel`` serves (it is disabled when its credentials fail at start)."""
        self._channel_up.labels(channel=channel).set(1 if up else 0)

    def value(self, name: CounterName, **labels: str) -> float:
        """A counter's current value in this process: the sum of its series that carry ``labels``
        (all of them when none are given); 0 for a series never counted. Tests, the dialog eval and
        health checks read it."""
        wanted = labels.items()
        return sum(
            (
                sample.value
                for family in self._counters[name].collect()
                for sample in family.samples
                if sample.name == name and wanted <= sample.labels.items()
            ),
            0.0,
        )

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The body and content type answering a scrape whose ``Accept`` header is ``accept``: the
        OpenMetrics format when it asks for it, else Prometheus' text format. Reads ``/proc`` (and in
        multiprocess mode every process's file), so call it off the event loop."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self._exposed), content_type

    def render(self) -> str:
        """The Prometheus text format, as a string (for tests and logs)."""
        return self.exposition()[0].decode("utf-8")
