"""Checks for values whose ``__init__`` is written out for mypyc (tests/*/test_inits.py).

Compiled by mypyc, a dataclass's generated ``__init__`` stays interpreted, about 15 times
slower than one the class writes itself; the hot values write theirs out. These checks hold
each to what ``@dataclass`` would have generated: the same parameters in field order, the same
defaults (``None`` for a default factory), every field set from its parameter. They read the
source, so they run on the interpreted build only.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields


def check_signature(cls: type) -> None:
    """``cls.__init__`` is written out in ``cls``'s module with the generated signature."""
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
    check_sets_every_field(cls)


def check_sets_every_field(cls: type) -> None:
    """The written-out ``__init__`` sets every field of ``cls``."""
    source = inspect.getsource(cls.__init__)  # type: ignore[misc]
    for f in fields(cls):
        assert f'object.__setattr__(self, "{f.name}", ' in source, f.name
