"""Questions customers ask before they book, in five languages: `detect_question`.

"are you open on Saturdays?", "how long is a sports massage?", "how much is it?", "where are you?",
"what services do you offer?", "do you do nails?", "what's the difference between a follow-up and an
initial assessment?". Only the kind of question is read here (and whether it is one at all); the
service, day or concept it is about is read by the other readers, and the dialog answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from bot.nlu.lexicon import normalize_languages
from bot.nlu.text import fold

__all__ = ["QuestionKind", "detect_question"]


class QuestionKind(StrEnum):
    HOURS = "hours"
    """When the business is open: "are you open on sundays?", "what time do you close on fridays?"."""
    DURATION = "duration"
    PRICE = "price"
    ADDRESS = "address"
    CONTACT = "contact"
    SERVICES = "services"
    """What is offered: "what services do you offer?", "do you do nails?"."""
    DIFFERENCE = "difference"


_PATTERNS: dict[QuestionKind, dict[str, str]] = {
    QuestionKind.DIFFERENCE: {
        "en": r"difference between|what(?:'s| is) the difference|which (?:one )?should i (?:book|choose|get)",
        "es": r"diferencia entre|cual es la diferencia|que diferencia",
        "de": r"unterschied zwischen|was ist der unterschied",
        "fr": r"difference entre|quelle est la difference",
        "pt": r"diferenca entre|qual (?:e )?a diferenca",
    },
    QuestionKind.DURATION: {
        "en": r"how long|how many (?:minutes|hours)|duration|how much time|take long",
        "es": r"cuanto (?:dura|tiempo|tarda)|duracion",
        "de": r"wie lange?|dauer|dauert",
        "fr": r"combien de temps|duree|dure combien|ca dure",
        "pt": r"quanto tempo|(?:quanto )?demora|duracao",
    },
    QuestionKind.PRICE: {
        "en": r"how much (?:is|does|do|for|would|will)|how much\??$|price|prices|cost|costs|fee|fees"
        r"|rates?\b",
        "es": r"cuanto (?:cuesta|vale|es|sale|cobr\w*)|precio|precios|tarifa",
        "de": r"was kostet|wie viel kostet|wieviel kostet|preis|preise|kosten",
        "fr": r"combien (?:coute|ca coute|pour)|prix|tarif",
        "pt": r"quanto (?:custa|e|fica|cobr\w*)|preco|precos",
    },
    QuestionKind.HOURS: {
        "en": r"(?:are|r) (?:you|u) open|open (?:on|today|tomorrow|at|this)|opening (?:hours|times)|hours\b"
        r"|what time do you (?:open|close)|when do you (?:open|close)|do you (?:open|work) (?:on|at|today)"
        r"|until when|till when|how late|how early|closed on|close on|do you do weekends|open weekends"
        r"|(?:which|what) days (?:does|do|is) \w+ (?:work|in)|when (?:does|is) \w+ (?:work|in|working)"
        r"|(?:which|what) days (?:can|could) (?:i|we) (?:do|have|get|book)"
        r"|(?:which|what) days (?:is|are|do you do)"
        r"|what are \w+(?:'s)? hours",
        "es": r"(?:abris|abren|abre|abrís|estais abiertos|estan abiertos|esta abierto)|horario|a que hora"
        r" (?:abr|cerr)\w*|hasta que hora|cerrado",
        "de": r"(?:haben|sind) sie (?:heute |morgen |am \w+ )?(?:offen|geoffnet|auf)|offnungszeiten|wann"
        r" (?:offnen|schliessen|haben) sie|bis wann|geschlossen",
        "fr": r"(?:etes vous|vous etes) ouverts?|ouvert (?:le|aujourd'hui|demain)|horaires?|a quelle heure"
        r" (?:ouvr|ferm)\w*|jusqu'a quelle heure|ferme",
        "pt": r"(?:abrem|esta aberto|estao abertos|abre)|horario|a que horas (?:abr|fech)\w*|ate que horas"
        r"|fechado",
    },
    QuestionKind.ADDRESS: {
        "en": r"where are you|where is (?:it|the (?:clinic|salon|shop|studio|office))|address|location"
        r"|how do i get there|parking",
        "es": r"donde (?:estais|estan|esta|queda)|direccion|como llego",
        "de": r"wo (?:sind|ist|finde)|adresse|anfahrt|parken",
        "fr": r"ou (?:etes vous|est|se trouve)|adresse|comment venir",
        "pt": r"onde (?:ficam|fica|estao|e)|morada|endereco|como chegar",
    },
    QuestionKind.CONTACT: {
        "en": r"phone number (?:of|for) (?:the|your)|call you|your (?:phone|number|email)"
        r"|speak to (?:a|someone)|talk to (?:a|someone|a human|a person)",
        "es": r"vuestro telefono|su telefono|hablar con (?:alguien|una persona)",
        "de": r"ihre telefonnummer|mit (?:jemandem|einem menschen) sprechen",
        "fr": r"votre (?:numero|telephone)|parler a (?:quelqu'un|une personne)",
        "pt": r"vosso (?:numero|telefone)|falar com (?:alguem|uma pessoa)",
    },
    QuestionKind.SERVICES: {
        "en": r"what (?:services|treatments|do you (?:do|offer))|which services|services do you"
        r"|do (?:you|u|ya|y'all)(?: guys| all)? (?:do|offer|provide)|does (?:he|she|they|\w+) (?:do|offer)"
        r"|do you have (?:any )?(?:services|treatments)",
        "es": r"que servicios|(?:haceis|hacen|ofreceis|ofrecen)\b",
        "de": r"welche (?:leistungen|behandlungen|services)|(?:machen|bieten) sie\b",
        "fr": r"quels services|(?:faites|proposez) vous|vous (?:faites|proposez)",
        "pt": r"que servicos|(?:fazem|oferecem)\b",
    },
}
_COMPILED = {
    kind: {lang: re.compile(r"(?<![\w'])(?:" + p + r")(?![\w'])") for lang, p in table.items()}
    for kind, table in _PATTERNS.items()
}
_ASKS = re.compile(
    r"\?|^(?:what|when|where|how|which|do|does|are|is|can|que|cuando|donde|como|cual|wann|wo|wie"
    r"|was|welche|haben|sind|quand|ou|comment|quel|quelle|est ce|quando|onde|qual|quanto)\b"
)


def detect_question(text: str, languages: Sequence[str] = ("en",)) -> QuestionKind | None:
    """The kind of question the message asks, or None when it asks none of these.

    A message must read as a question (a "?" or a question word first); the first kind that fits, in the
    order above, wins: "how long is a massage?" is about duration, not about what is offered."""
    folded = " ".join(fold(text[:500]).replace("’", "'").replace("-", " ").split())
    if not folded or not _ASKS.search(folded):
        return None
    langs = normalize_languages([*languages, "en"])
    for kind, patterns in _COMPILED.items():
        if any(patterns[lang].search(folded) for lang in langs if lang in patterns):
            return kind
    return None
