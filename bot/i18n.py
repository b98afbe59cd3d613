# ruff: noqa: E501  (catalog lines are sentences; wrapping them hurts translators more than it helps)
"""Every text the bot says, keyed by language. English is complete; other languages fall back to it
key by key, so a missing translation shows English rather than failing."""

from __future__ import annotations

from typing import Any

__all__ = ["LANGUAGES", "supported", "t"]

_EN: dict[str, str] = {
    "greeting": "Hi! I'm the booking assistant for {business}.",
    "ask_tenant": "Hi! Which business would you like to book with? Send its name or booking link.",
    "unknown_tenant": "I couldn't find a business called “{text}”. Please check the name or send its booking link.",
    "ask_service": "What would you like to book?",
    "no_services": "{business} has nothing open for online booking right now. Please contact them directly.",
    "ask_practitioner": "Who would you like to see for {service}?",
    "any_practitioner": "Anyone available",
    "ask_when": "When would you like to come for {service}? For example “tomorrow at 3pm” or “Friday morning”.",
    "ask_when_move": "When would you like to move it to? For example “tomorrow at 3pm” or “next week”.",
    "not_understood_when": "Sorry, I didn't catch a day or time. Try “tomorrow at 3pm” or “Friday morning”.",
    "offer": "Open times for {service}:",
    "offer_on": "Open times for {service} on {day}:",
    "offer_nearest": "{time} isn't open. The nearest open times:",
    "offer_earlier": "Earlier open times:",
    "offer_later": "Later open times:",
    "no_earlier": "There's nothing earlier. These are still open:",
    "no_later": "There's nothing later in the next weeks. These are still open:",
    "nothing_on": "Nothing is open on {days}. The nearest days with openings:",
    "nothing_at_all": "I couldn't find any open times in the next weeks. Send another day to try.",
    "day_past": "That day has already passed. Which day from today on would you like?",
    "day_beyond": "I can only book up to {day}. Which day before then would you like?",
    "earlier": "Earlier",
    "later": "Later",
    "another_day": "Another day",
    "ask_day": "Which day would you like instead?",
    "ask_name": "What name should I put the booking under?",
    "use_name": "Use {name}",
    "bad_name": "Please send just your name, e.g. “Pat Patient”.",
    "ask_contact": "What's the best email or phone number to reach you?",
    "bad_contact": "That doesn't look like an email address or a phone number. Please try again, e.g. pat@example.com.",
    "confirm": "Ready to book:\n{service} ({duration})\n{when}\nWith: {practitioner}\nName: {name}\nContact: {contact}",
    "confirm_move": "Move your {service} from {old} to {when}? Please pick an option.",
    "book_it": "Book it",
    "move_it_yes": "Yes, move it",
    "change_time": "Change time",
    "change_details": "Change my details",
    "start_over": "Start over",
    "anyone": "anyone available",
    "booked": "You're booked! {service} on {when} with {practitioner}. Reference: {reference}.",
    "moved": "Done: your {service} is now on {when}.",
    "already_booked": "You're already booked: {service} on {when}. Say “my bookings” to see or change it.",
    "after_booking": "You can book another appointment, or say “my bookings” to see yours.",
    "slot_taken": "Sorry, that time was just taken.",
    "slot_not_open": "Sorry, that time is no longer open. Here's a fresh list.",
    "service_gone": "Sorry, that service is no longer available.",
    "details_refused": "The booking system didn't accept those details. What's the best email or phone number to reach you?",
    "unavailable": "Sorry, I can't reach the booking system right now. Nothing is lost: say “try again” in a moment.",
    "went_wrong": "Sorry, something went wrong on our side. Please try again.",
    "expired": "That offer has expired.",
    "not_understood": "Sorry, I didn't understand that.",
    "help": (
        "I can book an appointment for you. Tell me what you'd like and when, e.g. “{example}”.\n"
        "You can also say: “my bookings”, “cancel my booking”, “move my booking”, “start over”, "
        "“my time zone is Berlin” or “language es”."
    ),
    "help_example": "a massage tomorrow at 3pm",
    "restarted": "Let's start over.",
    "timezone_set": "Got it: times are shown in {city} time now.",
    "timezone_ask": "Which time zone are you in? Say for example “my time zone is Berlin”.",
    "language_set": "OK, I'll speak English.",
    "no_bookings": "You have no upcoming bookings made in this chat.",
    "your_bookings": "Your upcoming bookings:",
    "booking_line": "{service}, {when}",
    "pick_booking": "Which booking?",
    "booking_actions": "{service} on {when}. What would you like to do?",
    "move_it": "Move it",
    "cancel_it": "Cancel it",
    "keep_it": "Keep it",
    "kept": "Great, it stays as it is.",
    "confirm_cancel": "Cancel your {service} on {when}? Please pick an option.",
    "cancel_yes": "Yes, cancel it",
    "cancelled": "Your {service} on {when} is cancelled.",
    "manage_elsewhere": "To change or cancel a booking, please contact {business} directly.",
    "booking_gone": "That booking can't be changed any more.",
    "ask_yes_no": "Please answer with one of the options.",
    "empty": "I only understand text messages. {question}",
    "reminder": "Reminder: your {service} is on {when}. What would you like to do?",
    "reminder_plain": "Reminder: your {service} is on {when}.",
    "notify_cancelled": "Your {service} on {when} at {business} has been cancelled.",
    "notify_moved": "{business} moved your {service} to {when}.",
    "staff_new_booking": "New booking: {service}, {when}, {customer}, via {source}.",
}

_ES: dict[str, str] = {
    "greeting": "¡Hola! Soy el asistente de reservas de {business}.",
    "ask_tenant": "¡Hola! ¿Con qué negocio quieres reservar? Envía su nombre o su enlace de reservas.",
    "unknown_tenant": "No encuentro ningún negocio llamado «{text}». Revisa el nombre o envía su enlace de reservas.",
    "ask_service": "¿Qué quieres reservar?",
    "no_services": "{business} no tiene nada disponible para reservar en línea ahora. Contacta directamente.",
    "ask_practitioner": "¿Con quién quieres tu {service}?",
    "any_practitioner": "Cualquiera disponible",
    "ask_when": "¿Cuándo quieres venir para {service}? Por ejemplo «mañana a las 3» o «el viernes por la mañana».",
    "ask_when_move": "¿A cuándo quieres cambiarla? Por ejemplo «mañana a las 3» o «la semana que viene».",
    "not_understood_when": "Perdona, no he entendido el día o la hora. Prueba «mañana a las 3» o «viernes por la mañana».",
    "offer": "Horas libres para {service}:",
    "offer_on": "Horas libres para {service} el {day}:",
    "offer_nearest": "{time} no está libre. Las horas libres más cercanas:",
    "offer_earlier": "Horas libres más temprano:",
    "offer_later": "Horas libres más tarde:",
    "no_earlier": "No hay nada más temprano. Estas siguen libres:",
    "no_later": "No hay nada más tarde en las próximas semanas. Estas siguen libres:",
    "nothing_on": "No hay nada libre el {days}. Los días más cercanos con huecos:",
    "nothing_at_all": "No encuentro horas libres en las próximas semanas. Envíame otro día para probar.",
    "day_past": "Ese día ya ha pasado. ¿Qué día a partir de hoy prefieres?",
    "day_beyond": "Solo puedo reservar hasta el {day}. ¿Qué día antes de esa fecha prefieres?",
    "earlier": "Más temprano",
    "later": "Más tarde",
    "another_day": "Otro día",
    "ask_day": "¿Qué otro día prefieres?",
    "ask_name": "¿A nombre de quién hago la reserva?",
    "use_name": "Usar {name}",
    "bad_name": "Envíame solo tu nombre, por ejemplo «Ana García».",
    "ask_contact": "¿Cuál es tu email o teléfono de contacto?",
    "bad_contact": "Eso no parece un email ni un teléfono. Inténtalo de nuevo, por ejemplo ana@ejemplo.com.",
    "confirm": "Todo listo para reservar:\n{service} ({duration})\n{when}\nCon: {practitioner}\nNombre: {name}\nContacto: {contact}",
    "confirm_move": "¿Cambiar tu {service} del {old} al {when}? Elige una opción.",
    "book_it": "Reservar",
    "move_it_yes": "Sí, cambiarla",
    "change_time": "Cambiar la hora",
    "change_details": "Cambiar mis datos",
    "start_over": "Empezar de nuevo",
    "anyone": "cualquiera disponible",
    "booked": "¡Reservado! {service} el {when} con {practitioner}. Referencia: {reference}.",
    "moved": "Hecho: tu {service} es ahora el {when}.",
    "already_booked": "Ya tienes la reserva: {service} el {when}. Di «mis reservas» para verla o cambiarla.",
    "after_booking": "Puedes reservar otra cita, o decir «mis reservas» para ver las tuyas.",
    "slot_taken": "Lo siento, esa hora se acaba de ocupar.",
    "slot_not_open": "Lo siento, esa hora ya no está libre. Aquí tienes la lista actualizada.",
    "service_gone": "Lo siento, ese servicio ya no está disponible.",
    "details_refused": "El sistema de reservas no aceptó esos datos. ¿Cuál es tu email o teléfono de contacto?",
    "unavailable": "Lo siento, ahora no puedo conectar con el sistema de reservas. No se pierde nada: di «reintentar» en un momento.",
    "went_wrong": "Lo siento, algo ha fallado por nuestra parte. Inténtalo de nuevo.",
    "expired": "Esa oferta ha caducado.",
    "not_understood": "Perdona, no lo he entendido.",
    "help": (
        "Puedo reservarte una cita. Dime qué quieres y cuándo, por ejemplo «{example}».\n"
        "También puedes decir: «mis reservas», «cancelar mi reserva», «cambiar mi reserva», "
        "«empezar de nuevo», «mi zona horaria es Madrid» o «language en»."
    ),
    "help_example": "un masaje mañana a las 3",
    "restarted": "Empecemos de nuevo.",
    "timezone_set": "Entendido: ahora te muestro las horas de {city}.",
    "timezone_ask": "¿En qué zona horaria estás? Di por ejemplo «mi zona horaria es Madrid».",
    "language_set": "De acuerdo, hablaré en español.",
    "no_bookings": "No tienes reservas próximas hechas en este chat.",
    "your_bookings": "Tus próximas reservas:",
    "booking_line": "{service}, {when}",
    "pick_booking": "¿Qué reserva?",
    "booking_actions": "{service} el {when}. ¿Qué quieres hacer?",
    "move_it": "Cambiarla",
    "cancel_it": "Cancelarla",
    "keep_it": "Mantenerla",
    "kept": "Perfecto, se queda como está.",
    "confirm_cancel": "¿Cancelar tu {service} del {when}? Elige una opción.",
    "cancel_yes": "Sí, cancelarla",
    "cancelled": "Tu {service} del {when} está cancelada.",
    "manage_elsewhere": "Para cambiar o cancelar una reserva, contacta directamente con {business}.",
    "booking_gone": "Esa reserva ya no se puede cambiar.",
    "ask_yes_no": "Responde con una de las opciones, por favor.",
    "empty": "Solo entiendo mensajes de texto. {question}",
    "reminder": "Recordatorio: tu {service} es el {when}. ¿Qué quieres hacer?",
    "reminder_plain": "Recordatorio: tu {service} es el {when}.",
    "notify_cancelled": "Tu {service} del {when} en {business} ha sido cancelada.",
    "notify_moved": "{business} ha cambiado tu {service} al {when}.",
    "staff_new_booking": "Nueva reserva: {service}, {when}, {customer}, vía {source}.",
}

LANGUAGES: dict[str, dict[str, str]] = {"en": _EN, "es": _ES}


def supported(language: str | None) -> str | None:
    """The catalog language for a platform code like ``es-419``, or None when we don't speak it."""
    if not language:
        return None
    code = language.lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def t(language: str, key: str, **values: Any) -> str:
    """The text for ``key`` in ``language`` (English when missing), formatted with ``values``."""
    template = LANGUAGES.get(language, _EN).get(key) or _EN[key]
    return template.format(**values) if values else template
