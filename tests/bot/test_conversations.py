"""Whole conversations, judged by what ends up booked: each failure customers met, pinned.

Every test talks to the real engine and dialog against a fresh embedded sandbox holding the demo
businesses (movela, Lisbon; bloom, New York), on a fixed clock: Friday 4 December 2026 in the
evening, as when these were found. ``converse`` is what ``cadence-bot dialog-eval`` runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.dialog_eval import Actual, Case, Customer, Expect, Run, converse

FRIDAY_EVENING = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)  # 19:00 in Lisbon, 14:00 in New York


def talk(tenant: str, *turns: str, now: datetime = FRIDAY_EVENING, customer: Customer | None = None) -> Run:
    case = Case(
        id="test",
        category="test",
        tenant=tenant,
        now=now,
        turns=turns,
        customer=customer or Customer(),
        expect=Expect(bookings=()),
    )
    return asyncio.run(converse(case))


def booked(run: Run) -> list[tuple[str, str]]:
    return sorted((a.service, a.start) for a in run.actual)


def said(run: Run, pattern: str) -> bool:
    return any(re.search(pattern, reply, re.IGNORECASE) for reply in run.replies)


def only(actual: Sequence[Actual]) -> Actual:
    [one] = actual
    return one


# -- corrections keep every other detail --------------------------------------------------------------


def test_actually_make_it_4_keeps_the_day() -> None:
    run = talk(
        "movela",
        "follow-up on thursday at 3pm",
        "actually make it 4",
        "Marta Ribeiro, marta@example.com",
        "yes",
    )
    assert booked(run) == [("Follow-up session", "2026-12-10T16:00")], run.transcript
    assert not said(run, "send just your name")


def test_change_time_then_a_time_keeps_the_day() -> None:
    run = talk(
        "movela",
        "follow-up on thursday at 3pm",
        "Marta Ribeiro, marta@example.com",
        "change time",
        "4pm",
        "yes",
    )
    assert booked(run) == [("Follow-up session", "2026-12-10T16:00")], run.transcript


def test_no_at_the_summary_asks_what_to_change_and_later_means_later_that_day() -> None:
    run = talk(
        "movela",
        "sports massage wednesday at 10am",
        "Rui Lopes, rui@example.com",
        "no",
        "change time",
        "later",
        "11",
        "yes",
    )
    assert said(run, "What would you like to change"), run.transcript
    assert not said(run, "didn't understand"), run.transcript
    assert booked(run) == [("Sports massage", "2026-12-09T11:00")], run.transcript


def test_no_tuesday_keeps_the_time() -> None:
    run = talk(
        "movela",
        "initial assessment monday at 11",
        "oh wait, I can't do Monday. Tuesday, same time?",
        "Raquel Sá, raquel@example.com",
        "yes",
    )
    assert booked(run) == [("Initial assessment", "2026-12-08T11:00")], run.transcript


def test_a_practitioner_ruled_out_is_not_the_one_booked() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10 with Ana please",
        "sorry, not Ana, I meant Bruno",
        "Jorge Lima, 934 567 210",
        "yes",
    )
    assert only(run.actual).practitioner == "Bruno Reis", run.transcript


def test_change_my_details_takes_a_new_name_then_an_email_that_is_not_a_practitioner() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10am with Bruno",
        "Bea, bea@example.com",
        "change my details",
        "Beatriz Costa",
        "bea.costa@example.com",
        "yes",
    )
    booking = only(run.actual)
    assert (booking.name, booking.email, booking.practitioner) == (
        "Beatriz Costa",
        "bea.costa@example.com",
        "Bruno Reis",
    )
    assert not said(run, "not an email"), run.transcript


def test_another_service_asked_for_on_an_offer_switches_to_it() -> None:
    run = talk("movela", "pilates rehab on tuesday", "what about this weekend for a massage?")
    assert said(run, "Sports massage on Sat 5 Dec"), run.transcript


def test_none_of_those_offers_other_days() -> None:
    run = talk("movela", "sports massage on monday", "none of those work")
    assert said(run, r"Which day would you like instead\?\n.*Tue 8 Dec"), run.transcript


# -- every message read whole ---------------------------------------------------------------------


def test_a_phone_number_is_never_a_time_and_the_name_is_kept() -> None:
    run = talk("bloom", "haircut with Ana tomorrow at 2pm, I'm Sam, 555-0100")
    assert not said(run, "1:00 AM"), run.transcript
    assert said(run, r"Haircut with Ana Rivera on Sat 5 Dec, 2:00 PM is open"), run.transcript
    assert not said(run, "What name"), "the name was given"


def test_everything_in_one_message_goes_straight_to_the_summary() -> None:
    run = talk("movela", "massage with Bruno tomorrow at 10am, I'm Joana Silva, 912 345 678", "yes")
    first = run.replies[1]  # after the greeting
    assert "Ready to book" in first and "Joana Silva" in first and "+351912345678" in first, run.transcript
    booking = only(run.actual)
    assert (booking.start, booking.practitioner, booking.phone) == (
        "2026-12-05T10:00",
        "Bruno Reis",
        "+351912345678",
    )


def test_the_slot_understood_is_said_before_asking_for_what_is_missing() -> None:
    run = talk("movela", "massage with Bruno tomorrow at 10am")
    assert said(run, r"Sports massage with Bruno Reis on Sat 5 Dec, 10:00 AM is open\.\nWhat name"), (
        run.transcript
    )


def test_name_and_email_in_one_answer() -> None:
    run = talk("movela", "follow-up monday at 10", "Jess Taylor jess.taylor@gmail.com", "yes")
    booking = only(run.actual)
    assert (booking.name, booking.email) == ("Jess Taylor", "jess.taylor@gmail.com")


# -- never guess silently ----------------------------------------------------------------------------


def test_a_date_that_has_passed_is_said_so_never_rolled_to_next_year() -> None:
    run = talk("movela", "book an assessment on 1 december", "yes")
    assert said(run, r"Tue 1 Dec 2026 has already passed"), run.transcript
    assert run.actual == [], run.transcript


def test_the_year_is_shown_when_it_is_not_this_one() -> None:
    run = talk("movela", "follow-up on 5 january 2027 at 10")
    assert said(run, r"Tue 5 Jan 2027, 10:00 AM"), run.transcript


def test_numeric_dates_follow_the_business_country() -> None:
    lisbon = talk("movela", "follow up on 8/12 at 15h", "Ana Sousa, ana@example.com", "yes")
    assert booked(lisbon) == [("Follow-up session", "2026-12-08T15:00")], lisbon.transcript
    new_york = talk("bloom", "haircut on 12/8 at 3pm", "Ann Lee, ann@example.com", "yes")
    assert booked(new_york) == [("Haircut", "2026-12-08T15:00")], new_york.transcript


def test_a_french_weekday_is_read_not_replaced_by_another_day() -> None:
    run = talk("movela", "Bonjour, je voudrais un massage sportif mardi prochain à 14h")
    assert not said(run, r"\blun\."), run.transcript  # lundi
    # "mardi prochain": the Tuesdays it may mean, offered, in French
    assert said(run, r"mar\. 8 déc\., 14:00\n.*mar\. 15 déc\., 14:00"), run.transcript


def test_a_portuguese_weekday_is_read() -> None:
    run = talk(
        "movela",
        "Olá, queria um follow-up segunda-feira às 10h",
        "Rui Sá, rui@example.com",
        "sim",
    )
    assert booked(run) == [("Follow-up session", "2026-12-07T10:00")], run.transcript


def test_a_time_alone_offers_the_days_it_is_open_instead_of_picking_one() -> None:
    run = talk("movela", "sports massage at 4pm")
    assert said(run, r"4:00 PM is open on these days"), run.transcript
    assert run.actual == []


# -- integrity ---------------------------------------------------------------------------------------


def test_a_second_request_for_the_same_slot_is_told_never_booked_again() -> None:
    run = talk(
        "movela",
        "sports massage on monday at 10am",
        "Hélder Santos, helder@example.com",
        "yes",
        "book another massage monday at 10am",
        "yes",
    )
    assert said(run, r"You already have Sports massage on Mon 7 Dec, 10:00 AM"), run.transcript
    assert sum("You're booked" in r for r in run.replies) == 1, run.transcript
    assert len(run.actual) == 1


def test_a_new_booking_after_a_cancel_is_a_new_booking() -> None:
    run = talk(
        "movela",
        "sports massage on monday at 10am",
        "Hélder Santos, helder@example.com",
        "yes",
        "please cancel it",
        "yes",
        "sports massage on monday at 10am",
        "yes",
    )
    assert said(run, "cancelled"), run.transcript
    assert booked(run) == [("Sports massage", "2026-12-07T10:00")], run.transcript
    references = re.findall(r"Reference: (bk_\w+)", "\n".join(run.replies))
    assert len(set(references)) == 2, "the second booking is not the first one replayed"


def test_moving_in_plain_words() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10am",
        "Ana Reis, ana@example.com",
        "yes",
        "can I push it to 11?",
        "yes",
    )
    assert booked(run) == [("Sports massage", "2026-12-07T11:00")], run.transcript


def test_two_services_in_one_message_are_booked_back_to_back_never_one_in_place_of_the_other() -> None:
    run = talk(
        "movela",
        "on thursday I'd like a follow-up at 10 and then pilates rehab right after",
        "Rosa Monteiro, rosa@example.com",
        "yes",
    )
    assert booked(run) == [
        ("Follow-up session", "2026-12-10T10:00"),
        ("Pilates rehab", "2026-12-10T10:30"),
    ], run.transcript
    assert {a.practitioner for a in run.actual} == {"Carla Mendes"}, "the same practitioner, free for both"


# -- the customer's zone -----------------------------------------------------------------------------


def test_a_zone_said_in_passing_reads_my_time_in_it() -> None:
    run = talk(
        "movela",
        "I'm in Berlin this week",
        "sports massage on monday at 4pm my time",
        "Lena Hoff, lena@example.com",
        "yes",
    )
    assert booked(run) == [("Sports massage", "2026-12-07T15:00")], run.transcript
    assert said(run, r"4:00 PM \(Berlin\)"), run.transcript


def test_days_of_a_trip_are_not_the_day_asked_for() -> None:
    run = talk("bloom", "haircut on Saturday at 11pm my time - I'm still in Tokyo, I fly back Friday")
    # Saturday in Tokyo is Saturday 9:00 AM in New York, not the Friday of the flight home
    assert said(run, r"Sat 5 Dec, 11:00 PM \(Tokyo\)"), run.transcript
