"""Services found by meaning in five languages (`bot.nlu.vocabulary`); never a word that means another thing.

The vocabulary maps words to concepts; a service is the one whose concepts the message names best."""

from __future__ import annotations

import pytest

from bot.nlu.vocabulary import concepts_in, match_by_meaning

PHYSIO = ["Initial assessment", "Follow-up session", "Sports massage", "Pilates rehab"]
SALON = ["Haircut", "Colour", "Beard trim", "Blow-dry"]


@pytest.mark.parametrize(
    ("text", "services", "expected"),
    [
        ("ich möchte eine Sportmassage", PHYSIO, "Sports massage"),
        ("einen Termin für eine Erstuntersuchung", PHYSIO, "Initial assessment"),
        ("Erstbefund bitte", PHYSIO, "Initial assessment"),
        ("einen Folgetermin", PHYSIO, "Follow-up session"),
        ("Reha-Pilates am Dienstag", PHYSIO, "Pilates rehab"),
        ("quiero un masaje deportivo", PHYSIO, "Sports massage"),
        ("una evaluación inicial", PHYSIO, "Initial assessment"),
        ("es mi primera consulta", PHYSIO, "Initial assessment"),
        ("une séance de suivi", PHYSIO, "Follow-up session"),
        ("un bilan initial", PHYSIO, "Initial assessment"),
        ("Pilates de rééducation", PHYSIO, "Pilates rehab"),
        ("massagem desportiva", PHYSIO, "Sports massage"),
        ("consulta de seguimento", PHYSIO, "Follow-up session"),
        ("Pilates clínico", PHYSIO, "Pilates rehab"),
        ("einen Haarschnitt", SALON, "Haircut"),
        ("Bart trimmen", SALON, "Beard trim"),
        ("nur Föhnen", SALON, "Blow-dry"),
        ("corte de pelo", SALON, "Haircut"),
        ("arreglo de barba", SALON, "Beard trim"),
        ("el tinte", SALON, "Colour"),
        ("je voudrais une coupe", SALON, "Haircut"),
        ("une taille de barbe", SALON, "Beard trim"),
        ("une coloration", SALON, "Colour"),
        ("corte de cabelo", SALON, "Haircut"),
        ("uma escova", SALON, "Blow-dry"),
        ("aparar a barba", SALON, "Beard trim"),
    ],
)
def test_a_service_named_in_another_language(text: str, services: list[str], expected: str) -> None:
    index = match_by_meaning(text, services)
    assert index is not None and services[index] == expected


@pytest.mark.parametrize(
    "text",
    [
        "the first one is fine",  # an option, not a first visit
        "am ersten Dezember",  # the first of December, not an initial assessment
        "first available",
        "I want to book something for monday",
        "ok",
    ],
)
def test_words_that_mean_something_else_name_no_service(text: str) -> None:
    assert match_by_meaning(text, PHYSIO) is None


def test_two_services_that_fit_equally_name_neither() -> None:
    assert match_by_meaning("cut and colour", SALON) is None


def test_a_service_not_offered_is_still_a_concept() -> None:
    """What lets the bot say "we don't do nails" instead of not understanding."""
    assert concepts_in("do you do nails?") == {"nails"}
    assert concepts_in("Machen Sie auch Maniküre?") == {"nails"}
    assert match_by_meaning("do you do nails?", SALON) is None


def test_aliases_count_as_other_names() -> None:
    assert match_by_meaning("deep tissue please", PHYSIO, {2: ["deep tissue"]}) is None  # no concept known
    assert match_by_meaning("a masaje", ["Relax treatment"], {0: ["massage"]}) == 0
