"""How the e-mails read to an Indonesian audience: servicekit's Rp150.000 and WIB, with a weekday.

Money, dates and times follow the rules every service's documents share (servicekit.formatting);
what is only the e-mails' own (the weekday, the two wordings, the footer) is kept here.
"""

from datetime import datetime

from servicekit.formatting import WIB, rupiah, wib_time

from notification_gateway.domain.model import Language

__all__ = ["automatic_footer", "rupiah", "say", "wib"]

_DAYS: dict[Language, tuple[str, ...]] = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def wib(moment: datetime, language: Language) -> str:
    """A moment as a person in Jakarta reads it: 'Minggu, 20 Desember 2026 pukul 19.00 WIB'."""
    day = _DAYS[language][moment.astimezone(WIB).weekday()]
    return f"{day}, {wib_time(moment, language)}"


def say(language: Language, id_text: str, en_text: str) -> str:
    """The Indonesian or the English wording."""
    return id_text if language == "id" else en_text


def automatic_footer(language: Language) -> str:
    return say(
        language,
        "Pesan ini dikirim otomatis; mohon tidak membalas e-mail ini.",
        "This message was sent automatically; please do not reply.",
    )
