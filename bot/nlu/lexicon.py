"""Date and time vocabulary per language, mapped to one canonical English-like token set.

Every language is translated word by word into the same canonical tokens (`wd4` = Friday, `mo3` =
March, `tomorrow`, `at`, `afternoon`...), so one set of rules in `dates` and `times` serves all of
them. Keys are folded (lowercase, no accents; see `text.fold`). A value may hold several canonical
tokens separated by spaces; `_` means "a word that is not about dates or times".

Weak forms (`wwd5` for "sat", `wmo5` for "may") are words that are also ordinary words; the rules
accept them only where the context makes them a date.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr", "pt")


def _numbers(words: str, start: int = 0) -> dict[str, str]:
    return {w: str(i) for i, w in enumerate(words.split(), start) if w != "-"}


def _ordinals(words: str, start: int = 1) -> dict[str, str]:
    return {w: f"{i}th" for i, w in enumerate(words.split(), start) if w != "-"}


def _weekdays(rows: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, row in enumerate(rows):
        for word in row.split():
            weak = word.endswith("?")
            out[word.rstrip("?")] = f"{'w' if weak else ''}wd{index}"
    return out


def _months(rows: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, row in enumerate(rows, 1):
        for word in row.split():
            weak = word.endswith("?")
            out[word.rstrip("?")] = f"{'w' if weak else ''}mo{index}"
    return out


_EN: dict[str, str] = {
    **_numbers(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
        " fifteen sixteen seventeen eighteen nineteen twenty"
    ),
    "thirty": "30", "forty": "40", "fourty": "40", "fifty": "50", "oh": "oh",
    **_ordinals(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
        " thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
    ),
    "thirtieth": "30th", "fith": "5th", "nineth": "9th", "twelth": "12th",
    **_weekdays([
        "monday mon mondays mo? monady",
        "tuesday tue tues tuesdays tuseday teusday",
        "wednesday wed? weds wednesdays wensday wendsday wednsday wedensday wedsday",
        "thursday thu thur thurs thursdays thrusday thursay",
        "friday fri fridays fryday firday",
        "saturday sat? saturdays satuday saterday",
        "sunday sun? sundays sundy",
    ]),
    **_months([
        "january jan",
        "february feb febuary febr",
        "march mar",
        "april apr",
        "may?",
        "june jun",
        "july jul",
        "august aug",
        "september sep sept",
        "october oct",
        "november nov",
        "december dec",
    ]),
    "today": "today", "tdy": "today", "2day": "today", "todays": "today", "tday": "today",
    "tonight": "tonight", "tonite": "tonight", "2nite": "tonight", "tonigh": "tonight",
    "tomorrow": "tomorrow", "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow",
    "tmrow": "tomorrow", "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow",
    "tomorrw": "tomorrow", "tomoro": "tomorrow", "tomorro": "tomorrow", "2morrow": "tomorrow",
    "2moro": "tomorrow", "2mrw": "tomorrow", "2morow": "tomorrow", "tomoz": "tomorrow",
    "tomrw": "tomorrow", "tmorrow": "tomorrow", "tomorrows": "tomorrow", "morrow": "tomorrow",
    "yesterday": "yesterday", "overmorrow": "dayafter",
    "now": "now", "next": "next", "nxt": "next", "nex": "next", "coming": "coming",
    "upcoming": "coming", "following": "following", "this": "this", "ths": "this",
    "last": "last", "previous": "last",
    "week": "week", "wk": "week", "weeks": "weeks", "wks": "weeks", "weekend": "weekend",
    "weekends": "weekend", "wknd": "weekend", "wkend": "weekend", "fortnight": "fortnight",
    "month": "month", "months": "months", "mth": "month", "day": "day", "days": "days",
    "year": "year", "hour": "hour", "hours": "hours", "hrs": "hours", "hr": "hour",
    "minute": "minutes", "minutes": "minutes", "mins": "minutes", "min": "minutes",
    "noon": "noon", "midday": "noon", "noonish": "noon ish", "midnight": "midnight",
    "lunch": "lunch", "lunchtime": "lunch",
    "morning": "morning", "mornings": "morning", "mornin": "morning", "morn": "morning",
    "afternoon": "afternoon", "afternoons": "afternoon", "arvo": "afternoon",
    "aftn": "afternoon", "evening": "evening", "evenings": "evening", "eve": "evening",
    "evng": "evening", "night": "night", "nite": "night",
    "am": "am", "pm": "pm", "oclock": "oclock",
    "half": "half", "quarter": "quarter", "past": "past", "to": "to", "till": "until",
    "til": "until", "until": "until", "untill": "until", "thru": "until", "through": "until",
    "at": "at", "on": "on", "in": "in", "of": "of", "the": "the", "from": "from",
    "between": "between", "and": "and", "or": "or", "by": "by", "before": "before",
    "after": "after", "around": "around", "about": "around", "approx": "around",
    "approximately": "around", "roughly": "around", "circa": "around", "ish": "ish",
    "early": "early", "earlier": "earlier", "late": "late", "later": "later",
    "a": "a", "an": "a", "any": "any", "anytime": "any time", "time": "time", "than": "than",
    "no": "no", "not": "not", "ago": "ago", "for": "for", "end": "end", "start": "start",
    "beginning": "start", "mid": "mid", "middle": "mid", "rest": "rest",
    "people": "unit", "persons": "unit", "person": "unit", "ppl": "unit", "tickets": "unit",
    "ticket": "unit", "guests": "unit", "guest": "unit", "seats": "unit", "adults": "unit",
    "kids": "unit", "children": "unit", "nights": "unit", "rooms": "unit", "room": "unit",
    "pax": "unit", "dollars": "unit", "bucks": "unit", "stars": "unit",
    "bedrooms": "unit", "bedroom": "unit", "bathrooms": "unit", "baths": "unit", "cars": "unit",
    "bags": "unit", "miles": "unit", "km": "unit", "percent": "unit",
    # nouns an ordinal or a number often qualifies: "3rd street", "1st flight", "at 5 main st"
    "street": "unit", "st": "unit", "avenue": "unit", "ave": "unit", "road": "unit",
    "rd": "unit", "floor": "unit", "flight": "unit", "place": "unit", "row": "unit",
    "grade": "unit", "birthday": "unit", "anniversary": "unit", "boulevard": "unit",
    "blvd": "unit", "lane": "unit", "drive": "unit", "suite": "unit", "instead": "instead",
}

_EN_PHRASES: dict[tuple[str, ...], str] = {
    ("day", "after", "tomorrow"): "dayafter",
    ("day", "after", "tmrw"): "dayafter",
    ("day", "after", "tmr"): "dayafter",
    ("from", "now"): "fromnow",
    ("no", "later", "than"): "before",
    ("not", "later", "than"): "before",
    ("later", "than"): "after",
    ("no", "earlier", "than"): "after",
    ("not", "earlier", "than"): "after",
    ("not", "before"): "after",
    ("earlier", "than"): "before",
    ("any", "time"): "any time",
    ("o", "clock"): "oclock",
    ("first", "thing"): "early morning",
    ("after", "work"): "afterwork",
    ("in", "the", "am"): "in morning",
    ("in", "the", "pm"): "in afternoon",
}

_ES: dict[str, str] = {
    **_numbers("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce"
               " quince dieciseis diecisiete dieciocho diecinueve veinte"),
    "una": "1", "un": "1", "treinta": "30", "veinticinco": "25", "cuarenta": "40",
    "cincuenta": "50", "primero": "1th", "1ro": "1th",
    **_weekdays(["lunes lun", "martes mar?", "miercoles mie mier", "jueves jue",
                 "viernes vie", "sabado sab", "domingo dom"]),
    **_months(["enero ene", "febrero feb", "marzo", "abril abr", "mayo may", "junio jun",
               "julio jul", "agosto ago", "septiembre setiembre sept", "octubre oct",
               "noviembre nov", "diciembre dic"]),
    "hoy": "today", "manana": "tomorrow", "mnn": "tomorrow", "ayer": "yesterday",
    "proximo": "next", "proxima": "next", "siguiente": "next", "este": "this", "esta": "this",
    "semana": "week", "semanas": "weeks", "mes": "month", "meses": "months", "dia": "day",
    "dias": "days", "hora": "hours", "horas": "hours", "hs": "oclock", "hrs": "oclock",
    "minutos": "minutes", "finde": "weekend",
    "mediodia": "noon", "medianoche": "midnight", "madrugada": "night", "tarde": "afternoon",
    "noche": "night", "manana's": "_",
    "media": "half", "cuarto": "quarter", "menos": "minus", "y": "and", "o": "or",
    "a": "at", "las": "at", "la": "the", "el": "the", "los": "the", "de": "of", "del": "of the",
    "en": "in", "desde": "from", "hasta": "until", "antes": "before", "despues": "after",
    "entre": "between", "sobre": "around", "hacia": "around", "eso": "around",
    "aproximadamente": "around", "temprano": "early", "luego": "later", "ahora": "now",
    "cualquier": "any", "personas": "unit", "entradas": "unit", "boletos": "unit",
    "que": "_", "para": "for", "por": "_", "pasado": "_",
}

_ES_PHRASES: dict[tuple[str, ...], str] = {
    ("pasado", "manana"): "dayafter",
    ("que", "viene"): "next",
    ("fin", "de", "semana"): "weekend",
    ("fines", "de", "semana"): "weekend",
    ("esta", "noche"): "tonight",
    ("por", "la", "manana"): "in morning",
    ("de", "la", "manana"): "in morning",
    ("en", "la", "manana"): "in morning",
    ("la", "manana"): "morning",
    ("esta", "manana"): "today morning",
    ("por", "la", "tarde"): "in afternoon",
    ("de", "la", "tarde"): "in afternoon",
    ("en", "la", "tarde"): "in afternoon",
    ("esta", "tarde"): "today afternoon",
    ("por", "la", "noche"): "in night",
    ("de", "la", "noche"): "in night",
    ("mas", "tarde"): "later",
    ("en", "punto"): "oclock",
    ("dentro", "de"): "in",
    ("a", "eso", "de"): "around",
    ("antes", "de"): "before",
    ("despues", "de"): "after",
    ("a", "partir", "de"): "after",
    ("a", "las"): "at",
    ("a", "la"): "at",
    ("y", "las"): "and at",
    ("y", "la"): "and at",
    ("cualquier", "hora"): "any time",
}

_DE: dict[str, str] = {
    **_numbers("null eins zwei drei vier funf sechs sieben acht neun zehn elf zwolf dreizehn"
               " vierzehn funfzehn sechzehn siebzehn achtzehn neunzehn zwanzig"),
    "ein": "1", "eine": "1", "dreissig": "30", "vierzig": "40", "funfzig": "50",
    **_ordinals("ersten zweiten dritten vierten funften sechsten siebten achten neunten zehnten"),
    "erste": "1th", "erster": "1th",
    **_weekdays(["montag mo? montags", "dienstag di? dienstags", "mittwoch mi? mittwochs",
                 "donnerstag do? donnerstags", "freitag fr? freitags",
                 "samstag sa? sonnabend samstags", "sonntag so? sonntags"]),
    **_months(["januar janner jan", "februar feb", "marz mrz", "april apr", "mai",
               "juni jun", "juli jul", "august aug", "september sep sept", "oktober okt",
               "november nov", "dezember dez"]),
    "heute": "today", "morgen": "tomorrow", "ubermorgen": "dayafter", "gestern": "yesterday",
    "nachsten": "next", "nachste": "next", "nachster": "next", "nachstes": "next",
    "kommenden": "coming", "kommende": "coming", "kommender": "coming", "diese": "this",
    "diesen": "this", "dieser": "this", "dieses": "this", "woche": "week", "wochen": "weeks",
    "wochenende": "weekend", "monat": "month", "monate": "months", "monaten": "months",
    "tag": "day", "tage": "days", "tagen": "days", "stunde": "hour", "stunden": "hours",
    "uhr": "oclock", "mittag": "noon", "mittags": "noon", "mitternacht": "midnight",
    "morgens": "morning", "vormittag": "morning", "vormittags": "morning", "fruh": "morning",
    "nachmittag": "afternoon", "nachmittags": "afternoon", "abend": "evening",
    "abends": "evening", "nacht": "night", "nachts": "night",
    "halb": "dehalf", "viertel": "quarter", "dreiviertel": "dequarter3", "nach": "after",
    "vor": "before", "bis": "until", "ab": "after", "zwischen": "between", "und": "and",
    "oder": "or", "gegen": "around", "etwa": "around", "ungefahr": "around", "um": "at",
    "am": "on", "an": "on", "im": "in", "in": "in", "der": "the", "die": "the", "das": "the",
    "den": "the", "dem": "the", "zum": "on the", "vom": "from the", "von": "from",
    "spater": "later", "fruher": "earlier", "jetzt": "now", "irgendwann": "any time",
    "personen": "unit", "karten": "unit", "tickets": "unit", "zu": "_", "so": "_",
}

_DE_PHRASES: dict[tuple[str, ...], str] = {
    ("heute", "abend"): "tonight",
    ("heute", "nacht"): "tonight",
    ("heute", "morgen"): "today morning",
    ("heute", "fruh"): "today morning",
    ("morgen", "fruh"): "tomorrow morning",
    ("am", "morgen"): "in morning",
    ("am", "vormittag"): "in morning",
    ("am", "nachmittag"): "in afternoon",
    ("am", "abend"): "in evening",
    ("in", "der", "nacht"): "in night",
    ("in", "der", "fruh"): "in morning",
    ("in", "einer", "woche"): "in 1 week",
    ("in", "einem", "monat"): "in 1 month",
    ("in", "zwei", "wochen"): "in 2 weeks",
    ("nicht", "vor"): "after",
    ("zu", "jeder", "zeit"): "any time",
}

_FR: dict[str, str] = {
    **_numbers("zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze"
               " quinze seize dix-sept dix-huit dix-neuf vingt"),
    "une": "1", "trente": "30", "quarante": "40", "cinquante": "50",
    "premier": "1th", "1er": "1th", "premiere": "1th",
    **_weekdays(["lundi lun", "mardi mar?", "mercredi mer?", "jeudi jeu", "vendredi ven",
                 "samedi sam", "dimanche dim"]),
    **_months(["janvier janv", "fevrier fevr fev", "mars", "avril avr", "mai", "juin",
               "juillet juil", "aout", "septembre sept", "octobre oct", "novembre nov",
               "decembre dec"]),
    "aujourd'hui": "today", "aujourdhui": "today", "auj": "today", "demain": "tomorrow",
    "hier": "yesterday", "prochain": "next", "prochaine": "next", "suivant": "next",
    "ce": "this", "cette": "this", "cet": "this", "semaine": "week", "semaines": "weeks",
    "mois": "month", "jour": "day", "jours": "days", "heure": "oclock", "heures": "oclock",
    "week-end": "weekend", "weekend": "weekend", "we": "weekend",
    "midi": "noon", "minuit": "midnight", "matin": "morning", "matinee": "morning",
    "soir": "evening", "soiree": "evening", "nuit": "night", "tard": "later",
    "demie": "half", "demi": "half", "quart": "quarter", "moins": "minus", "et": "and",
    "ou": "or", "a": "at", "le": "the", "la": "the", "les": "the", "l'": "the",
    "du": "of the", "de": "of", "d'": "of", "des": "of the", "dans": "in", "en": "in",
    "depuis": "from", "jusqu'a": "until", "jusqu": "until", "avant": "before",
    "apres": "after", "entre": "between", "vers": "around", "environ": "around",
    "maintenant": "now", "tot": "early", "personnes": "unit", "billets": "unit",
    "mon": "_", "pour": "for", "sur": "_",
}

_FR_PHRASES: dict[tuple[str, ...], str] = {
    ("apres", "demain"): "dayafter",
    ("apres", "midi"): "afternoon",
    ("ce", "soir"): "tonight",
    ("cette", "nuit"): "tonight",
    ("ce", "matin"): "today morning",
    ("cet", "apres", "midi"): "today afternoon",
    ("du", "matin"): "in morning",
    ("du", "soir"): "in evening",
    ("de", "l'apres", "midi"): "in afternoon",
    ("l'apres", "midi"): "afternoon",
    ("moins", "le", "quart"): "minus quarter",
    ("et", "demie"): "and half",
    ("et", "quart"): "and quarter",
    ("a", "partir", "de"): "after",
    ("jusqu'a",): "until",
    ("n'importe", "quand"): "any time",
    ("week", "end"): "weekend",
    ("dix", "sept"): "17",
    ("dix", "huit"): "18",
    ("dix", "neuf"): "19",
}

_PT: dict[str, str] = {
    **_numbers("zero um dois tres quatro cinco seis sete oito nove dez onze doze treze catorze"
               " quinze dezesseis dezessete dezoito dezenove vinte"),
    "uma": "1", "duas": "2", "quatorze": "14", "dezasseis": "16", "dezassete": "17",
    "dezanove": "19", "trinta": "30", "quarenta": "40", "cinquenta": "50",
    "primeiro": "1th",
    **_weekdays(["segunda seg segunda-feira", "terca ter", "quarta qua", "quinta qui",
                 "sexta sex", "sabado sab", "domingo dom"]),
    **_months(["janeiro jan", "fevereiro fev", "marco mar", "abril abr", "maio mai",
               "junho jun", "julho jul", "agosto ago", "setembro set", "outubro out",
               "novembro nov", "dezembro dez"]),
    "hoje": "today", "amanha": "tomorrow", "ontem": "yesterday", "proximo": "next",
    "proxima": "next", "seguinte": "next", "este": "this", "esta": "this", "neste": "this",
    "nesta": "this", "semana": "week", "semanas": "weeks", "mes": "month", "meses": "months",
    "dia": "day", "dias": "days", "hora": "hours", "horas": "oclock", "h": "oclock",
    "hs": "oclock", "meio-dia": "noon", "meiodia": "noon", "meia-noite": "midnight",
    "manha": "morning", "tarde": "afternoon", "noite": "night", "madrugada": "night",
    "meia": "half", "quarto": "quarter", "menos": "minus", "e": "and", "ou": "or",
    "as": "at", "a": "at", "ao": "at", "o": "the", "os": "the", "de": "of", "do": "of the",
    "da": "of the", "das": "of the", "dos": "of the", "no": "on the", "na": "on the",
    "em": "in", "desde": "from", "ate": "until", "antes": "before", "depois": "after",
    "entre": "between", "perto": "around", "cerca": "around", "mais": "_", "cedo": "early",
    "agora": "now", "qualquer": "any", "pessoas": "unit", "bilhetes": "unit", "para": "for",
}

_PT_PHRASES: dict[tuple[str, ...], str] = {
    ("depois", "de", "amanha"): "dayafter",
    ("que", "vem"): "next",
    ("fim", "de", "semana"): "weekend",
    ("hoje", "a", "noite"): "tonight",
    ("hoje", "de", "noite"): "tonight",
    ("esta", "noite"): "tonight",
    ("de", "manha"): "in morning",
    ("pela", "manha"): "in morning",
    ("da", "manha"): "in morning",
    ("a", "tarde"): "in afternoon",
    ("da", "tarde"): "in afternoon",
    ("pela", "tarde"): "in afternoon",
    ("de", "tarde"): "in afternoon",
    ("a", "noite"): "in night",
    ("da", "noite"): "in night",
    ("de", "noite"): "in night",
    ("meio", "dia"): "noon",
    ("meia", "noite"): "midnight",
    ("mais", "tarde"): "later",
    ("daqui", "a"): "in",
    ("dentro", "de"): "in",
    ("a", "partir", "das"): "after",
    ("a", "partir", "de"): "after",
    ("depois", "das"): "after",
    ("depois", "do"): "after",
    ("antes", "das"): "before",
    ("antes", "do"): "before",
    ("perto", "das"): "around",
    ("por", "volta", "das"): "around",
    ("cerca", "das"): "around",
    ("segunda", "feira"): "wd0",
    ("terca", "feira"): "wd1",
    ("quarta", "feira"): "wd2",
    ("quinta", "feira"): "wd3",
    ("sexta", "feira"): "wd4",
    ("qualquer", "hora"): "any time",
    ("e", "meia"): "and half",
    ("e", "quinze"): "and 15",
    ("em", "ponto"): "oclock",
}

WORDS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": MappingProxyType(_EN), "es": MappingProxyType(_ES), "de": MappingProxyType(_DE),
    "fr": MappingProxyType(_FR), "pt": MappingProxyType(_PT),
})

PHRASES: Mapping[str, Mapping[tuple[str, ...], str]] = MappingProxyType({
    "en": MappingProxyType(_EN_PHRASES), "es": MappingProxyType(_ES_PHRASES),
    "de": MappingProxyType(_DE_PHRASES), "fr": MappingProxyType(_FR_PHRASES),
    "pt": MappingProxyType(_PT_PHRASES),
})

# Longest phrase per language, so the tokenizer knows how far to look ahead.
MAX_PHRASE: Mapping[str, int] = MappingProxyType(
    {lang: max((len(k) for k in table), default=1) for lang, table in PHRASES.items()}
)

# Words long enough to be recognised through a typo (edit distance), per language. Short words
# and words that are also common English words ("august" vs "augusta") are left out on purpose.
FUZZY_TARGETS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
           "tomorrow", "january", "february", "september", "october", "november", "december",
           "afternoon", "morning", "evening", "tonight", "weekend"),
    "es": ("miercoles", "viernes", "domingo", "sabado", "septiembre", "noviembre", "diciembre",
           "febrero", "manana"),
    "de": ("donnerstag", "mittwoch", "dienstag", "samstag", "sonntag", "freitag", "ubermorgen",
           "nachmittag", "wochenende"),
    "fr": ("mercredi", "vendredi", "dimanche", "demain", "aujourd'hui", "septembre", "novembre",
           "decembre"),
    "pt": ("amanha", "domingo", "sabado", "setembro", "novembro", "dezembro"),
})


def normalize_languages(languages: object) -> tuple[str, ...]:
    """The supported languages among `languages`, in order; English when none is supported."""
    out: list[str] = []
    if isinstance(languages, str):
        languages = (languages,)
    if isinstance(languages, (list, tuple)):
        for lang in languages:
            if isinstance(lang, str):
                code = lang.strip().lower().replace("_", "-").split("-")[0]
                if code in WORDS and code not in out:
                    out.append(code)
    return tuple(out) or ("en",)
