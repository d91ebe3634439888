"""Values pickle and unpickle to equal values, whether the core runs interpreted or compiled."""

from __future__ import annotations

import copyreg
import pickle
import sys
import types
from dataclasses import dataclass

import pytest

from rehabill.coding import code_visit
from rehabill.domain import Finding, Location, Severity
from rehabill.domain.pickling import (
    compiled_frozen_values,
    pickle_by_fields,
    register_by_fields,
)
from rehabill.reference import load
from rehabill.rules import ScrubSettings, scrub_visit
from rehabill.rules.policy import shipped_policies
from rehabill.testing import visit_from_terms

PACKAGES = ("rehabill.domain", "rehabill.coding", "rehabill.reference", "rehabill.rules")


def test_pickling__every_compiled_frozen_value_has_a_reducer() -> None:
    assert all(cls in copyreg.dispatch_table for cls in compiled_frozen_values(*PACKAGES))


def test_pickling__a_finding_a_visit_and_its_coding_round_trip() -> None:
    visit = visit_from_terms("97530=25 97110=10/13 97161")
    finding = Finding("units.mismatch", Severity.ERROR, "m", Location(visit_id="V1", line=2))
    coded = code_visit(visit)
    for value in (finding, visit, coded.claim, coded.units.lines):
        assert pickle.loads(pickle.dumps(value)) == value


def test_pickling__a_scrub_result_round_trips() -> None:
    settings = ScrubSettings(load(), visit_from_terms("97110=30").date_of_service,
                             shipped_policies())
    result = scrub_visit(visit_from_terms("97530=25 97150"), settings)
    back = pickle.loads(pickle.dumps(result))
    assert back.findings == result.findings and back.claim == result.claim


@dataclass(frozen=True)
class Compiled:
    """Stands in for a class mypyc compiled (they carry ``__mypyc_attrs__``)."""

    __mypyc_attrs__ = ("a", "b")
    a: int
    b: str


@dataclass(frozen=True)
class AlsoCompiled:
    """Another stand-in, in this module loaded from source."""

    __mypyc_attrs__ = ("a",)
    a: int


def test_pickling__a_module_loaded_from_source_is_not_scanned() -> None:
    copyreg.dispatch_table.pop(AlsoCompiled, None)  # whatever another test registered
    pickle_by_fields(__name__)
    assert AlsoCompiled not in copyreg.dispatch_table


def test_pickling__a_compiled_class_pickles_through_its_constructor() -> None:
    found = compiled_frozen_values(__name__)
    assert Compiled in found and AlsoCompiled in found
    register_by_fields([Compiled])
    assert copyreg.dispatch_table[Compiled] is not None
    value = Compiled(1, "x")
    assert pickle.loads(pickle.dumps(value)) == value
    assert copyreg.dispatch_table[Compiled](value) == (Compiled, (1, "x"))


@dataclass(frozen=True)
class InAnExtension:
    """A stand-in for a value of a compiled module (registered through a fake module)."""

    __mypyc_attrs__ = ("a",)
    a: int


def test_pickling__a_package_not_loaded_from_source_is_scanned(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a compiled module runs its body before the import system sets its __file__
    module = types.ModuleType("rehabill_fake_extension")
    module.InAnExtension = InAnExtension  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    copyreg.dispatch_table.pop(InAnExtension, None)
    pickle_by_fields(module.__name__)
    assert InAnExtension in copyreg.dispatch_table
    assert pickle.loads(pickle.dumps(InAnExtension(3))) == InAnExtension(3)
