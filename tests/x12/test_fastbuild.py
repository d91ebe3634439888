"""positional_builder makes the same frozen values as the dataclass constructor."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from decimal import Decimal

import pytest

from rehabill.domain import TherapyToDate
from rehabill.x12.fastbuild import positional_builder
from rehabill.x12.remit835 import Procedure, ServiceLine


@dataclass(frozen=True, slots=True)
class _Pair:
    left: str
    right: tuple[int, ...] = ()


def test_positional_builder__equals_the_constructor_and_stays_frozen() -> None:
    build = positional_builder(_Pair)
    built = build("a", (1, 2))
    assert built == _Pair("a", (1, 2))
    assert hash(built) == hash(_Pair("a", (1, 2)))
    assert type(built) is _Pair
    with pytest.raises(FrozenInstanceError):
        built.left = "b"  # type: ignore[misc]


def test_positional_builder__a_reader_value() -> None:
    values = (Procedure("HC", "97110"), Decimal("60"), Decimal("33.60"), "", Decimal("1"), None,
              None, (), (), (), (), (), (), 12)
    assert positional_builder(ServiceLine)(*values) == ServiceLine(*values)
    assert positional_builder(ServiceLine)(*values).segment == 12


def test_positional_builder__refuses_a_class_without_slots() -> None:
    @dataclass(frozen=True)
    class Loose:
        x: int

    with pytest.raises(TypeError):
        positional_builder(Loose)


def test_positional_builder__a_value_with_the_generated_init() -> None:
    """Compiled, a class whose ``__init__`` the dataclass decorator generated is built through
    its native attribute descriptors (made by its own ``__new__``): the same value."""
    build = positional_builder(TherapyToDate)
    built = build(Decimal("2100.55"), Decimal("12.00"))
    assert built == TherapyToDate(Decimal("2100.55"), Decimal("12.00"))
    assert type(built) is TherapyToDate and built.for_group("ot") == Decimal("12.00")
    with pytest.raises(FrozenInstanceError):
        built.ot = Decimal("0")  # type: ignore[misc]
