"""Build frozen slotted dataclass values without their ``__init__``, for the readers' hot paths.

A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__``
(a lookup through the type for every field); an 835 reader builds several such values per claim
and that alone cost a fifth of its time. ``positional_builder(cls)`` returns a function taking
the fields in declaration order (all of them, no defaults) that makes ``object.__new__(cls)`` and
stores each field through its slot descriptor: the same frozen value (``==`` and ``hash`` agree,
``tests/x12/test_fastbuild.py``), about twice as fast. It is only for classes with no
``__post_init__`` and no field converters, which holds for every reader value it is used on.
When ``cls`` is compiled by mypyc (a native class, ``__mypyc_attrs__``) with its ``__init__``
written out, that constructor is native code and faster than any builder: ``cls`` itself is
returned. A compiled class whose ``__init__`` the dataclass decorator generated (a Python function
setting each field through ``object.__setattr__``, ``Visit``'s 19 take about 4 µs) is built
through its native attribute descriptors instead, made by its own ``__new__`` (a native class
refuses ``object.__new__``): about half the time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from types import FunctionType
from typing import Any, TypeVar

T = TypeVar("T")


def positional_builder(cls: type[T]) -> Callable[..., T]:
    """A fast positional constructor for the frozen slotted dataclass ``cls``.

    Args:
        cls: a ``@dataclass(frozen=True, slots=True)`` class without ``__post_init__``.

    Returns:
        ``build(*values)`` with one value per field, in field order.

    Raises:
        TypeError: when ``cls`` is not a slotted dataclass without ``__post_init__``.
    """
    compiled = "__mypyc_attrs__" in cls.__dict__
    if compiled and not isinstance(cls.__dict__.get("__init__"), FunctionType):
        return cls
    if not (compiled or "__slots__" in cls.__dict__) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} must be a slotted dataclass without __post_init__")
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"new": cls.__new__ if compiled else object.__new__, "cls": cls}
    body = ["    o = new(cls)"]
    for index, name in enumerate(names):
        namespace[f"set{index}"] = cls.__dict__[name].__set__
        body.append(f"    set{index}(o, v{index})")
    arguments = ", ".join(f"v{index}" for index in range(len(names)))
    source = f"def build({arguments}):\n" + "\n".join(body) + "\n    return o\n"
    # Generated from field names only, as dataclasses generates its own __init__.
    exec(source, namespace)
    built: Callable[..., T] = namespace["build"]
    built.__qualname__ = f"positional_builder({cls.__name__})"
    return built
