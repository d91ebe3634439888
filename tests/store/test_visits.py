"""Visits prepared before the write transaction are saved as ``save_visits`` saves them."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehabill.store import visits as store_visits
from rehabill.store.models import PatientRow
from rehabill.testing import visit_from_terms


def test_save_prepared__a_visit_stored_since_it_was_prepared_is_left_alone(
        session: Session) -> None:
    """The parents' rows collected beforehand would carry the stale visit's patient: they are
    collected again from the visits still to store."""
    first = visit_from_terms("97110=38", visit_id="V-a")
    second = visit_from_terms("97110=38", visit_id="V-b")
    renamed = replace(second, patient=replace(second.patient, last_name="Other"))
    dialect = session.get_bind().dialect
    prepared = store_visits.prepare_visits(dialect, [first, renamed], stored=set())
    store_visits.save_visits(session, [second])  # another import stores V-b meanwhile
    saved = store_visits.save_prepared(session, prepared)
    assert list(saved.inserted) == ["V-a"] and saved.existing == ["V-b"]
    assert session.scalars(select(PatientRow.last_name)).all() == [first.patient.last_name]


def test_save_prepared__with_the_stored_ids_read_before_saves_what_save_visits_saves(
        session: Session) -> None:
    visits = [visit_from_terms("97110=38 97530=25", visit_id=f"V-{i}") for i in range(3)]
    store_visits.save_visits(session, visits[:1])
    stored = store_visits.stored_visit_keys(session, [v.visit_id for v in visits])
    prepared = store_visits.prepare_visits(session.get_bind().dialect, visits, stored)
    saved = store_visits.save_prepared(session, prepared, import_file_id=None)
    assert list(saved.inserted) == ["V-1", "V-2"] and saved.existing == ["V-0"]
    loaded = store_visits.load_visits(session, list(saved.inserted.values()))
    assert list(loaded.values()) == visits[1:]
