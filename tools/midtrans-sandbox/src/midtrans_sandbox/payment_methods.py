"""Snap payment channels (the names in enabled_payments) and the fields each payment type adds."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

# E-wallets and pay-later that leave Snap for the provider's app or page and come back.
APP_PAYMENT_TYPES = frozenset({"dana", "ovo", "kredivo", "akulaku"})
ASYNC_PAYMENT_TYPES = (
    frozenset({"bank_transfer", "echannel", "gopay", "qris", "shopeepay", "cstore"})
    | APP_PAYMENT_TYPES
)
PAYMENT_TYPES = ASYNC_PAYMENT_TYPES | {"credit_card"}

VA_BANKS = ("bca", "bni", "bri", "permata", "cimb")
STORES = ("indomaret", "alfamart")

# Every name Midtrans accepts in enabled_payments (docs' request-body page).
KNOWN_CHANNELS = frozenset(
    {
        "credit_card",
        "gopay",
        "shopeepay",
        "other_qris",
        "bca_va",
        "bni_va",
        "bri_va",
        "permata_va",
        "cimb_va",
        "danamon_va",
        "bsi_va",
        "other_va",
        "echannel",
        "indomaret",
        "alfamart",
        "akulaku",
        "kredivo",
        "uob_ezpay",
        "bca_klikbca",
        "bca_klikpay",
        "bri_epay",
        "cimb_clicks",
        "danamon_online",
        "dana",
        # Older channel names that Midtrans still takes (the official client's Snap test sends
        # them and passes against Midtrans' sandbox); the sandbox cannot play them.
        "mandiri_clickpay",
        "indosat_dompetku",
        "mandiri_ecash",
        "kioson",
        "gci",
        "telkomsel_cash",
        "xl_tunai",
    }
)

# Where no Snap `expiry` is given (docs.midtrans.com "Code 2xx" / BCA VA pages).
DEFAULT_EXPIRY = {
    "bank_transfer": timedelta(hours=24),
    "echannel": timedelta(hours=24),
    "cstore": timedelta(hours=24),
    "gopay": timedelta(minutes=15),
    "qris": timedelta(minutes=15),
    "shopeepay": timedelta(minutes=15),
    "credit_card": timedelta(minutes=15),
    # Not documented for these; chosen like the other e-wallets.
    "dana": timedelta(minutes=15),
    "ovo": timedelta(minutes=15),
    "kredivo": timedelta(minutes=15),
    "akulaku": timedelta(minutes=15),
}


@dataclass(frozen=True, slots=True)
class Method:
    """A chosen way to pay: the payment_type plus the bank or store where one applies."""

    payment_type: str
    bank: str | None = None
    store: str | None = None

    @property
    def channel(self) -> str:
        """The enabled_payments name this method falls under."""
        if self.payment_type == "bank_transfer":
            return f"{self.bank}_va"
        if self.payment_type == "cstore":
            return self.store or "indomaret"
        if self.payment_type == "qris":
            return "other_qris"
        return self.payment_type

    @property
    def label(self) -> str:
        labels = {
            "credit_card": "Credit/debit card",
            "echannel": "Mandiri Bill",
            "gopay": "GoPay",
            "qris": "QRIS",
            "shopeepay": "ShopeePay",
            "dana": "DANA",
            "ovo": "OVO",
            "kredivo": "Kredivo",
            "akulaku": "Akulaku PayLater",
        }
        if self.payment_type == "bank_transfer":
            return f"{(self.bank or '').upper()} Virtual Account"
        if self.payment_type == "cstore":
            return (self.store or "").capitalize()
        return labels[self.payment_type]


class UnknownMethod(ValueError):
    pass


def method_for(payment_type: str, *, bank: str | None = None, store: str | None = None) -> Method:
    """Resolve a payment_type or an enabled_payments channel name to a Method."""
    channel_forms = {
        **{f"{b}_va": Method("bank_transfer", bank=b) for b in VA_BANKS},
        "other_qris": Method("qris"),
        **{s: Method("cstore", store=s) for s in STORES},
    }
    if payment_type in channel_forms:
        return channel_forms[payment_type]
    if payment_type not in PAYMENT_TYPES:
        raise UnknownMethod(f"unsupported payment_type {payment_type!r}")
    if payment_type == "bank_transfer":
        bank = bank or "bca"
        if bank not in VA_BANKS:
            raise UnknownMethod(f"unsupported bank {bank!r}")
        return Method(payment_type, bank=bank)
    if payment_type == "cstore":
        store = store or "indomaret"
        if store not in STORES:
            raise UnknownMethod(f"unsupported store {store!r}")
        return Method(payment_type, store=store)
    return Method(payment_type)


def methods_for_channels(enabled_payments: list[str] | None) -> list[Method]:
    """The methods the sandbox can play for an order, in the order Snap lists them."""
    everything = [
        Method("credit_card"),
        Method("gopay"),
        Method("shopeepay"),
        Method("qris"),
        *(Method("bank_transfer", bank=b) for b in VA_BANKS),
        Method("echannel"),
        *(Method("cstore", store=s) for s in STORES),
        Method("dana"),
        Method("kredivo"),
        Method("akulaku"),
        # OVO is no Snap enabled_payments name: offered only when the order does not restrict.
        Method("ovo"),
    ]
    if not enabled_payments:
        return everything
    wanted = set(enabled_payments)
    if "other_va" in wanted:
        wanted.add("permata_va")
    return [m for m in everything if m.channel in wanted]


def is_enabled(method: Method, enabled_payments: list[str] | None) -> bool:
    return method in methods_for_channels(enabled_payments)


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def initial_details(method: Method) -> dict[str, object]:
    """Fields a payment type adds to notifications and status bodies, fixed at creation."""
    kind = method.payment_type
    if kind == "bank_transfer" and method.bank == "permata":
        return {"permata_va_number": _digits(10)}
    if kind == "bank_transfer":
        lengths = {"bca": 11, "bni": 16, "bri": 16, "cimb": 16}
        number = _digits(lengths.get(method.bank or "", 16))
        return {"va_numbers": [{"va_number": number, "bank": method.bank}]}
    if kind == "echannel":
        return {"biller_code": "70012", "bill_key": _digits(12)}
    if kind == "cstore":
        return {"store": method.store, "payment_code": _digits(14)}
    if kind == "qris":
        return {"acquirer": "gopay"}
    if kind == "shopeepay":
        return {"shopeepay_reference_number": "", "reference_id": _digits(16)}
    if kind == "credit_card":
        return {
            "masked_card": "48111111-1114",
            "card_type": "credit",
            "bank": "bni",
            "eci": "05",
        }
    return {}
