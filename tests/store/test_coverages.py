"""A patient's coverages on the books (SQLite and PostgreSQL): stored by import or by hand,
listed primary first, one secondary per patient, no payer + member id twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.orm import Session

from rehabill.domain import Coverage
from rehabill.errors import ConflictError, NotFoundError
from rehabill.store import claims as store_claims
from rehabill.store import coverages
from rehabill.store import visits as store_visits
from rehabill.testing import visit_from_terms

MEDIGAP = Coverage("LSMGP", "Lone Star Medigap", "MG1", "medigap", group_number="PLAN-G",
                   sequence="secondary")


def _stored_patient(session: Session) -> tuple[int, int]:
    """A stored visit's row id and its patient's row id."""
    visit = visit_from_terms("97110=30")
    saved = store_visits.save_visits(session, [visit])
    [visit_row] = saved.inserted.values()
    ids = coverages.patient_ids(session, [(visit.billing_provider.npi, visit.patient.id),
                                          ("0000000000", visit.patient.id)])
    assert list(ids) == [(visit.billing_provider.npi, visit.patient.id)]
    return visit_row, ids[(visit.billing_provider.npi, visit.patient.id)]


def test_save_coverages__upserts_by_payer_member_and_patient(session: Session) -> None:
    visit_row, patient = _stored_patient(session)
    [first] = coverages.save_coverages(session, [(patient, MEDIGAP)])
    [again] = coverages.save_coverages(session, [(patient, replace(MEDIGAP, plan="medigap_n"))])
    assert again == first
    assert store_claims.coverage_for(session, visit_row, "secondary") == first
    assert store_claims.load_coverages(session, [first])[first].plan == "medigap_n"
    [listed] = coverages.patients_with_coverages(session, "p")  # ids match case-blind
    assert [(c.coverage.sequence, c.visits) for c in listed.coverages] == [
        ("primary", 1), ("secondary", 0)]
    assert coverages.patients_with_coverages(session, "nobody") == []


def test_save_coverages__new_dates_for_the_same_coverage_replace_the_old(
        session: Session) -> None:
    """Payer, member id and patient name the coverage; its dates are the newest import's (a
    renewal, or a termination learnt later), and no dates leave it open."""
    _, patient = _stored_patient(session)
    ended = replace(MEDIGAP, start=date(2025, 1, 1), end=date(2026, 2, 28))
    [first] = coverages.save_coverages(session, [(patient, ended)])
    assert store_claims.load_coverages(session, [first])[first] == ended
    renewed = replace(ended, end=date(2026, 12, 31))
    assert coverages.save_coverages(session, [(patient, renewed)]) == [first]
    assert store_claims.load_coverages(session, [first])[first].end == date(2026, 12, 31)
    coverages.save_coverages(session, [(patient, MEDIGAP)])
    reopened = store_claims.load_coverages(session, [first])[first]
    assert reopened.start is reopened.end is None


def test_set_coverage__a_change_by_hand_keeps_the_imported_dates(session: Session) -> None:
    """A change that sends no dates (a script, an older form) must not open them."""
    _, patient = _stored_patient(session)
    ended = replace(MEDIGAP, start=date(2025, 1, 1), end=date(2026, 2, 28))
    [row] = coverages.save_coverages(session, [(patient, ended)])
    coverages.set_coverage(session, patient, replace(MEDIGAP, plan="medigap_n"), row)
    assert store_claims.load_coverages(session, [row])[row] == replace(ended, plan="medigap_n")


def test_set_coverage__dates_set_by_hand_replace_or_open_the_stored_ones(
        session: Session) -> None:
    """The editor's dates: a termination learnt by phone ends the coverage; empty opens it."""
    _, patient = _stored_patient(session)
    [row] = coverages.save_coverages(session, [(patient, replace(MEDIGAP,
                                                                 start=date(2025, 1, 1)))])
    terminated = replace(MEDIGAP, start=date(2025, 1, 1), end=date(2026, 6, 30))
    coverages.set_coverage(session, patient, terminated, row, keep_dates=False)
    assert store_claims.load_coverages(session, [row])[row] == terminated
    coverages.set_coverage(session, patient, MEDIGAP, row, keep_dates=False)
    opened = store_claims.load_coverages(session, [row])[row]
    assert opened.start is opened.end is None


def test_set_coverage__adds_changes_and_refuses_clashes(session: Session) -> None:
    _, patient = _stored_patient(session)
    added = coverages.set_coverage(session, patient, MEDIGAP)
    changed = coverages.set_coverage(session, patient, replace(MEDIGAP, member_id="MG2"),
                                     added)
    assert changed == added
    assert store_claims.load_coverages(session, [added])[added].member_id == "MG2"
    with pytest.raises(ConflictError, match="already has a secondary coverage"):
        coverages.set_coverage(session, patient, replace(MEDIGAP, payer_id="TXMCD"))
    with pytest.raises(ConflictError, match="payer LSMGP and member id MG2"):
        coverages.set_coverage(session, patient, replace(MEDIGAP, sequence="tertiary",
                                                         member_id="MG2"))
    with pytest.raises(NotFoundError):
        coverages.set_coverage(session, patient + 1000, MEDIGAP)
    with pytest.raises(NotFoundError):
        coverages.set_coverage(session, patient, MEDIGAP, added + 1000)
    assert coverages.patient_external_id(session, patient) == "P-1"


def test_set_coverage__the_sequence_of_a_billed_coverage_stays(session: Session) -> None:
    _, patient = _stored_patient(session)
    [listed] = coverages.patients_with_coverages(session)
    [primary] = listed.coverages
    with pytest.raises(ConflictError, match="visits bill this coverage as primary"):
        coverages.set_coverage(session, patient, replace(primary.coverage, sequence="secondary"),
                               primary.id)
    fixed = replace(primary.coverage, member_id="1EG4TE5MK99", group_number="G1")
    assert coverages.set_coverage(session, patient, fixed, primary.id) == primary.id
    assert store_claims.load_coverages(session, [primary.id])[primary.id] == fixed
