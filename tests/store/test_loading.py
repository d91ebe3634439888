"""Stored visits and claims come back exactly as they were stored, on both databases.

``load_visits`` and ``load_batch_claims`` read the driver's own rows and convert each distinct
value once; these pin what they give back: every optional part of a visit, amounts as
cent-exact ``Decimal`` (SQLite keeps 40.00 as the integer 40 and 41.50 as a double), dates as
dates (SQLite keeps them as text), and the same values ``load_claims`` builds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from rehabill.coding import code_visit
from rehabill.domain import (
    Address,
    Authorization,
    Coverage,
    Credential,
    Discipline,
    DistinctReason,
    Mode,
    PlanOfCare,
    Provider,
    Service,
    Subscriber,
    TherapyToDate,
    Visit,
)
from rehabill.store import batches as store_batches
from rehabill.store import claims as store_claims
from rehabill.store import visits as store_visits
from rehabill.testing import ASSISTANTS, visit_from_terms

SUPERVISOR = Provider("1093817465", "Eve", "Stone", Credential.PT)


def _every_part(visit_id: str = "V-every") -> Visit:
    """A visit with every optional part filled, amounts written to the cent."""
    base = visit_from_terms("97530=25 97110=10/13", visit_id=visit_id)
    services = (
        *base.services,
        Service("97150", 30, 8, Mode.GROUP, "balance class", "fall risk", "min assist",
                DistinctReason.SEPARATE_ENCOUNTER, 2, ("GP", "59"), Decimal("41.50")),
        Service("97140", 12, 0, Mode.CONCURRENT, "", "", "", None, None, (), Decimal("40.00")),
    )
    subscriber = Subscriber("Ann", "Lee", date(1952, 1, 2), "F",
                            Address("2 Oak St", "Austin", "TX", "78702", "Apt 4"))
    return replace(
        base, services=services, assistant=ASSISTANTS["PT"], supervising_provider=SUPERVISOR,
        coverage=Coverage("AETNA", "Aetna", "W123", "commercial", "spouse", "G77", subscriber,
                          "secondary", date(2025, 7, 1), date(2026, 6, 30)),
        plan_of_care=PlanOfCare(date(2026, 2, 20), date(2026, 5, 20), date(2026, 2, 24),
                                "1457390007", Discipline.PT),
        authorization=Authorization("A-77", date(2026, 2, 1), date(2026, 6, 30), 20, 3, 60, 9),
        therapy_to_date=TherapyToDate(Decimal("2100.55"), Decimal("12.00")),
        onset_date=date(2026, 1, 5), referring_npi="1457390007", place_of_service="22",
        diagnoses=("I69.351", "R26.89", "M62.81"), visit_number_in_episode=6,
        treatment_days_since_progress_report=4, total_treatment_minutes=78)


def _bare() -> Visit:
    """A visit with no optional part: no assistant, plan, authorization, onset or service
    (nothing accrued: the store keeps amounts to the cent, so 0.00)."""
    return replace(visit_from_terms("97110=38", visit_id="V-bare"), services=(),
                   plan_of_care=None, authorization=None, visit_number_in_episode=None,
                   therapy_to_date=TherapyToDate(Decimal("0.00"), Decimal("0.00")))


def test_load_visits__every_part_comes_back_exactly(session: Session) -> None:
    visit = _every_part()
    row_id = store_visits.save_visits(session, [visit]).inserted[visit.visit_id]
    loaded = store_visits.load_visits(session, [row_id])[row_id]
    assert loaded == visit
    assert repr(loaded) == repr(visit)  # Decimal('40.00') and not Decimal('40'), dates as dates
    assert [s.charge for s in loaded.services[2:]] == [Decimal("41.50"), Decimal("40.00")]
    assert all(type(d) is date for d in (loaded.date_of_service, loaded.onset_date,
                                         loaded.plan_of_care and loaded.plan_of_care.certified_on,
                                         loaded.authorization and loaded.authorization.end,
                                         loaded.coverage.start, loaded.coverage.end))


def test_load_visits__a_visit_without_optional_parts(session: Session) -> None:
    visit = _bare()
    row_id = store_visits.save_visits(session, [visit]).inserted[visit.visit_id]
    loaded = store_visits.load_visits(session, [row_id])[row_id]
    assert loaded == visit and repr(loaded) == repr(visit)
    assert loaded.assistant is loaded.supervising_provider is loaded.onset_date is None
    assert loaded.coverage.start is loaded.coverage.end is None  # open on both sides


def test_load_visits__visits_sharing_parents_and_services_in_one_call(session: Session) -> None:
    """Visits of one patient share their parents, services and amounts: each comes back as
    stored, with services in their order, and an unknown row id is left out."""
    visits = [_every_part(f"V-{i}") for i in range(3)] + [_bare()]
    visits[1] = replace(visits[1], services=visits[1].services[::-1],
                        therapy_to_date=TherapyToDate(Decimal("0.10"), Decimal("99999999.99")))
    saved = store_visits.save_visits(session, visits).inserted
    ids = [saved[v.visit_id] for v in visits]
    loaded = store_visits.load_visits(session, [*ids, max(ids) + 1000])
    assert [loaded[i] for i in ids] == visits and len(loaded) == len(visits)
    assert [repr(loaded[i]) for i in ids] == [repr(v) for v in visits]
    assert store_visits.load_visits(session, [max(ids) + 1000]) == {}
    lean = store_visits.load_visits(session, ids, with_services=False)
    assert [lean[i] for i in ids] == [replace(v, services=()) for v in visits]


def test_load_visits__a_run_memo_reads_each_parent_once(session: Session) -> None:
    """A scrub run loads its visits piece by piece with one ``VisitMemo``: every piece comes
    back as stored, and a patient, coverage and provider named again by a later piece are the
    ones the first piece read (not read again)."""
    visits = [_every_part(f"V-{i}") for i in range(4)] + [_bare()]
    saved = store_visits.save_visits(session, visits).inserted
    ids = [saved[v.visit_id] for v in visits]
    memo = store_visits.VisitMemo(session.get_bind().dialect)
    first = store_visits.load_visits(session, ids[:2], memo=memo)
    coverages = dict(memo.maps["coverage"])
    later = store_visits.load_visits(session, ids[2:], memo=memo)
    loaded = {**first, **later}
    assert [loaded[i] for i in ids] == visits
    assert [repr(loaded[i]) for i in ids] == [repr(v) for v in visits]
    assert later[ids[2]].patient is first[ids[0]].patient
    assert later[ids[3]].coverage is first[ids[1]].coverage
    assert later[ids[2]].assistant is first[ids[0]].assistant
    assert set(memo.maps["coverage"]) > set(coverages)  # the bare visit's coverage is new


def test_load_batch_claims__the_claims_load_claims_builds(session: Session) -> None:
    """Plain claims come back as ``load_claims`` builds them without the visits' services; a
    claim to another payer (its own coverage, the prior claim's adjudication) as it builds
    them with the services."""
    visits = [_every_part(), replace(_bare(), services=visit_from_terms("97110=38").services)]
    saved = store_visits.save_visits(session, visits).inserted
    new = [store_claims.NewClaim(saved[v.visit_id], code_visit(v).claim) for v in visits]
    ids = store_claims.save_claims(session, new)
    first = ids[saved[visits[0].visit_id]]
    again = store_claims.NewClaim(saved[visits[0].visit_id], replace(
        code_visit(visits[0]).claim, claim_id_override="V-every-2"), sequence=2)
    other = store_claims.save_claims(session, [again])[saved[visits[0].visit_id]]
    coverage = store_claims.coverage_for(session, saved[visits[0].visit_id], "secondary")
    store_claims.set_billing(session, other, coverage_id=coverage, prior_claim_id=first)
    claim_ids = [*ids.values(), other]
    batch = store_batches.load_batch_claims(session, claim_ids)
    plain = list(ids.values())
    assert {i: batch[i] for i in plain} == store_claims.load_claims(session, plain,
                                                                     with_services=False)
    assert batch[other] == store_claims.load_claims(session, [other])[other]
    assert len(batch) == 3
    assert batch[first] == replace(code_visit(visits[0]).claim,
                                   visit=replace(visits[0], services=()))
    assert repr(batch[first]) == repr(replace(code_visit(visits[0]).claim,
                                              visit=replace(visits[0], services=())))
    assert batch[other].prior_payers and batch[other].claim_id == "V-every-2"
