"""Understanding customers' messages: pure functions, no I/O, no global mutable state.

See docs/nlu.md for what is understood and the conventions chosen.
"""

from bot.nlu.choices import Choice, match_choice
from bot.nlu.commands import Command, CommandKind, detect_command
from bot.nlu.contact import extract_email, extract_name, extract_phone, mask_email, mask_phone
from bot.nlu.language import detect_language
from bot.nlu.request import Request, extract_request
from bot.nlu.timezones import resolve_timezone
from bot.nlu.when import When, interpret_when
from bot.nlu.yesno import interpret_yes_no

__all__ = [
    "Choice",
    "Command",
    "CommandKind",
    "Request",
    "When",
    "detect_command",
    "detect_language",
    "extract_email",
    "extract_name",
    "extract_phone",
    "extract_request",
    "interpret_when",
    "interpret_yes_no",
    "mask_email",
    "mask_phone",
    "match_choice",
    "resolve_timezone",
]
