"""Money is integer rupiah: IDR has no minor unit in Midtrans, and an int cannot round."""

from decimal import Decimal, InvalidOperation

Rupiah = int
SUPPORTED_CURRENCIES = frozenset({"IDR"})


class NotWholeRupiah(ValueError):
    pass


def to_rupiah(value: object) -> Rupiah:
    """An integral amount as int; refuses fractions, booleans, negatives and non-numbers."""
    if isinstance(value, bool):
        raise NotWholeRupiah("an amount is a number of rupiah, not a boolean")
    if isinstance(value, int):
        amount = value
    else:
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise NotWholeRupiah(f"{value!r} is not a number") from exc
        if not number.is_finite() or number != number.to_integral_value():
            raise NotWholeRupiah(f"{value!r} is not a whole number of rupiah")
        amount = int(number)
    if amount < 0:
        raise NotWholeRupiah("an amount cannot be negative")
    return amount
