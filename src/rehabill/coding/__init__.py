"""Coding: minutes → units (8-minute rule) → modifiers → claim lines. Pure.

``code_visit`` is the entry point; ``units.compute`` does the unit arithmetic alone.
"""

from rehabill.coding.claims import CodingOptions, CodingResult, code_visit, expected_allowed
from rehabill.coding.units import UnitLine, UnitMethod, UnitResult, compute, units_for_minutes
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields

__all__ = [
    "CodingOptions",
    "CodingResult",
    "UnitLine",
    "UnitMethod",
    "UnitResult",
    "code_visit",
    "compute",
    "expected_allowed",
    "units_for_minutes",
]

# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
