"""How money and times read to an Indonesian audience: Rp150.000 and WIB (Asia/Jakarta)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from notification_gateway.domain.model import Language

WIB = ZoneInfo("Asia/Jakarta")

_MONTHS: dict[Language, tuple[str, ...]] = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
_DAYS: dict[Language, tuple[str, ...]] = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def rupiah(amount: int) -> str:
    """150000 -> 'Rp150.000' (Indonesian thousands separator, no minor unit)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def wib(moment: datetime, language: Language) -> str:
    """A moment as a person in Jakarta reads it: 'Minggu, 20 Desember 2026 pukul 19.00 WIB'."""
    local = moment.astimezone(WIB)
    day = _DAYS[language][local.weekday()]
    month = _MONTHS[language][local.month - 1]
    if language == "id":
        return f"{day}, {local.day} {month} {local.year} pukul {local:%H.%M} WIB"
    return f"{day}, {local.day} {month} {local.year}, {local:%H:%M} WIB"


def say(language: Language, id_text: str, en_text: str) -> str:
    """The Indonesian or the English wording."""
    return id_text if language == "id" else en_text


def automatic_footer(language: Language) -> str:
    return say(
        language,
        "Pesan ini dikirim otomatis; mohon tidak membalas e-mail ini.",
        "This message was sent automatically; please do not reply.",
    )
