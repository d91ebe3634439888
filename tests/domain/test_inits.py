"""Values whose ``__init__`` is written out (for mypyc) take exactly the generated signature.

The dataclass decorator keeps an ``__init__`` a class defines; a few hot values define theirs so
that mypyc compiles it. ``tests/inits.py`` holds each one to what ``@dataclass`` would have
generated: the same parameters in field order, the same defaults (``None`` standing for a
default factory), and every field set from its parameter.
"""

from __future__ import annotations

import inspect

import pytest

from rehabill.coding.units import CodeMinutes
from rehabill.domain import Claim, ClaimLine, Finding, Location, Visit
from rehabill.rules import RuleContext, ScrubResult
from tests.inits import check_signature

WRITTEN_OUT = (ClaimLine, Claim, Location, Finding, ScrubResult, RuleContext, CodeMinutes,
               Visit)
COMPILED = not inspect.isfunction(Location.__init__)


@pytest.mark.skipif(COMPILED, reason="a compiled __init__ has no Python signature; same source")
@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_init__is_the_signature_the_dataclass_would_generate(cls: type) -> None:
    check_signature(cls)
