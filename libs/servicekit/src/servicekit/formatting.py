"""How money and times read to an Indonesian audience: Rp150.000 and WIB (Asia/Jakarta).

The rules for every document a service renders; notification-gateway's e-mails build on them.
"""

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["id", "en"]
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


def rupiah(amount: int) -> str:
    """150000 -> 'Rp150.000' (Indonesian thousands separator, no minor unit)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def wib_date(moment: datetime, language: Language) -> str:
    """'20 Desember 2026'."""
    local = moment.astimezone(WIB)
    return f"{local.day} {_MONTHS[language][local.month - 1]} {local.year}"


def wib_time(moment: datetime, language: Language) -> str:
    """'20 Desember 2026 pukul 19.00 WIB' / '20 December 2026, 19:00 WIB'."""
    local = moment.astimezone(WIB)
    if language == "id":
        return f"{wib_date(moment, language)} pukul {local:%H.%M} WIB"
    return f"{wib_date(moment, language)}, {local:%H:%M} WIB"


def preferred_language(accept_language: str | None, default: Language = "id") -> Language:
    """The first of id/en in an Accept-Language header (q-values honoured), else `default`."""
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in ("id", "en") and quality > 0:
            ranked.append((-quality, position, "id" if primary == "id" else "en"))
    return min(ranked)[2] if ranked else default
