"""The ``cadence-bot`` command: chat, serve, sandbox, check, nlu-eval, dialog-eval.

Each subcommand imports its module lazily, so the sandbox never pays for the bot's imports.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

DESCRIPTION = (
    "A booking assistant for businesses that schedule with Cadence: customers book, move and cancel "
    "appointments on Telegram and by SMS. Configuration is read from the environment (README.md)."
)


def _version() -> str:
    try:
        return metadata.version("cadence-bot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cadence-bot", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"cadence-bot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("slug", nargs="?", help="the business to talk to (default: BOT_DEFAULT_TENANT)")
    chat.add_argument("--tz", help="your time zone, e.g. Europe/Berlin")
    chat.add_argument("--lang", help="the language to start in: en, es, de, fr or pt")

    serve = sub.add_parser("serve", help="the HTTP server with every configured channel")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8080, help="the port to listen on (default: %(default)s)")
    serve.add_argument(
        "--telegram-polling", action="store_true", help="poll Telegram instead of receiving its webhook"
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        help="serve GET /metrics on this port (same host) instead of the public one (docs/metrics.md)",
    )

    sandbox = sub.add_parser("sandbox", help="a local Cadence-compatible server")
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)"
    )
    sandbox.add_argument(
        "--port", type=int, default=8765, help="the port to listen on (default: %(default)s)"
    )
    sandbox.add_argument("--db", type=Path, help="SQLite file (default: in memory)")
    sandbox.add_argument("--seed", type=Path, help="seed JSON (default: the demo tenant movela)")

    nlu_eval = sub.add_parser("nlu-eval", help="score date/time understanding on a JSONL file")
    nlu_eval.add_argument("file", type=Path, help="items, one JSON object a line (format in docs/nlu.md)")
    nlu_eval.add_argument("--predictions", type=Path, help="write one prediction per item here")

    dialog_eval = sub.add_parser("dialog-eval", help="run whole conversations and judge what they booked")
    dialog_eval.add_argument("file", type=Path, help="conversation cases, one JSON object a line")
    dialog_eval.add_argument("--transcripts", type=Path, help="write each transcript and its verdict here")
    dialog_eval.add_argument("--only", metavar="ID", help="run just this conversation")
    dialog_eval.add_argument(
        "--seed", type=Path, help="the businesses to run against (default: the demo seed)"
    )
    sub.add_parser("check", help="check the configuration and reach Cadence and each configured channel")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a configuration or input error is one line on stderr and exit status 2."""
    args = _parser().parse_args(argv)
    from bot.config import ConfigError

    try:
        return _run(args)
    except (ConfigError, OSError, ValueError) as exc:
        print(f"cadence-bot {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: Exception) -> str:
    text = str(exc) if not isinstance(exc, FileNotFoundError) else f"no such file: {exc.filename}"
    return " ".join(text.split())


def _run(args: argparse.Namespace) -> int:
    if args.command == "sandbox":
        from cadence_adapter.sandbox.server import run

        return run(host=args.host, port=args.port, db=args.db, seed=args.seed)
    if args.command == "nlu-eval":
        from bot.nlu.evaluate import run_eval

        return run_eval(args.file, predictions=args.predictions)
    if args.command == "dialog-eval":
        from bot.dialog_eval import run_dialog_eval

        return run_dialog_eval(args.file, transcripts=args.transcripts, only=args.only, seed=args.seed)
    if args.command == "check":
        from bot.check import run_check

        return run_check()
    if args.command == "chat":
        from channels.console import run_chat

        return run_chat(slug=args.slug, tz=args.tz, language=args.lang)
    if args.command == "serve":
        from bot.app import serve

        return serve(
            host=args.host,
            port=args.port,
            telegram_polling=args.telegram_polling,
            metrics_port=args.metrics_port,
        )
    raise AssertionError(args.command)  # argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
