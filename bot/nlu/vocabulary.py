"""Services by meaning, across languages: "Sportmassage", "masaje deportivo", "corte de pelo" and "coupe"
all find a business's English-named service.

A small built-in vocabulary maps the words people use for the common services of businesses that book
by appointment (hair, beauty, physio, massage, medical, dental, fitness, pets, auto, consulting) to
*concepts*, in English, Spanish, German, French and Portuguese. A service's name is read into concepts
with the same table ("Sports massage" -> sport + massage), and so is the customer's message; the service
whose concepts the message covers best wins, when it wins clearly. German compounds are read by their
parts ("Erstuntersuchung" -> initial + assessment). Words the table does not know are ignored, so a
business's own names still match by spelling in :mod:`bot.nlu.request` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

from bot.nlu.text import fold

__all__ = ["CONCEPTS", "concepts_at", "concepts_in", "match_by_meaning", "named_as", "services_by_meaning"]

# concept -> words and phrases (folded: lowercase, no accents). A trailing "*" marks a stem.
CONCEPTS: Mapping[str, str] = {
    # hair and beauty
    "haircut": "haircut* haircutting cut cuts corte haarschnitt* haarschneiden schneiden frisur coupe"
    " coiffure",
    "colour": "colour* color* dye tint highlights tinte* coloracion* mechas farben* farbe* coloration*"
    " couleur* meches coloracao* madeixas",
    "beard": "beard* barba* bart* barbe*",
    "trim": "trim* arreglo* arreglar recortar recorte* trimmen* stutzen taille* tailler aparar aparo",
    "blow_dry": "blow-dry* blowdry* blowout secado* brushing peinado fohnen* fohn* foehnen escova* secagem",
    "nails": "nail* manicure* pedicure* unas manicura* pedicura* nagel* manikure* pedikure* ongles manucure*"
    " unhas",
    "perm": "perm perms permanente* dauerwelle*",
    "waxing": "wax* depilacion* depilar* enthaarung* epilation* epiler depilacao*",
    "facial": "facial* gesichtsbehandlung*",
    "makeup": "makeup make-up maquillaje* schminken* maquillage* maquilhagem* maquiagem*",
    # physio, massage, fitness
    "massage": "massage* masaje* massagem* massagen*",
    "sport": "sport* sports deportivo* deportiva* sportif* sportive* desportiv* esportiv*",
    "assessment": "assessment* evaluation* evaluacion* valoracion* befund* untersuchung* bilan* avaliacao*"
    " exam* examination checkup check-up diagnostico* diagnose*",
    "initial": "initial inicial* initiale erst+",
    "follow_up": "follow-up* followup* seguimiento* revision control folge* nachbehandlung* kontroll*"
    " nachkontrolle* suivi* controle acompanhamento* seguimento* revisao",
    "session": "session* sesion* sitzung* seance* sessao* sessoes",
    "pilates": "pilates*",
    "rehab": "rehab* rehabilitation* rehabilitacion* reha* rehabilitierung* reeducation* reeduc*"
    " reabilitacao* clinico clinica klinisch* clinique",
    "physio": "physio* physiotherapy fisio* fisioterapia* physiotherapie* kine* kinesitherapie*",
    "acupuncture": "acupunct* acupuntura* akupunktur*",
    "personal_training": "personaltraining*",
    "yoga": "yoga*",
    # medical, dental
    "consultation": "consultation* consulta* konsultation* sprechstunde*",
    "dental": "dental* dentist* teeth tooth dientes zahn* zahne* dentaire* dents dentes",
    "cleaning": "cleaning* limpieza* reinigung* nettoyage* detartrage limpeza* destartarizacao",
    "vaccination": "vaccin* vacuna* impf* vacina*",
    # pets, auto
    "grooming": "grooming* hundefrisur* toilettage* tosquia*",
    "oil_change": "olwechsel* vidange*",
    "tyres": "tyre* tire* neumatico* reifen* pneu* pneus",
}
"""Concept -> single words in the five languages, folded (lowercase, no accents); a trailing "*" marks a
stem, a trailing "+" the first part of a compound only ("erst+": "Erstbefund", never "am ersten").
Phrases of several words are in ``_PHRASES``."""

# Multi-word phrases the table knows, matched before single words (folded, space-separated).
_PHRASES: Mapping[str, str] = {
    "fazer a barba": "beard trim",
    "aparar a barba": "beard trim",
    "arreglar la barba": "beard trim",
    "arreglarme la barba": "beard trim",
    "faire la barbe": "beard trim",
    "tailler la barbe": "beard trim",
    "bart stutzen": "beard trim",
    "first visit": "initial",
    "first appointment": "initial",
    "first time": "initial",
    "primera consulta": "initial",
    "primera visita": "initial",
    "primera vez": "initial",
    "erster termin": "initial",
    "ersten termin": "initial",
    "premiere consultation": "initial",
    "premier rendez vous": "initial",
    "premiere fois": "initial",
    "primeira consulta": "initial",
    "primeira vez": "initial",
    "corte de pelo": "haircut",
    "corte de cabello": "haircut",
    "cortar el pelo": "haircut",
    "cortarme el pelo": "haircut",
    "haare schneiden": "haircut",
    "coupe de cheveux": "haircut",
    "couper les cheveux": "haircut",
    "corte de cabelo": "haircut",
    "cortar o cabelo": "haircut",
    "cortar cabelo": "haircut",
    "hair cut": "haircut",
    "trim my hair": "haircut",
    "blow dry": "blow_dry",
    "blow out": "blow_dry",
    "mise en plis": "blow_dry",
    "pintar o cabelo": "colour",
    "permanent wave": "perm",
    "limpieza facial": "facial",
    "soin du visage": "facial",
    "limpeza de pele": "facial",
    "face treatment": "facial",
    "make up": "makeup",
    "follow up": "follow_up",
    "check up": "assessment",
    "personal training": "personal_training",
    "personal trainer": "personal_training",
    "entrenamiento personal": "personal_training",
    "treino personalizado": "personal_training",
    "coaching sportif": "personal_training",
    "peluqueria canina": "grooming",
    "banho e tosa": "grooming",
    "oil change": "oil_change",
    "cambio de aceite": "oil_change",
    "mudanca de oleo": "oil_change",
    "troca de oleo": "oil_change",
}
# Words that are only part of a phrase above, never a concept alone.
_PHRASE_ONLY = frozenset({"de", "el", "o", "my", "les", "en", "e", "le", "du", "a"})
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MIN_COMPOUND_PART = 4  # "erst" in "Erstbefund"; shorter stems only match whole words


@cache
def _tables() -> tuple[dict[str, str], list[tuple[str, str]], list[tuple[str, str]]]:
    """Whole words -> concept; stems (longest first) -> concept; compound heads -> concept."""
    words: dict[str, str] = {}
    stems: list[tuple[str, str]] = []
    heads: list[tuple[str, str]] = []
    for concept, entries in CONCEPTS.items():
        for entry in entries.split():
            if entry in _PHRASE_ONLY:
                continue
            if entry.endswith("*"):
                stems.append((entry[:-1], concept))
            elif entry.endswith("+"):
                heads.append((entry[:-1], concept))
            else:
                words.setdefault(entry, concept)
    stems.sort(key=lambda item: len(item[0]), reverse=True)
    return words, stems, heads


def _word_concepts(word: str) -> set[str]:
    words, stems, heads = _tables()
    if word in words:
        return {words[word]}
    for stem, concept in stems:
        if word.startswith(stem):
            rest = word[len(stem) :]
            found = {concept}
            if len(rest) >= _MIN_COMPOUND_PART:  # a compound: "sportmassage", "haarschnitt"
                found |= _word_concepts(rest)
            return found
    for head, concept in heads:
        rest = word[len(head) :]
        if word.startswith(head) and len(rest) >= _MIN_COMPOUND_PART and (more := _word_concepts(rest)):
            return {concept} | more
    # A compound whose first part is unknown but whose last part is a stem: "kurzhaarschnitt".
    for stem, concept in stems:
        if len(stem) >= _MIN_COMPOUND_PART and stem in word[1:]:
            return {concept}
    return set()


def concepts_at(text: str) -> dict[str, int]:
    """The concepts a text names, in any of the five languages, each with where it is first named."""
    folded = " " + " ".join(_WORD.findall(fold(text[:1000]).replace("'", " "))) + " "
    found: dict[str, int] = {}
    for phrase, concepts in _PHRASES.items():
        at = folded.find(f" {phrase} ")
        if at >= 0:
            for concept in concepts.split():  # "fazer a barba": beard and trim
                found.setdefault(concept, at)
            folded = folded.replace(f" {phrase} ", " " + "_" * len(phrase) + " ")
    at = 0
    for word in folded.split(" "):
        for part in [word, *word.split("-")] if "-" in word else [word]:
            for concept in _word_concepts(part):
                found[concept] = min(found.get(concept, at), at)
        at += len(word) + 1
    return found


def concepts_in(text: str) -> set[str]:
    """The concepts a text names, in any of the five languages."""
    return set(concepts_at(text))


_JOINS = frozenset(
    re.findall(r"\S+", "and & + plus then y e und et luego despues dann danach puis ensuite depois")
)


def _together(text: str, first: int, second: int) -> bool:
    """Two services asked for in one breath: a joining word between them, a few words apart."""
    folded = " " + " ".join(_WORD.findall(fold(text[:1000]).replace("'", " "))) + " "
    between = folded[first:second].split()[1:]
    return len(between) <= 8 and any(w in _JOINS for w in between)


_GENERIC = frozenset({"session", "consultation"})
"""Concepts too general to name a service alone: "une séance" is no follow-up session."""


def _unknown_words(name: str) -> int:
    """Words of a service's name the vocabulary has no concept for ("deep", "tissue")."""
    return sum(1 for w in _WORD.findall(fold(name)) if len(w) > 2 and not _word_concepts(w))


def services_by_meaning(
    text: str,
    labels: Sequence[str],
    aliases: Mapping[int, Sequence[str]] | None = None,
    *,
    full_only: bool = False,
) -> list[int]:
    """The services a text names by meaning, in the order it names them (at most two).

    Every service whose name the text names in full counts ("corte de pelo y arreglo de barba": Haircut,
    Beard trim; "Sportmassage"). Otherwise the one service that shares the most concepts with the text,
    when no other shares as many ("Folgetermin": Follow-up session); "a massage" at a place with a
    sports and a deep tissue massage names neither; with ``full_only``, only services named in full. A
    service's aliases count as other names."""
    said = concepts_at(text)
    if not said:
        return []
    full: list[tuple[int, int]] = []
    shared: list[int] = []
    for index, label in enumerate(labels):
        best = 0
        for name in (label, *(aliases or {}).get(index, ())):
            names = concepts_in(name)
            matched = names & said.keys()
            best = max(best, len(matched - _GENERIC))
            if names and matched == names and not _unknown_words(name):
                full.append((min(said[c] for c in names), index))
                break
        shared.append(best)
    if full:
        found = sorted(set(full))[:2]
        if len(found) == 2 and not _together(text, found[0][0], found[1][0]):
            found = found[:1]  # far apart, or not joined: only the first is asked for now
        return [index for _, index in found]
    if full_only:  # only services named in full were asked for
        return []
    most = max(shared, default=0)
    tied = [i for i, n in enumerate(shared) if n == most]
    return tied if most and len(tied) == 1 else []


def match_by_meaning(
    text: str, labels: Sequence[str], aliases: Mapping[int, Sequence[str]] | None = None
) -> int | None:
    """The one service the text names by meaning, or None when none is named, or two are."""
    found = services_by_meaning(text, labels, aliases)
    return found[0] if len(found) == 1 else None


def named_as(text: str) -> dict[str, str]:
    """Concept -> the word the customer used for it, as they wrote it ("Maniküre", "nails"): so a
    reply about something not offered names it the customer's way, in their language."""
    found: dict[str, str] = {}
    for word in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text[:1000]):
        for concept in _word_concepts(fold(word)):
            found.setdefault(concept, word)
    return found
