"""`cadence-bot dialog-eval FILE.jsonl [--transcripts DIR] [--only ID]`: whole conversations, judged by
what ends up booked.

Each case (format in the eval set's CONVERSATIONS.md) runs in-process against a fresh embedded sandbox
holding the demo seed; the bot and the sandbox share the case's clock, fixed at ``now``. The customer's
turns go through the real engine and dialog as a terminal chat (or an SMS chat when the case gives the
customer's phone). ``expect`` is read only afterwards, to judge: the active bookings must be exactly the
expected ones. A booking no expectation allows makes the case **wrong**, counted apart: the worst
outcome there is.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import permutations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config import Settings, TenantConfig
from bot.service import open_bot
from bot.types import Inbound, Reply
from cadence_adapter import Booking, CadenceClient, new_http_client
from cadence_adapter.sandbox.seed import Seed

__all__ = ["Case", "Run", "Verdict", "converse", "judge", "load_cases", "run_case", "run_dialog_eval"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedBooking(_Strict):
    service: str
    start: str
    """``YYYY-MM-DDTHH:MM`` in the business's zone."""
    practitioner: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Expect(_Strict):
    bookings: tuple[ExpectedBooking, ...]
    language: str | None = None
    replies_match: tuple[str, ...] = ()
    replies_avoid: tuple[str, ...] = ()


class Customer(_Strict):
    timezone: str | None = None
    phone: str | None = None


class Case(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    language: str = "en"
    tenant: str
    now: datetime
    customer: Customer = Field(default_factory=Customer)
    turns: tuple[str, ...]
    expect: Expect


class Actual(BaseModel):
    """A booking as the judge compares it: names, not ids; the start in the business's zone."""

    service: str
    start: str
    practitioner: str | None
    name: str | None
    email: str | None
    phone: str | None

    def line(self) -> str:
        who = ", ".join(v for v in (self.name, self.email, self.phone) if v)
        return f"{self.service} {self.start} with {self.practitioner or '?'} for {who or '?'}"


class Verdict(BaseModel):
    id: str
    category: str
    passed: bool
    wrong: bool
    reason: str
    transcript: str


def load_cases(path: Path) -> list[Case]:
    """Cases from a JSONL file; a malformed line is a ``ValueError`` naming it."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValidationError as exc:
            raise ValueError(
                f"{path}:{number}: not a conversation case ({exc.error_count()} errors)"
            ) from exc
    return cases


def _matches(expected: ExpectedBooking, actual: Actual) -> bool:
    pairs = [
        (expected.service, actual.service),
        (expected.start, actual.start),
        (expected.practitioner, actual.practitioner),
        (expected.email, actual.email),
        (expected.phone, actual.phone),
    ]
    if any(want is not None and want != got for want, got in pairs):
        return False
    return expected.name is None or expected.name.casefold() == (actual.name or "").casefold()


def _most_matched(expected: Sequence[ExpectedBooking], actual: Sequence[Actual]) -> int:
    """How many expectations a one-to-one matching can satisfy at best (the sets are tiny)."""
    if len(actual) <= len(expected):
        pairings = (
            zip(chosen, range(len(actual)), strict=True)
            for chosen in permutations(range(len(expected)), len(actual))
        )
    else:
        pairings = (
            zip(range(len(expected)), chosen, strict=True)
            for chosen in permutations(range(len(actual)), len(expected))
        )
    return max((sum(_matches(expected[e], actual[a]) for e, a in pairing) for pairing in pairings), default=0)


def judge(
    case: Case, actual: Sequence[Actual], replies: Sequence[str], language: str
) -> tuple[bool, bool, str]:
    """``(passed, wrong, reason)``. Wrong: a booking that no expectation allows."""
    expected = case.expect.bookings
    matched = _most_matched(expected, actual)
    wrong = len(actual) > matched
    problems = []
    if wrong:
        allowed = [a for a in actual if not any(_matches(e, a) for e in expected)] or list(actual)
        problems.append("booked what was not asked: " + "; ".join(a.line() for a in allowed))
    if matched < len(expected):
        missing = [e for e in expected if not any(_matches(e, a) for a in actual)] or list(expected)
        problems.append(
            "missing: "
            + "; ".join(
                f"{e.service} {e.start}" + (f" with {e.practitioner}" if e.practitioner else "")
                for e in missing
            )
        )
        if actual:
            problems.append("have: " + "; ".join(a.line() for a in actual))
    if case.expect.language and case.expect.language != language:
        problems.append(f"speaking {language!r}, expected {case.expect.language!r}")
    for pattern in case.expect.replies_match:
        if not any(re.search(pattern, r, re.IGNORECASE) for r in replies):
            problems.append(f"no reply matched /{pattern}/")
    for pattern in case.expect.replies_avoid:
        if any(re.search(pattern, r, re.IGNORECASE) for r in replies):
            problems.append(f"a reply matched /{pattern}/, which it should avoid")
    return not problems, wrong, "; ".join(problems) or "as expected"


def _render(replies: Sequence[Reply]) -> str:
    # The console's rendering, imported lazily would invert channels -> bot; it is four lines.
    blocks = []
    for reply in replies:
        lines = [reply.text] + [f"  {i}. {o.label}" for i, o in enumerate(reply.options, start=1)]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


async def _bookings(client: CadenceClient, zone: ZoneInfo, names: dict[str, str]) -> list[Actual]:
    found: list[Booking] = await client.list_bookings()
    return [
        Actual(
            service=names.get(b.service_id, b.service_id),
            start=b.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            practitioner=names.get(b.practitioner_id or "", b.practitioner_id),
            name=b.customer.name if b.customer else None,
            email=b.customer.email if b.customer else None,
            phone=b.customer.phone if b.customer else None,
        )
        for b in found
        if b.status != "cancelled"
    ]


class Run(BaseModel):
    """What one conversation did: every reply (text and option labels), the transcript, the bookings
    left active in Cadence, the language spoken at the end, and how many turns crashed."""

    replies: list[str]
    transcript: list[str]
    actual: list[Actual]
    language: str
    crashed: int


async def converse(
    case: Case, seed: Seed | None = None, configured: Mapping[str, Mapping[str, Any]] | None = None
) -> Run:
    """The case's turns through the real engine, against a fresh sandbox on the case's clock.

    ``configured``: tenants-file settings by slug (``{"movela": {"info": {...}}}``), as a business would
    have them; each tenant gets its org key from the seed."""
    from cadence_adapter.sandbox import create_app, load_seed

    seed = seed or load_seed()

    def clock() -> datetime:
        return case.now

    tenants = {
        o.slug: TenantConfig(slug=o.slug, org_api_key=o.api_keys[0], **(configured or {}).get(o.slug, {}))
        for o in seed.orgs
        if o.api_keys
    }
    transport = httpx.ASGITransport(app=create_app(seed=seed, clock=clock))
    base_url = "http://sandbox.local"
    bot = open_bot(
        Settings(tenants=tenants),
        base_url=base_url,
        http=new_http_client(transport=transport),
        database=":memory:",
        clock=clock,
    )
    org = next((o for o in seed.orgs if o.slug == case.tenant), None)
    if org is None or not org.api_keys:  # its key is how the judge reads what was booked
        raise ValueError(f"{case.id}: no business {case.tenant!r} with an api key in the seed")
    names = {s.id: s.name for s in org.services} | {p.id: p.name for p in org.practitioners}
    channel = "sms" if case.customer.phone else "console"
    chat_id = case.customer.phone or "eval"
    lines = [f"# {case.id} ({case.category}, {case.language}) at {case.tenant}, now {case.now.isoformat()}"]
    replies: list[str] = []
    try:
        for number, text in enumerate(case.turns):
            inbound = Inbound(
                channel=channel,
                chat_id=chat_id,
                message_id=f"{case.id}-{number}",
                text=text,
                # The channel knows the business (deep link, the number texted) on the first message.
                tenant=case.tenant if number == 0 or channel == "sms" else None,
                timezone=case.customer.timezone,
                sender_phone=case.customer.phone,
            )
            result = await bot.engine.handle(inbound)
            replies.extend(r.text + "\n" + "\n".join(o.label for o in r.options) for r in result.replies)
            lines += [f"> {text}", _render(result.replies)]
        state = bot.store.load(channel, chat_id).state or {}
        keyed = CadenceClient(base_url, org.api_keys[0], http=new_http_client(transport=transport))
        async with keyed:
            actual = await _bookings(keyed, ZoneInfo(org.timezone), names)
        crashed = int(bot.metrics.value("cadence_bot_turns_total", channel=channel, result="error"))
    finally:
        await bot.aclose()
    return Run(
        replies=replies,
        transcript=lines,
        actual=actual,
        language=str(state.get("language", "en")),
        crashed=crashed,
    )


async def run_case(case: Case, seed: Seed | None = None) -> Verdict:
    """One conversation, then judged."""
    run = await converse(case, seed)
    passed, wrong, reason = judge(case, run.actual, run.replies, run.language)
    if run.crashed:  # a crash is a failure even when the bookings came out right
        passed, reason = False, f"{run.crashed} turn(s) crashed; " + reason
    verdict = "WRONG" if wrong else "PASS" if passed else "FAIL"
    transcript = "\n".join([*run.transcript, "", f"# {verdict}: {reason}"])
    return Verdict(
        id=case.id, category=case.category, passed=passed, wrong=wrong, reason=reason, transcript=transcript
    )


def summary(verdicts: Sequence[Verdict]) -> list[str]:
    """Pass/total per category in first-seen order, then ``overall 95.5% (191/200) wrong 0``."""
    totals: Counter[str] = Counter(v.category for v in verdicts)
    passed: Counter[str] = Counter(v.category for v in verdicts if v.passed)
    wrong: Counter[str] = Counter(v.category for v in verdicts if v.wrong)
    lines = [
        f"{name:<14} {passed[name]:>3}/{totals[name]:<3}" + (f"  wrong {wrong[name]}" if wrong[name] else "")
        for name in totals
    ]
    n, ok = len(verdicts), sum(v.passed for v in verdicts)
    share = 100.0 * ok / n if n else 0.0
    lines.append(f"overall {share:.1f}% ({ok}/{n}) wrong {sum(v.wrong for v in verdicts)}")
    return lines


async def _run_all(cases: Sequence[Case], seed: Seed | None) -> list[Verdict]:
    return [await run_case(case, seed) for case in cases]


def run_dialog_eval(
    path: Path, transcripts: Path | None = None, only: str | None = None, seed: Path | None = None
) -> int:
    """The command: run every case (or ``only`` one), write transcripts, print the summary.

    ``seed``: the businesses to run against (the sandbox's seed format); the demo seed by default, so a
    business can keep cases of its own next to a seed of its own."""
    from cadence_adapter.sandbox import load_seed

    businesses = load_seed(seed) if seed is not None else None
    cases = load_cases(path)
    if only is not None:
        cases = [c for c in cases if c.id == only]
        if not cases:
            raise ValueError(f"no conversation {only!r} in {path}")
    verdicts = asyncio.run(_run_all(cases, businesses))
    if transcripts is not None:
        transcripts.mkdir(parents=True, exist_ok=True)
        for v in verdicts:
            (transcripts / f"{v.id}.txt").write_text(v.transcript + "\n", encoding="utf-8")
    for v in verdicts:
        if not v.passed:
            print(f"{'WRONG' if v.wrong else 'FAIL '} {v.id}: {v.reason}", file=sys.stderr)
    print("\n".join(summary(verdicts)))
    return 0
