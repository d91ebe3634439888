"""The ledger values whose ``__init__`` is written out (for mypyc) take the generated signature.

Posting builds entries, status changes and worklist items per claim line; compiled, a generated
dataclass ``__init__`` would stay interpreted. See tests/x12/test_inits.py for the check.
"""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from rehabill.ledger import entries
from tests.inits import check_signature
from tests.x12.test_inits import COMPILED

WRITTEN_OUT = (entries.PostingSource, entries.Entry, entries.SuspenseItem, entries.WorklistItem,
               entries.StatusChange, entries.PostingResult, entries.ClaimBalance)


@pytest.mark.skipif(COMPILED, reason="a compiled __init__ has no Python source; same source")
@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_init__is_the_signature_the_dataclass_would_generate(cls: type) -> None:
    check_signature(cls)


def test_pickle__an_entry_comes_back_equal() -> None:
    source = entries.PostingSource("era.835", "MEDICARE", "TRACE1", 14)
    entry = entries.Entry("V-1", 1, entries.EntryKind.PAYMENT, Decimal("-50.00"), source,
                          remarks=("N130",))
    back = pickle.loads(pickle.dumps(entry))
    assert back == entry
    assert type(back.source) is entries.PostingSource
