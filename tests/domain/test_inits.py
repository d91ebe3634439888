"""Values whose ``__init__`` is written out (for mypyc) take exactly the generated signature.

The dataclass decorator keeps an ``__init__`` a class defines; a few hot values define theirs so
that mypyc compiles it. This holds each one to what ``@dataclass`` would have generated: the
same parameters in field order, the same defaults (``None`` standing for a default factory),
and every field set from its parameter.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields

import pytest

from rehabill.coding.units import CodeMinutes
from rehabill.domain import Claim, ClaimLine, Finding, Location
from rehabill.rules import RuleContext, ScrubResult

WRITTEN_OUT = (ClaimLine, Claim, Location, Finding, ScrubResult, RuleContext, CodeMinutes)
COMPILED = not inspect.isfunction(Location.__init__)


@pytest.mark.skipif(COMPILED, reason="a compiled __init__ has no Python signature; same source")
@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_init__is_the_signature_the_dataclass_would_generate(cls: type) -> None:
    init = cls.__init__  # type: ignore[misc]
    assert init.__code__.co_filename == inspect.getsourcefile(cls), "not written out"
    parameters = list(inspect.signature(init).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in fields(cls) if f.init]
    for parameter, f in zip(parameters, fields(cls), strict=True):
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if f.default is not MISSING:
            assert parameter.default == f.default, f.name
        elif f.default_factory is not MISSING:
            assert parameter.default is None, f.name
        else:
            assert parameter.default is inspect.Parameter.empty, f.name


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_init__sets_every_field_from_its_parameter(cls: type) -> None:
    init = cls.__init__  # type: ignore[misc]
    if COMPILED:
        pytest.skip("a compiled __init__ has no Python source; same source")
    source = inspect.getsource(init)
    for f in fields(cls):
        assert f'object.__setattr__(self, "{f.name}", ' in source, f.name
