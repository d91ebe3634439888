"""books: the claims of a 999's transaction set, picked from one read of the batch."""

from __future__ import annotations

import pytest

from rehabill.store.books import claims_of_set

ROWS = [(1, "0001", "V-1", "batched"), (2, "0001", "V-2", "batched"),
        (3, "0002", "V-3", "accepted"), (4, "2", "V-4", "batched")]


@pytest.mark.parametrize(("wanted", "ids"), [
    ("0001", [1, 2]), ("1", [1, 2]), ("0002", [3, 4]), ("  ", [1, 2, 3, 4]), ("", [1, 2, 3, 4]),
    ("0003", []), ("0000", []),
])
def test_claims_of_set__by_st02_without_leading_zeros(wanted: str, ids: list[int]) -> None:
    assert [cid for cid, _, _ in claims_of_set(ROWS, wanted)] == ids
    assert all((key, status) == (f"V-{cid}", dict((r[0], r[3]) for r in ROWS)[cid])
               for cid, key, status in claims_of_set(ROWS, wanted))
