"""Receipt arithmetic on plain values: tax-inclusive PBJT, the fee and its PPN, numbers, years."""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit.formatting import preferred_language, rupiah
from ticket_service.domain.receipts import (
    ReceiptKind,
    TaxRates,
    receipt_label,
    tax_lines,
    wib_year,
)

JAKARTA = TaxRates(pbjt=Decimal(10), platform_fee=Decimal(5), ppn=Decimal(11))


def test_pbjt_is_inside_the_price_and_the_fee_carries_ppn_on_top() -> None:
    lines = tax_lines(150_000, JAKARTA)
    assert (lines.pbjt, lines.pbjt_base) == (13_636, 136_364)  # 150,000 * 10 / 110
    assert (lines.platform_fee, lines.ppn) == (7_500, 825)
    assert lines.host_proceeds == 150_000 - 7_500 - 825


def test_amounts_round_half_up_to_whole_rupiah() -> None:
    # 21 * 10 / 110 = 1.909 -> 2; 10 * 5 / 100 = 0.5 -> 1.
    assert tax_lines(21, JAKARTA).pbjt == 2
    assert tax_lines(10, JAKARTA).platform_fee == 1
    assert tax_lines(0, JAKARTA).pbjt == 0


def test_no_pbjt_when_the_host_sets_zero() -> None:
    assert tax_lines(100_000, TaxRates(Decimal(0), Decimal(5), Decimal(11))).pbjt == 0


def test_numbers_name_the_kind_and_the_year() -> None:
    assert receipt_label(ReceiptKind.RECEIPT, 2026, 42) == "KW/2026/000042"
    assert receipt_label(ReceiptKind.CREDIT_NOTE, 2027, 1) == "NK/2027/000001"


def test_the_year_is_jakartas() -> None:
    # 31 December 18:00 UTC is already 1 January in WIB (UTC+7).
    assert wib_year(datetime(2026, 12, 31, 18, tzinfo=UTC)) == 2027
    assert wib_year(datetime(2026, 12, 31, 16, tzinfo=UTC)) == 2026


def test_language_from_accept_language_defaults_to_indonesian() -> None:
    assert preferred_language(None) == "id"
    assert preferred_language("en-US,en;q=0.9") == "en"
    assert preferred_language("fr, en;q=0.5, id;q=0.8") == "id"
    assert preferred_language("de, en;q=0") == "id"
    assert rupiah(1_250_000) == "Rp1.250.000"
