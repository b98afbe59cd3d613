"""Shared by the race and crash tests: a fake Bot API that keeps each chat's messages in order, and
Telegram private chats that build the updates a customer's phone would send (typed text, a tap on a
button the bot really sent).

Both run the real ``cadence-bot serve`` (:class:`ServeProcess`, configured by its environment only),
deliver updates over HTTP to ``POST /telegram/webhook`` with the secret header as Telegram does, and
know a turn is answered by what reaches the fake Bot API. The race runs the sandbox in a child process
(:func:`sandbox_process`), so that the bot, the sandbox and this process each get a CPU.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.channels.fake_telegram import EPOCH, FakeTelegram

__all__ = ["Chat", "IndexedTelegram", "Sent", "ServeProcess", "buttons", "sandbox_process", "slot_labels"]


@dataclass(frozen=True)
class Sent:
    """One accepted sendMessage: the Message the fake returned (visible text, inline keyboard)."""

    chat_id: int
    message_id: int
    text: str
    message: dict[str, Any]
    at: float
    """``time.monotonic()`` when the fake accepted it."""


class IndexedTelegram(FakeTelegram):
    """:class:`FakeTelegram` that also keeps every chat's sent messages in order, so reading one chat
    costs that chat's messages only (the base class copies every call of every chat on each read),
    and lets a test wait for a chat's n-th message without polling every call."""

    def __init__(self) -> None:
        super().__init__()
        self._by_chat: dict[int, list[Sent]] = defaultdict(list)
        self._arrived = threading.Condition(self._lock)
        self.on_send: Callable[[Sent], None] | None = None
        """Called (in the server's thread) after each accepted sendMessage."""

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = super()._api_sendMessage(params)
        chat_id = int(message["chat"]["id"])
        sent = Sent(chat_id, int(message["message_id"]), str(message["text"]), message, time.monotonic())
        with self._arrived:
            self._by_chat[chat_id].append(sent)
            self._arrived.notify_all()
        if self.on_send is not None:
            self.on_send(sent)
        return message

    def chat(self, chat_id: int) -> list[Sent]:
        """Every message sent to ``chat_id``, in the order the fake accepted them."""
        with self._lock:
            return list(self._by_chat.get(chat_id, ()))

    def count(self, chat_id: int) -> int:
        with self._lock:
            return len(self._by_chat.get(chat_id, ()))

    def current(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The message as the customer sees it now (after edits)."""
        with self._lock:
            return self.messages.get((chat_id, message_id))

    def wait_for(self, chat_id: int, predicate: Callable[[list[Sent]], bool], timeout: float) -> bool:
        """Block until ``predicate(chat messages)`` holds; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate(list(self._by_chat.get(chat_id, ()))):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(min(left, 0.5))
        return True


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data) of a message's inline keyboard."""
    return [
        (str(button["text"]), str(button["callback_data"]))
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def slot_labels(message: dict[str, Any]) -> list[str]:
    """The offered times of an offer's keyboard ("9:15 AM"), without Earlier / Later / Another day."""
    return [label for label, _ in buttons(message) if label.endswith(("AM", "PM"))]


_update_ids = itertools.count(700_000_000)


@dataclass
class Chat:
    """One customer's private chat with the bot: builds the updates their Telegram app would send."""

    fake: IndexedTelegram
    chat_id: int
    first_name: str
    last_name: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    """Every update built for this chat, in order."""

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "language_code": "en",
        }

    def text(self, text: str) -> dict[str, Any]:
        update_id = next(_update_ids)
        message = {
            "message_id": update_id % 1_000_000,
            "from": self.user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
            "date": EPOCH,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        update = {"update_id": update_id, "message": message}
        self.updates.append(update)
        return update

    def tap(self, label: str) -> dict[str, Any]:
        """A tap on the button labelled exactly ``label`` on the latest message showing one."""
        for sent in reversed(self.fake.chat(self.chat_id)):
            message = self.fake.current(self.chat_id, sent.message_id) or sent.message
            for text, data in buttons(message):
                if text == label:
                    return self._callback(message, data)
        raise AssertionError(f"chat {self.chat_id}: no button {label!r} on screen")

    def _callback(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        update_id = next(_update_ids)
        query = {
            "id": f"cbq{update_id}",
            "from": self.user,
            "message": message,
            "chat_instance": str(self.chat_id),
            "data": data,
        }
        update = {"update_id": update_id, "callback_query": query}
        self.updates.append(update)
        return update


# -- a server in a child process --------------------------------------------------------------------


def _run_sandbox(pipe: Any, seed: dict[str, Any], now: datetime | None) -> None:
    from cadence_adapter.sandbox import create_app
    from cadence_adapter.sandbox.server import serving

    app = create_app(seed=seed, clock=(lambda: now) if now is not None else None, rate_limit=None)
    with serving(app) as url:
        pipe.send(url)
        with contextlib.suppress(EOFError):
            pipe.recv()  # anything, or the parent going away, means stop


@contextlib.contextmanager
def sandbox_process(seed: dict[str, Any], now: datetime | None = None) -> Iterator[str]:
    """The sandbox Cadence (no rate limit; its clock fixed at ``now``, or the real one) served by a child
    process, so its CPU is not the bot's: yields its URL."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_run_sandbox, args=(child, seed, now), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(30):
            raise RuntimeError("the sandbox process did not start")
        yield str(parent.recv())
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
        parent.close()


# -- `cadence-bot serve` as a real process ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
_OWN_ENV = ("CADENCE_", "BOT_", "TELEGRAM_", "TWILIO_")


class ServeProcess:
    """``python -m bot.cli serve --port P`` (what the ``cadence-bot serve`` script runs), configured by
    its environment only; started, killed with SIGKILL and started again on the same port and database.
    Each run's JSON log goes to ``logs/serve-<n>.log``."""

    def __init__(self, port: int, env: dict[str, str], logs: Path) -> None:
        self.port, self.logs = port, logs
        self.url = f"http://127.0.0.1:{port}"
        base = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_ENV)}
        self.env = {**base, **env, "PYTHONUNBUFFERED": "1"}
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self, timeout: float = 20.0) -> float:
        """Start serving and return once ``/healthz`` answers 200; returns how long that took."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.runs += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"serve-{self.runs}.log").open("wb")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not become healthy: {self.log_tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when the machine or the OOM killer takes it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        path = self.logs / f"serve-{self.runs}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_lines(self) -> list[str]:
        """Every run's log, in order."""
        out: list[str] = []
        for run in range(1, self.runs + 1):
            path = self.logs / f"serve-{run}.log"
            if path.exists():
                out.extend(path.read_text(errors="replace").splitlines())
        return out
