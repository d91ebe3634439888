"""Pickling frozen values when the pure core is compiled with mypyc.

A mypyc-compiled class unpickles by setting each attribute through ``setattr``, which a frozen
dataclass refuses (``FrozenInstanceError``). ``pickle_by_fields`` registers, for every frozen
dataclass that mypyc compiled in the named packages, a ``copyreg`` reducer that rebuilds the
value through its constructor from its fields in order: the same value, as the interpreted
class would give. Interpreted classes are left to pickle's default. The values it registers
have every field in ``__init__`` and no ``__post_init__`` that changes them (a test pickles
each one, compiled or not).
"""

from __future__ import annotations

import copyreg
import sys
from dataclasses import fields, is_dataclass
from typing import Any


def _by_fields(value: Any) -> tuple[type, tuple[object, ...]]:
    return type(value), tuple(getattr(value, f.name) for f in fields(value))


def compiled_frozen_values(*packages: str) -> list[type]:
    """The mypyc-compiled frozen dataclasses in the loaded modules of ``packages``."""
    found: dict[int, type] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not any(name == p or name.startswith(p + ".") for p in packages):
            continue
        for value in vars(module).values():
            if (isinstance(value, type) and "__mypyc_attrs__" in value.__dict__
                    and is_dataclass(value) and value.__dataclass_params__.frozen):  # type: ignore[attr-defined]
                found[id(value)] = value
    return list(found.values())


def _interpreted(package: str) -> bool:
    """The module ``package`` was loaded from Python source (nothing of it is compiled)."""
    module = sys.modules.get(package)
    return module is not None and str(getattr(module, "__file__", "")).endswith(".py")


def pickle_by_fields(*packages: str) -> None:
    """Make the compiled frozen values of ``packages`` picklable (a no-op when interpreted).

    Packages loaded from source are skipped without scanning the loaded modules (the scan
    costs a few milliseconds per call, paid at every import otherwise).
    """
    wanted = tuple(p for p in packages if not _interpreted(p))
    if wanted:
        register_by_fields(compiled_frozen_values(*wanted))


def register_by_fields(classes: list[type]) -> None:
    """Pickle each of ``classes`` through its constructor, from its fields in order."""
    for cls in classes:
        copyreg.pickle(cls, _by_fields)
