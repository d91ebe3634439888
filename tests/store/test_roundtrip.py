"""Domain values survive the trip into rows and back, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from rehabill.coding import code_visit
from rehabill.domain import (
    Address,
    ClaimStatus,
    Coverage,
    DistinctReason,
    Mode,
    Subscriber,
    TherapyToDate,
    Visit,
)
from rehabill.store import batches as store_batches
from rehabill.store import claims as store_claims
from rehabill.store import mapping
from rehabill.store import visits as store_visits
from rehabill.testing import ASSISTANTS, THERAPISTS, service_from_term, visit_from_terms


def _full_visit() -> Visit:
    visit = visit_from_terms("97530=25 97110=10/13 97161", visit_id="V-full")
    services = (
        *visit.services[:2],
        replace(service_from_term("97150=30"), mode=Mode.GROUP,
                distinct=DistinctReason.SEPARATE_ENCOUNTER, units=2, modifiers=("GP", "59"),
                charge=Decimal("41.50")),
    )
    subscriber = Subscriber("Ann", "Lee", date(1952, 1, 2), "F",
                            Address("2 Oak St", "Austin", "TX", "78702", "Apt 4"))
    coverage = Coverage("AETNA", "Aetna", "W123", "commercial", "spouse", "G77", subscriber,
                        "secondary")
    return replace(visit, services=services, coverage=coverage,
                   supervising_provider=THERAPISTS["PT"], assistant=ASSISTANTS["PT"],
                   therapy_to_date=TherapyToDate(Decimal("2100.55"), Decimal("12.00")),
                   onset_date=date(2026, 1, 5), referring_npi="1457390007",
                   treatment_days_since_progress_report=4, total_treatment_minutes=78)


@pytest.mark.parametrize("build", [
    lambda: visit_from_terms("97110=38"),
    lambda: visit_from_terms("97110=10/13 97530=25", visit_id="V-2", plan_of_care=None,
                             authorization=None),
    _full_visit,
    lambda: replace(visit_from_terms("92507=30", "SLP", visit_id="V-np"),
                    patient=replace(visit_from_terms("97110=8").patient, address=None)),
])
def test_visit__round_trips_through_rows(session: Session, build) -> None:  # type: ignore[no-untyped-def]
    visit = build()
    saved = store_visits.save_visits(session, [visit])
    loaded = store_visits.load_visits(session, list(saved.inserted.values()))
    assert list(loaded.values()) == [visit]


def test_claim__round_trips_with_lines_and_status(session: Session) -> None:
    visit = _full_visit()
    row_id = store_visits.save_visits(session, [visit]).inserted[visit.visit_id]
    claim = code_visit(visit).claim
    ids = store_claims.save_claims(session, [store_claims.NewClaim(row_id, claim)])
    loaded = store_claims.load_claims(session, [ids[row_id]])[ids[row_id]]
    assert loaded == claim
    assert loaded.total_charge == claim.total_charge
    history = store_claims.status_history(session, ids[row_id])
    assert [h.status for h in history] == [ClaimStatus.DRAFT]
    lean = store_claims.load_claims(session, [ids[row_id]], with_services=False)[ids[row_id]]
    assert lean == replace(claim, visit=replace(visit, services=()))


def test_money__is_decimal_to_the_cent(session: Session) -> None:
    visit = replace(visit_from_terms("97110=38"),
                    therapy_to_date=TherapyToDate(Decimal("0.10"), Decimal("99999999.99")))
    saved = store_visits.save_visits(session, [visit])
    loaded = store_visits.load_visits(session, list(saved.inserted.values()))
    ttd = next(iter(loaded.values())).therapy_to_date
    assert (ttd.pt_slp, ttd.ot) == (Decimal("0.10"), Decimal("99999999.99"))
    assert isinstance(ttd.pt_slp, Decimal)


def test_save_visits__assistant_is_supervised_by_the_therapist(session: Session) -> None:
    from sqlalchemy import select

    from rehabill.store.models import ProviderRow

    store_visits.save_visits(session, [visit_from_terms("97110=10/13")])
    rows = {r.npi: r for r in session.scalars(select(ProviderRow))}
    assistant, therapist = rows[ASSISTANTS["PT"].npi], rows[THERAPISTS["PT"].npi]
    assert assistant.supervisor_id == therapist.id
    assert therapist.supervisor_id is None


def test_save_claims__status_per_claim_overrides_the_default(session: Session) -> None:
    visits = [visit_from_terms("97110=38", visit_id=f"V-{i}") for i in range(2)]
    rows = store_visits.save_visits(session, visits).inserted
    new = [store_claims.NewClaim(rows["V-0"], code_visit(visits[0]).claim,
                                 status=ClaimStatus.HELD),
           store_claims.NewClaim(rows["V-1"], code_visit(visits[1]).claim)]
    ids = store_claims.save_claims(session, new, status=ClaimStatus.SCRUBBED)
    assert store_claims.claim_ids_by_status(session, ClaimStatus.HELD) == [ids[rows["V-0"]]]
    assert store_claims.claim_ids_by_status(session, ClaimStatus.SCRUBBED) == [ids[rows["V-1"]]]
    [change] = store_claims.status_history(session, ids[rows["V-0"]])
    assert change.status is ClaimStatus.HELD


def test_claim_line_row__is_claim_line_values_in_column_order() -> None:
    claim = code_visit(_full_visit()).claim
    assert claim is not None and claim.lines
    for line in claim.lines:
        values = mapping.claim_line_values(line, 7)
        assert mapping.claim_line_row(line) == tuple(
            values[name] for name in mapping.CLAIM_LINE_COLUMNS)


def test_save_coded_claims__same_rows_as_save_claims(session: Session) -> None:
    visit = _full_visit()
    other = replace(visit, visit_id="V-coded")
    saved = store_visits.save_visits(session, [visit, other]).inserted
    claim = code_visit(visit).claim
    coded = code_visit(other).claim
    assert claim is not None and coded is not None
    ids = store_claims.save_claims(session, [store_claims.NewClaim(
        saved[visit.visit_id], claim, unit_method="cms", status=ClaimStatus.SCRUBBED)])
    payer = store_claims.payer_ids(session, [other.coverage.payer_id])
    row_id = saved[other.visit_id]
    new = store_claims.save_coded_claims(session, [store_claims.CodedClaim(
        row_id, mapping.claim_values(coded, visit_id=row_id,
                                     payer_id=payer[other.coverage.payer_id],
                                     status=ClaimStatus.SCRUBBED, unit_method="cms"),
        tuple(mapping.claim_line_row(line) for line in coded.lines), (),
        ClaimStatus.SCRUBBED)])
    assert store_claims.load_claims(session, [new[row_id]])[new[row_id]] == coded
    assert [h.status for h in store_claims.status_history(session, new[row_id])] == \
        [h.status for h in store_claims.status_history(session, ids[saved[visit.visit_id]])]
    batch = store_batches.load_batch_claims(session, [new[row_id], ids[saved[visit.visit_id]]])
    assert batch[new[row_id]] == replace(coded, visit=replace(other, services=()))
