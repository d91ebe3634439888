"""Add or change a patient's coverage (primary, secondary...) by hand: the Admin page's
coverage editor. One unit of work, with an audit event naming the coverage by row id."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import Coverage
from rehabill.services.uow import unit_of_work
from rehabill.store import coverages as store_coverages
from rehabill.store import people


def save_coverage(factory: sessionmaker[Session], patient_id: int, coverage: Coverage, *,
                  coverage_id: int | None = None, actor: str = "",
                  keep_dates: bool = True) -> int:
    """Add ``coverage`` to the patient (``coverage_id`` None) or change that coverage.

    A changed coverage is what the patient's visits bill from now on: a claim built, resent
    or moved to the secondary payer after the change carries the new member id, plan and group.

    Args:
        factory: session factory of the books.
        patient_id: the patient's row id.
        coverage: the payer, member id, plan, group, relationship, sequence and dates.
        coverage_id: the coverage to change, or None to add one.
        actor: who (for the audit trail).
        keep_dates: a change keeps the stored effective dates (the caller did not send any);
            False sets the coverage's ``start`` and ``end``.

    Returns:
        The coverage's row id.

    Raises:
        NotFoundError: no such patient or coverage.
        ConflictError: the patient has this payer and member id, or this sequence, already.
    """
    with unit_of_work(factory) as session:
        saved = store_coverages.set_coverage(session, patient_id, coverage, coverage_id,
                                             keep_dates=keep_dates)
        people.record_event(session, actor=actor,
                            action="add_coverage" if coverage_id is None else "edit_coverage",
                            entity="coverage", entity_id=str(saved),
                            detail={"patient": patient_id, "payer": coverage.payer_id,
                                    "sequence": coverage.sequence,
                                    **_dates(coverage, keep_dates)})
    return saved


def _dates(coverage: Coverage, kept: bool) -> dict[str, str | None]:
    """The effective dates set, for the audit event (none when the change kept them)."""
    if kept:
        return {}
    return {"start": coverage.start.isoformat() if coverage.start else None,
            "end": coverage.end.isoformat() if coverage.end else None}
