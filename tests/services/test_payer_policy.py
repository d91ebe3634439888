"""The payer policy chosen on the admin page (payers.policy) decides how the books' claims are
coded and scrubbed, and a later import naming the payer leaves the choice alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill import testing
from rehabill.domain import ClaimStatus
from rehabill.services import billing
from rehabill.services.cycle import write_visit_file
from rehabill.services.imports import import_file
from rehabill.services.uow import unit_of_work
from rehabill.store import claims as store_claims
from rehabill.store import views
from rehabill.store.models import ClaimRow, PayerRow

TODAY = date(2026, 3, 20)
Factory = sessionmaker[Session]


def _import(factory: Factory, path: Path, *ids: str) -> None:
    visits = []
    for visit_id in ids:
        visit = testing.visit_from_terms("97530=25 97110=10", visit_id=visit_id)
        if visit_id.startswith("C"):
            visit = replace(visit, coverage=testing.COMMERCIAL)
        visits.append(visit)
    import_file(factory, write_visit_file(visits, path / f"{ids[0]}.json"))


def _choose(factory: Factory, payer_key: str, policy: str) -> None:
    with unit_of_work(factory) as session:
        payer_id = session.scalars(select(PayerRow.id)
                                   .where(PayerRow.payer_key == payer_key)).one()
        assert views.set_payer_policy(session, payer_id, policy)


def _methods(factory: Factory) -> dict[str, str]:
    with unit_of_work(factory) as session:
        rows = session.execute(select(ClaimRow.claim_key, ClaimRow.unit_method)).all()
    return {key: method for key, method in rows}


def test_scrub_stored_claims__by_plan_when_no_policy_is_chosen(session_factory: Factory,
                                                                tmp_path: Path) -> None:
    _import(session_factory, tmp_path, "M-1", "C-1")
    with unit_of_work(session_factory) as session:
        assert views.payer_policies(session) == {}  # imports choose nothing
    billing.scrub_stored_claims(session_factory, today=TODAY)
    methods = _methods(session_factory)
    assert methods == {"M-1": "cms", "C-1": "per-code"}


def test_scrub_stored_claims__the_payer_policy_chosen_wins_over_the_plan(
        session_factory: Factory, tmp_path: Path) -> None:
    _import(session_factory, tmp_path, "M-1", "C-1")
    _choose(session_factory, "COMMERCIAL", "medicare_part_b")
    billing.scrub_stored_claims(session_factory, today=TODAY)
    assert _methods(session_factory) == {"M-1": "cms", "C-1": "cms"}


def test_scrub_stored_claims__drafts_are_rescrubbed_under_the_chosen_policy(
        session_factory: Factory, tmp_path: Path) -> None:
    _import(session_factory, tmp_path, "C-1")
    _choose(session_factory, "COMMERCIAL", "medicare_part_b")
    billing.scrub_stored_claims(session_factory, today=TODAY)
    with unit_of_work(session_factory) as session:
        claim_id = session.scalars(select(ClaimRow.id)).one()
    _choose(session_factory, "COMMERCIAL", "commercial_default")
    with unit_of_work(session_factory) as session:
        store_claims.set_status(session, [claim_id], ClaimStatus.DRAFT, actor="test")
        chosen = views.payer_policies(session)
    settings = billing.payer_settings(billing.default_settings(TODAY), chosen)
    assert settings["COMMERCIAL"].policies.for_plan("commercial")[0].name == "commercial_default"
    report = billing.scrub_stored_claims(session_factory, today=TODAY)
    assert report.coded == 0 and len(report.scrubbed) + len(report.held) == 1


def test_scrub_stored_claims__an_unknown_policy_name_falls_back_to_the_plan(
        session_factory: Factory, tmp_path: Path) -> None:
    _import(session_factory, tmp_path, "C-1")
    _choose(session_factory, "COMMERCIAL", "medicare")  # a plan name, not a policy
    billing.scrub_stored_claims(session_factory, today=TODAY)
    assert _methods(session_factory) == {"C-1": "per-code"}


def test_import__keeps_the_policy_an_admin_chose(session_factory: Factory,
                                                 tmp_path: Path) -> None:
    _import(session_factory, tmp_path, "C-1")
    _choose(session_factory, "COMMERCIAL", "medicare_part_b")
    _import(session_factory, tmp_path, "C-2")  # the same payer again
    with unit_of_work(session_factory) as session:
        assert views.payer_policies(session) == {"COMMERCIAL": "medicare_part_b"}
