"""The read routes' helpers: ETag matching and keyset cursors."""

import uuid
from datetime import UTC, datetime

import pytest
from servicekit.errors import AppError
from ticket_service.entrypoints.http.caching import _matches
from ticket_service.entrypoints.http.pagination import decode_cursor, encode_cursor


def test_if_none_match_accepts_lists_weak_tags_and_star() -> None:
    assert _matches('"abc"', '"abc"')
    assert _matches('"x", W/"abc"', '"abc"')
    assert _matches("*", '"abc"')
    assert not _matches('"abd"', '"abc"')
    assert not _matches(None, '"abc"')


def test_a_cursor_round_trips() -> None:
    stamp, row_id = datetime(2026, 12, 1, 3, 4, 5, 678, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(stamp, row_id)) == (stamp, row_id)
    assert decode_cursor(None) is None


@pytest.mark.parametrize("junk", ["%%%", "bm90LWEtY3Vyc29y", "12-nothex", "1-" + "0" * 31])
def test_a_cursor_we_did_not_give_out_is_refused(junk: str) -> None:
    with pytest.raises(AppError) as refused:
        decode_cursor(junk)
    assert refused.value.code == "invalid_cursor"
