"""UnitResult.explanation is written on first read: same lines, equality, hashing, pickling."""

from __future__ import annotations

import pickle
from dataclasses import replace
from decimal import Decimal

from rehabill.coding import UnitMethod, UnitResult, code_visit, compute
from rehabill.domain import TherapyToDate
from rehabill.reference import load
from rehabill.testing import visit_from_terms


def test_explanation__lazy_result_equals_one_built_from_its_lines() -> None:
    visit = visit_from_terms("97530=25 97110=10/13 97161")
    lazy = compute(visit.services, UnitMethod.CMS, load().codes.is_timed)
    eager = UnitResult(lazy.method, lazy.total_timed_minutes, lazy.total_units, lazy.lines,
                       tuple(lazy.explanation))
    assert lazy == eager and hash(lazy) == hash(eager)
    assert isinstance(lazy.explanation, tuple) and lazy.explanation[0].startswith("48 timed")


def test_explanation__kx_note_follows_the_unit_lines_and_survives_pickling() -> None:
    visit = replace(visit_from_terms("97110=45"),
                    therapy_to_date=TherapyToDate(pt_slp=Decimal("2470.00")))
    result = code_visit(visit)
    notes = result.units.explanation
    assert notes[0].startswith("45 timed minutes") and notes[-1].startswith("KX: PT and SLP")
    assert pickle.loads(pickle.dumps(result)) == result


def test_explanation__with_notes_on_a_finished_tuple() -> None:
    result = UnitResult(UnitMethod.CMS, 8, 1, (), ("a",))
    assert result.with_notes(("b",)).explanation == ("a", "b")
    assert result.with_notes(()) is result
