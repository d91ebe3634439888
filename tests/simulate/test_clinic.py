"""The demo practice is realistic, valid where it should be, and deterministic."""

from __future__ import annotations

from collections import Counter

import simple_icd_10_cm as icd

from rehabill.coding import code_visit
from rehabill.domain import is_valid_npi, parse_visits, visit_to_json
from rehabill.simulate.clinic import (
    ClinicSpec,
    generate_visits,
    make_staff,
    secondary_coverages,
    visit_records,
)

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


def test_secondary_coverages__about_half_of_medicare_patients_and_only_them() -> None:
    spec = ClinicSpec(patients=200, weeks=8)
    visits = generate_visits(spec)
    secondaries = secondary_coverages(visits, spec.seed)
    medicare = {v.patient.id for v in visits if v.coverage.plan == "medicare_part_b"}
    assert set(secondaries) <= medicare
    assert 0.35 < len(secondaries) / len(medicare) < 0.65
    assert {c.plan for c in secondaries.values()} == {"medigap", "medicaid"}
    assert all(c.sequence == "secondary" and c.member_id for c in secondaries.values())
    assert secondary_coverages(visits, spec.seed) == secondaries
    assert generate_visits(spec) == visits  # drawn apart: the visits do not change


def test_visit_records__carry_the_secondary_and_still_parse() -> None:
    secondaries = secondary_coverages(VISITS)
    records = visit_records(VISITS, secondaries)
    with_secondary = [r for r in records if "secondary_coverage" in r]
    assert {r["patient"]["id"] for r in with_secondary} == set(secondaries)
    assert all(r["secondary_coverage"]["payer_id"] in ("LSMGP", "TXMCD") for r in with_secondary)
    assert parse_visits(records).visits == VISITS
