"""The demo practice is realistic, valid where it should be, and deterministic."""

from __future__ import annotations

from collections import Counter

import simple_icd_10_cm as icd

from rehabill.coding import code_visit
from rehabill.domain import is_valid_npi, parse_visits, visit_to_json
from rehabill.simulate.clinic import ClinicSpec, generate_visits, make_staff

VISITS = generate_visits(ClinicSpec(patients=60, weeks=8))


def test_deterministic_for_a_seed() -> None:
    assert generate_visits(ClinicSpec(patients=60, weeks=8)) == VISITS
    assert generate_visits(ClinicSpec(patients=60, weeks=8, seed=1)) != VISITS


def test_mix_of_disciplines_payers_and_assistants() -> None:
    assert {v.discipline.value for v in VISITS} == {"pt", "ot", "slp"}
    assert Counter(v.coverage.plan for v in VISITS).keys() == {"medicare_part_b", "commercial"}
    assert any(v.assistant is not None for v in VISITS)
    codes = {line.code for v in VISITS for line in code_visit(v).claim.lines}
    assert {"97530", "97110", "92507"} <= codes
    assert any(c in codes for c in ("97161", "97162", "97163"))


def test_staff_npis_are_valid() -> None:
    staff = make_staff()
    providers = [p for group in (*staff.therapists.values(), *staff.assistants.values())
                 for p in group]
    assert len(providers) == 10 and all(is_valid_npi(p.npi) for p in providers)


def test_most_visits_are_clean_and_some_carry_mistakes() -> None:
    header = [v for v in VISITS if "M54.5" in v.diagnoses]
    valid = [v for v in VISITS if all(icd.is_valid_item(d) and icd.is_leaf(d)
                                      for d in v.diagnoses)]
    assert len(valid) + len(header) == len(VISITS)
    assert 0.9 < len(valid) / len(VISITS) <= 1.0


def test_visits_survive_the_visit_file() -> None:
    result = parse_visits([visit_to_json(v) for v in VISITS])
    assert result.findings == [] and result.visits == VISITS


def test_medicare_patients_are_65_or_older() -> None:
    for v in VISITS:
        if v.coverage.plan == "medicare_part_b":
            assert (v.date_of_service - v.patient.birth_date).days >= 65 * 365
