"""``ClaimFact`` writes out its ``__init__`` (for mypyc): the generated signature, see
tests/x12/test_inits.py. The store builds one per claim for every report."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import pytest

from rehabill.reports import ClaimFact
from tests.inits import check_signature
from tests.x12.test_inits import COMPILED


@pytest.mark.skipif(COMPILED, reason="a compiled __init__ has no Python source; same source")
def test_init__is_the_signature_the_dataclass_would_generate() -> None:
    check_signature(ClaimFact)


def test_pickle__a_fact_comes_back_equal() -> None:
    fact = ClaimFact("V-1", "MEDICARE", "Medicare", "P-1", "1467560003", date(2026, 3, 2),
                     Decimal("120.00"), codes=("97110",), paid=Decimal("80.00"))
    assert pickle.loads(pickle.dumps(fact)) == fact
