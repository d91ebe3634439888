"""A small practice database for the web tests: migrated in-memory SQLite with coded claims,
a denial on the worklist and an item in suspense."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from rehabill.services.claims import code_claims
from rehabill.services.uow import unit_of_work
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate, people
from rehabill.store import remittances as store_remittances
from rehabill.store import visits as store_visits

SPEC = ClinicSpec(seed=7, start=date(2026, 2, 2), weeks=2, patients=6, mistake_rate=0.0)


def make_books(*, seed: bool = True) -> sessionmaker[Session]:
    """A migrated in-memory database; with ``seed``, a few weeks of a small practice."""
    engine = make_engine("sqlite://")
    migrate(engine)
    factory = make_session_factory(engine)
    if seed:
        seed_books(factory)
    return factory


def seed_books(factory: sessionmaker[Session]) -> None:
    """Visits coded into claims, one denial on the worklist, one suspense item."""
    with unit_of_work(factory) as session:
        store_visits.save_visits(session, generate_visits(SPEC))
        report = code_claims(session, actor="seed")
        first = sorted(report.coded.values())[0]
        people.add_worklist_item(session, claim_id=first, carc="50", rarc="N115",
                                 reason="The payer found the service not medically necessary.",
                                 next_action="appeal")
        store_remittances.add_suspense_item(session, amount=Decimal("42.10"),
                                            reason="No claim with this id (CLP01 Z-999).",
                                            claim_key="Z-999", trace_number="T-1")
