"""Column types: money is ``NUMERIC(12,2)`` in the database and ``Decimal`` in Python, never float.

SQLite has no decimal type: a NUMERIC column keeps a value as an integer or a double. The
``Money`` type therefore binds text and turns what comes back into a cent-exact ``Decimal``
(a double holds every amount below ten billion to the cent). PostgreSQL keeps ``numeric`` exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from rehabill.domain.money import CENT


class Money(TypeDecorator[Decimal]):
    """An amount: ``NUMERIC(12, 2)``; binds and returns ``Decimal`` only (a float is refused)."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(12, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float | bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be Decimal or int, not {type(value).__name__}")
        if dialect.name == "sqlite":
            return str(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            return Decimal(repr(value)).quantize(CENT)
        return Decimal(value).quantize(CENT)


def to_money(value: object) -> Decimal:
    """An aggregate (``SUM``) read back from either database, as a cent-exact ``Decimal``."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(CENT)
    if isinstance(value, Decimal | int | str):
        return Decimal(value).quantize(CENT)
    raise TypeError(f"not an amount: {value!r}")
