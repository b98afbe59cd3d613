"""Whole conversations in five languages, questions before booking, the earliest slots, two bookings in
one request, and managing bookings in plain words: each failure customers met, pinned.

Same setting as ``test_conversations``: the real engine against a fresh demo sandbox, on Friday
4 December 2026 in the evening (19:00 in Lisbon, 14:00 in New York).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.dialog_eval import Case, Customer, Expect, Run, converse

FRIDAY_EVENING = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


def talk(tenant: str, *turns: str, configured: Mapping[str, Mapping[str, Any]] | None = None) -> Run:
    case = Case(
        id="test",
        category="test",
        tenant=tenant,
        now=FRIDAY_EVENING,
        turns=turns,
        customer=Customer(),
        expect=Expect(bookings=()),
    )
    return asyncio.run(converse(case, configured=configured))


def booked(run: Run) -> list[tuple[str, str, str | None]]:
    return sorted((a.service, a.start, a.practitioner) for a in run.actual)


def said(run: Run, pattern: str) -> bool:
    return any(re.search(pattern, reply, re.IGNORECASE) for reply in run.replies)


# -- five languages, noticed from what the customer writes ------------------------------------------


def test_german_with_no_flag_is_answered_in_german_and_books() -> None:
    run = talk(
        "movela",
        "Hallo, ich möchte eine Sportmassage nächsten Dienstag um 15 Uhr",
        "1",
        "Jonas Weber, jonas@example.de",
        "ja",
    )
    assert run.language == "de" and said(run, "Buchungsassistent"), run.transcript
    assert booked(run) == [("Sports massage", "2026-12-08T15:00", "Ana Costa")], run.transcript


def test_spanish_names_the_service_its_own_way() -> None:
    run = talk("movela", "Hola, quiero una evaluación inicial el martes que viene por la mañana")
    assert run.language == "es" and said(run, r"Horas libres para Initial assessment"), run.transcript


def test_french_books_a_haircut_and_oui_confirms() -> None:
    run = talk("bloom", "je voudrais une coupe samedi à 10h", "Julien Mercier, julien@example.fr", "oui")
    assert run.language == "fr" and said(run, r"Haircut le sam\. 5 déc\., 10:00 : c'est libre"), (
        run.transcript
    )
    assert [b[:2] for b in booked(run)] == [("Haircut", "2026-12-05T10:00")], run.transcript


def test_a_spanish_service_name_in_a_spanish_chat() -> None:
    run = talk("movela", "hola", "masaje deportivo el lunes")
    assert said(run, r"Horas libres para Sports massage el lun\.? 7 dic"), run.transcript
    assert not said(run, "no he entendido"), run.transcript


def test_sim_confirms_in_portuguese() -> None:
    run = talk(
        "movela", "Olá! Queria uma massagem desportiva na segunda às 10h", "Rui Sá, rui@example.pt", "sim"
    )
    assert run.language == "pt" and booked(run) == [("Sports massage", "2026-12-07T10:00", "Ana Costa")]


# -- questions before booking -------------------------------------------------------------------------


def test_opening_hours_and_weekends_are_answered_from_availability() -> None:
    run = talk("movela", "what are your opening hours?", "do you do weekends?")
    # per weekday, the earliest start and the latest end of anyone's hours
    assert said(run, r"Our opening hours: Mon 8:00 AM–6:00 PM, Tue 9:00 AM–7:30 PM, Wed 8:00 AM–8:00 PM"), (
        run.transcript
    )
    assert said(run, r"Fri 8:00 AM–5:00 PM, Sat 9:00 AM–1:00 PM\."), run.transcript
    assert said(run, "What would you like to book"), "the conversation goes on"


def test_closed_on_a_day_is_said() -> None:
    run = talk("bloom", "are you open on sundays?")
    assert said(run, r"We're closed on Sunday\. Our opening hours: Tue"), run.transcript


def test_a_service_not_offered_is_said_with_what_is() -> None:
    run = talk("bloom", "do you do nails?")
    assert said(run, r"Sorry, we don't offer nails\. We offer: Haircut, Colour, Beard trim, Blow-dry"), (
        run.transcript
    )


def test_how_long_is_answered_in_minutes() -> None:
    run = talk("bloom", "how long does a colour take?")
    assert said(run, r"Colour takes 90 minutes"), run.transcript


def test_prices_and_address_come_from_the_tenants_file_or_a_plain_answer() -> None:
    info = {"movela": {"info": {"prices": "Initial assessment 60 EUR", "address": "Rua Augusta 100, Lisbon"}}}
    run = talk("movela", "how much is it?", "where are you?", configured=info)
    assert said(run, "Initial assessment 60 EUR") and said(run, "Rua Augusta 100"), run.transcript
    plain = talk("movela", "how much is it?")
    assert said(plain, r"please ask Movela Physio directly"), plain.transcript


# -- the earliest slots -------------------------------------------------------------------------------


def test_earliest_offers_the_first_open_day_spread_out() -> None:
    for asked in ("what's the earliest you have for a haircut?", "haircut asap", "a haircut, whenever"):
        run = talk("bloom", asked)
        assert said(run, r"Open times for Haircut on Fri 4 Dec:\n2:15 PM\n"), (asked, run.transcript)


# -- two bookings in one request ----------------------------------------------------------------------


def test_two_services_are_booked_back_to_back_with_the_same_practitioner() -> None:
    run = talk("bloom", "haircut and beard trim on saturday at 10", "Tom Becker, tom@example.com", "yes")
    assert said(run, r"Then: Beard trim \(15 minutes\), 10:30 AM, with Jamal Carter"), run.transcript
    assert booked(run) == [
        ("Beard trim", "2026-12-05T10:30", "Jamal Carter"),
        ("Haircut", "2026-12-05T10:00", "Jamal Carter"),
    ], run.transcript


def test_two_people_share_a_start_with_two_practitioners() -> None:
    run = talk(
        "bloom",
        "two haircuts for me and my son, saturday at 11am",
        "Michelle Park, michelle@example.com",
        "yes",
    )
    bookings = booked(run)
    assert [b[:2] for b in bookings] == [("Haircut", "2026-12-05T11:00")] * 2, run.transcript
    assert bookings[0][2] != bookings[1][2], "two people, two practitioners"


# -- managing in plain words --------------------------------------------------------------------------


def test_i_cant_make_it_anymore_cancels_after_asking() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10am",
        "Ana Reis, ana@example.com",
        "yes",
        "I can't make it anymore",
        "yes",
    )
    assert said(run, "Cancel your Sports massage on Mon 7 Dec, 10:00 AM"), run.transcript
    assert run.actual == [], run.transcript


def test_can_i_move_it_proposes_the_move_at_once() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10am",
        "Ana Reis, ana@example.com",
        "yes",
        "can I move it to thursday at 4pm?",
        "yes",
    )
    assert said(run, r"Move your Sports massage from Mon 7 Dec, 10:00 AM to Thu 10 Dec, 4:00 PM"), (
        run.transcript
    )
    assert [b[:2] for b in booked(run)] == [("Sports massage", "2026-12-10T16:00")], run.transcript


def test_cancel_my_3pm_picks_that_booking_and_several_are_asked_about() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10am",
        "Ana Reis, ana@example.com",
        "yes",
        "and a follow-up on tuesday at 3pm",
        "yes",
        "start over",
        "I need to cancel",
    )
    assert said(run, r"Your upcoming bookings:\n.*Mon 7 Dec.*\n.*Tue 8 Dec"), run.transcript  # which one?
    run = talk(
        "movela",
        "sports massage monday at 10am",
        "Ana Reis, ana@example.com",
        "yes",
        "and a follow-up on tuesday at 3pm",
        "yes",
        "start over",
        "cancel my 3pm",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [("Sports massage", "2026-12-07T10:00")], run.transcript


# -- found by conversations the project did not hold ----------------------------------------------------


def test_a_name_corrected_at_the_summary() -> None:
    run = talk(
        "bloom",
        "beard trim saturday 11am",
        "Terrell Jackson, terrell@example.com",
        "actually put the name as Terry Jackson",
        "yes",
    )
    assert [a.name for a in run.actual] == ["Terry Jackson"], run.transcript


def test_another_one_same_time_is_the_service_just_booked() -> None:
    run = talk(
        "bloom",
        "beard trim saturday 11am",
        "Terry Jackson, terry@example.com",
        "yes",
        "and another one on the 12th, same time please",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [
        ("Beard trim", "2026-12-05T11:00"),
        ("Beard trim", "2026-12-12T11:00"),
    ], run.transcript


def test_did_that_go_through_names_the_booking_it_asks_about() -> None:
    run = talk(
        "movela",
        "follow-up with Ana on monday at 10am",
        "Rui Sá, rui@example.com",
        "yes",
        "just to be sure, did that go through? I need the follow-up with Ana on monday at 10am",
    )
    assert said(run, r"Yes, you're booked: Follow-up session on Mon 7 Dec, 10:00 AM"), run.transcript
    assert len(run.actual) == 1


def test_a_practitioners_days_then_with_her() -> None:
    run = talk(
        "movela",
        "Which days does Carla work?",
        "does she do sports massage?",
        "ok a follow-up with her on wednesday at 7pm",
        "Marco Santos",
        "marco.santos@gmail.com",
        "yes",
    )
    assert said(run, r"Carla Mendes works Tue 10:00 AM–7:30 PM, Wed 2:00 PM–8:00 PM"), run.transcript
    assert said(run, r"Carla Mendes doesn't do Sports massage"), run.transcript
    assert booked(run) == [("Follow-up session", "2026-12-09T19:00", "Carla Mendes")], run.transcript
    assert run.language == "en", "a Portuguese-looking name or email does not switch the language"


def test_and_the_pilates_is_the_same_question() -> None:
    run = talk("movela", "How long is an initial assessment?", "and the pilates?")
    assert said(run, "Initial assessment takes 60 minutes") and said(run, "Pilates rehab takes 50 minutes"), (
        run.transcript
    )


def test_a_bare_hour_before_tomorrow() -> None:
    run = talk(
        "movela",
        "initial assessment, whenever is soonest",
        "9 tomorrow is perfect",
        "Vasco Teixeira, vasco@example.com",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [("Initial assessment", "2026-12-05T09:00")], run.transcript


def test_the_earliest_after_nothing_this_week() -> None:
    run = talk("movela", "anything tomorrow for pilates rehab?", "ok then the earliest you have")
    assert said(run, r"Open times for Pilates rehab on Tue 8 Dec:\n10:00 AM"), run.transcript


def test_wanting_to_book_is_not_misunderstood() -> None:
    run = talk("movela", "hello", "I'd like to book an appointment")
    assert not said(run, "didn't understand"), run.transcript


def test_a_services_days_are_answered() -> None:
    run = talk("movela", "which days can I do pilates?")
    assert said(run, r"Pilates rehab is available Tue 10:00 AM–7:20 PM, Wed 2:00 PM–"), run.transcript


def test_what_have_i_got_booked_with_you() -> None:
    run = talk(
        "movela",
        "sports massage monday at 10am",
        "Ana Reis, ana@example.com",
        "yes",
        "what have I got booked with you?",
    )
    assert said(run, r"Your upcoming bookings:\n.*Sports massage, Mon 7 Dec, 10:00 AM"), run.transcript


def test_in_two_weeks_on_tuesday() -> None:
    run = talk("bloom", "colour in 2 weeks on tuesday, 11ish?", "Dana Cole, dana@example.com", "yes")
    assert [b[:2] for b in booked(run)] == [("Colour", "2026-12-15T11:00")], run.transcript


def test_right_after_that_is_when_the_booking_just_made_ends() -> None:
    run = talk(
        "bloom",
        "haircut saturday at 10 with Jamal",
        "Luis Ortega, luis@example.com",
        "yes",
        "can I also get a beard trim right after that?",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [
        ("Beard trim", "2026-12-05T10:30"),
        ("Haircut", "2026-12-05T10:00"),
    ], run.transcript


def test_the_business_zone_named_in_portuguese() -> None:
    case = Case(
        id="test",
        category="test",
        tenant="movela",
        now=FRIDAY_EVENING,
        turns=(
            "Oi, queria marcar pilates na quinta às 15h, horário de Lisboa",
            "Rita Sá, rita@example.com",
            "sim",
        ),
        customer=Customer(timezone="America/Sao_Paulo"),
        expect=Expect(bookings=()),
    )
    run = asyncio.run(converse(case))
    assert [b[:2] for b in booked(run)] == [("Pilates rehab", "2026-12-10T15:00")], run.transcript


def test_a_day_change_at_the_name_question_is_not_a_name() -> None:
    run = talk(
        "movela",
        "Quiero pedir una valoración inicial el jueves a las 10",
        "perdón, mejor el miércoles a la misma hora",
        "Javier Navarro, javier@example.com",
        "sí",
    )
    booking = run.actual[0]
    assert (booking.start, booking.name) == ("2026-12-09T10:00", "Javier Navarro"), run.transcript


def test_a_generic_word_does_not_replace_the_service_asked_about() -> None:
    run = talk(
        "movela",
        "Salut ! Vous faites du Pilates ?",
        "Super, je voudrais une séance mercredi à 18h",
        "Léa Roy, lea@example.fr",
        "oui",
    )
    assert [b[:2] for b in booked(run)] == [("Pilates rehab", "2026-12-09T18:00")], run.transcript


# -- found by the fourth independent set -------------------------------------------------------------


def test_i_ll_take_the_earliest_one() -> None:
    run = talk(
        "bloom",
        "what's the earliest you can fit me in for a haircut?",
        "oh great, I'll take the earliest one",
        "Ann Lee, ann@example.com",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [("Haircut", "2026-12-04T14:15")], run.transcript


def test_le_premier_is_the_first_offered() -> None:
    run = talk(
        "bloom",
        "Bonjour, quel est le premier créneau disponible pour une couleur ?",
        "Le premier, c'est parfait",
        "Anne Roy, anne@example.fr",
        "oui",
    )
    assert len(run.actual) == 1 and run.actual[0].start.startswith("2026-12-04"), run.transcript


def test_an_hour_later_moves_the_booking_by_an_hour() -> None:
    run = talk(
        "bloom",
        "haircut saturday at 10",
        "Ann Lee, ann@example.com",
        "yes",
        "ah wait, could I come an hour later instead?",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [("Haircut", "2026-12-05T11:00")], run.transcript


def test_no_sabado_is_saturday_in_portuguese() -> None:
    run = talk(
        "bloom",
        "Olá, queria agendar um corte de cabelo e fazer a barba no sábado às 14h",
        "Rui Sá, rui@example.com",
        "sim",
    )
    assert [b[:2] for b in booked(run)] == [
        ("Beard trim", "2026-12-05T14:30"),
        ("Haircut", "2026-12-05T14:00"),
    ], run.transcript


def test_im_urlaub_is_no_name() -> None:
    run = talk(
        "bloom", "Hallo! Ich bin gerade im Urlaub in New York und bräuchte einen Haarschnitt morgen um 14 Uhr"
    )
    assert said(run, "Auf welchen Namen"), run.transcript


def test_a_cancelled_booking_is_never_said_to_be_booked() -> None:
    run = talk(
        "bloom", "haircut saturday at 10", "Ann Lee, ann@example.com", "yes", "cancel it", "yes", "yes"
    )
    assert not said(run, "already booked"), run.transcript
    assert run.actual == []


def test_an_hour_later_from_the_list_of_bookings_moves_that_one() -> None:
    run = talk(
        "bloom",
        "haircut saturday at 10",
        "Ann Lee, ann@example.com",
        "yes",
        "what bookings do I have?",
        "can you make it an hour later?",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [("Haircut", "2026-12-05T11:00")], run.transcript


def test_a_bare_hour_instead_of_another_at_the_summary_changes_the_time() -> None:
    run = talk(
        "bloom",
        "haircut saturday at 10",
        "Ann Lee, ann@example.com",
        "wait, sorry - can we do 11 instead of 10?",
        "yes",
    )
    assert [b[:2] for b in booked(run)] == [("Haircut", "2026-12-05T11:00")], run.transcript


def test_a_long_story_books_what_it_ends_by_asking_for() -> None:
    story = (
        "Hi! Sorry, long message. My sister is getting married and I've been running around for weeks "
        "sorting out flowers, the seating plan and the cake, and my dog ate a shoe. " * 6
        + "I don't need anything dramatic, no colour or cut or anything, just smooth for the dinner. "
        "A friend came to you last month and loved it. So anyway, I'd love a blow-dry with Mei on "
        "Saturday at 11 if that's doable!"
    )
    run = talk("bloom", story, "Hannah Price", "hannah@example.com", "yes")
    assert [b[0] for b in booked(run)] == ["Blow-dry"], run.transcript
    assert booked(run)[0][1].startswith("2026-12-05"), run.transcript
