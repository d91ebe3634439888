"""A patient's coverages on the books: the primary a visit bills, and the secondary (and
tertiary) that coordination of benefits bills next.

Visits upsert the coverage they bill (``store.visits``); this module stores the others (an
import's secondary coverage, the Admin page's coverage editor) and lists them. A coverage is
keyed, as everywhere, by payer + member id + patient; its ``sequence`` says which it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rehabill.domain import Coverage
from rehabill.errors import ConflictError, NotFoundError
from rehabill.store import mapping
from rehabill.store.bulk import chunked, upsert
from rehabill.store.models import CoverageRow, PatientRow, PayerRow, PracticeRow, VisitRow
from rehabill.store.visits import COVERAGE_UPDATE, PAYER_UPDATE

SEQUENCES = ("primary", "secondary", "tertiary", "former")
#: A coverage no longer in force: kept (claims that billed it point at it), never billed again.
FORMER = "former"
PatientKey = tuple[str, str]  # (practice NPI, the practice's patient id)


@dataclass(frozen=True, slots=True)
class CoverageView:
    """One coverage of a patient, as the coverage editor shows it."""

    id: int
    patient_id: int
    coverage: Coverage
    visits: int


@dataclass(frozen=True, slots=True)
class PatientCoverages:
    """A patient (row id, practice's id, name, birth date) and its coverages, primary first."""

    id: int
    external_id: str
    name: str
    birth_date: str
    coverages: tuple[CoverageView, ...]


def patient_ids(session: Session, keys: Sequence[PatientKey]) -> dict[PatientKey, int]:
    """Row ids of stored patients by (practice NPI, patient id); unknown keys are left out."""
    out: dict[PatientKey, int] = {}
    wanted = sorted(set(keys))
    for part in chunked(wanted):
        asked = set(part)
        query = (select(PracticeRow.npi, PatientRow.external_id, PatientRow.id)
                 .join(PracticeRow, PracticeRow.id == PatientRow.practice_id)
                 .where(PatientRow.external_id.in_(sorted({p for _, p in part}))))
        out.update({(npi, ext): pid for npi, ext, pid in session.execute(query)
                    if (npi, ext) in asked})
    return out


def patient_external_id(session: Session, patient_id: int) -> str:
    """The practice's own id of the patient with this row id ("" when there is none)."""
    found = session.scalars(select(PatientRow.external_id)
                            .where(PatientRow.id == patient_id)).first()
    return found or ""


def save_coverages(session: Session, coverages: Sequence[tuple[int, Coverage]]) -> list[int]:
    """Upsert (patient row id, coverage) pairs and their payers; the coverage row ids.

    A coverage already stored (same payer, member id and patient) takes the new plan, group,
    relationship, sequence and subscriber, as a re-imported visit's coverage does. A patient's
    other coverage with the same non-primary sequence (the secondary it replaces) becomes
    ``former``, so that the patient has one secondary, the newest.
    """
    if not coverages:
        return []
    _retire(session, coverages)
    payers = upsert(session, PayerRow, [mapping.payer_values(c) for _, c in coverages],
                    ("payer_key",), PAYER_UPDATE)
    rows = [mapping.coverage_values(c, pid, payers[(c.payer_id,)]) for pid, c in coverages]
    ids = upsert(session, CoverageRow, rows, ("payer_id", "member_id", "patient_id"),
                 COVERAGE_UPDATE)
    return [ids[(r["payer_id"], r["member_id"], r["patient_id"])] for r in rows]


def _retire(session: Session, coverages: Sequence[tuple[int, Coverage]]) -> None:
    """Mark ``former`` the patients' coverages these replace (same non-primary sequence,
    another payer or member id)."""
    new = {(pid, c.sequence): (c.payer_id, c.member_id) for pid, c in coverages
           if c.sequence != "primary"}
    retired: list[int] = []
    for part in chunked(sorted({pid for pid, _ in new})):
        query = (select(CoverageRow.id, CoverageRow.patient_id, CoverageRow.sequence,
                        PayerRow.payer_key, CoverageRow.member_id)
                 .join(PayerRow, PayerRow.id == CoverageRow.payer_id)
                 .where(CoverageRow.patient_id.in_(part)))
        retired += [row_id for row_id, pid, seq, payer, member in session.execute(query)
                    if (pid, seq) in new and new[(pid, seq)] != (payer, member)]
    for ids in chunked(retired):
        session.execute(update(CoverageRow).where(CoverageRow.id.in_(ids))
                        .values(sequence=FORMER))


def patients_with_coverages(session: Session, search: str = "", limit: int = 25
                            ) -> list[PatientCoverages]:
    """Patients whose id (the practice's) starts with ``search`` (the first ``limit`` when
    empty), by name, with their coverages (primary, secondary, tertiary, then by
    row id)."""
    query = select(PatientRow).order_by(PatientRow.last_name, PatientRow.first_name,
                                        PatientRow.id).limit(limit)
    if search.strip():  # an id, never a name: the web page puts it in its URL
        text = search.strip().lower().replace("%", "").replace("_", "") + "%"
        query = query.where(func.lower(PatientRow.external_id).like(text))
    patients = list(session.scalars(query))
    by_patient = _coverages_of(session, [p.id for p in patients])
    return [PatientCoverages(p.id, p.external_id, f"{p.last_name}, {p.first_name}",
                             p.birth_date.isoformat(), tuple(by_patient.get(p.id, ())))
            for p in patients]


def _coverages_of(session: Session, patient_ids: Sequence[int]
                  ) -> dict[int, list[CoverageView]]:
    visits = (select(VisitRow.coverage_id, func.count().label("n"))
              .group_by(VisitRow.coverage_id).subquery())
    query = (select(CoverageRow, PayerRow, visits.c.n)
             .join(PayerRow, PayerRow.id == CoverageRow.payer_id)
             .outerjoin(visits, visits.c.coverage_id == CoverageRow.id)
             .where(CoverageRow.patient_id.in_(list(patient_ids))))
    out: dict[int, list[CoverageView]] = {}
    for row, payer, n in session.execute(query):
        out.setdefault(row.patient_id, []).append(
            CoverageView(row.id, row.patient_id, mapping.to_coverage(row, payer), n or 0))
    for views in out.values():
        views.sort(key=lambda v: (_rank(v.coverage.sequence), v.id))
    return out


def _rank(sequence: str) -> int:
    return SEQUENCES.index(sequence) if sequence in SEQUENCES else len(SEQUENCES)


def set_coverage(session: Session, patient_id: int, coverage: Coverage,
                 coverage_id: int | None = None, *, keep_dates: bool = True) -> int:
    """Add a coverage to a patient (``coverage_id`` None) or change one; its row id.

    A change keeps the stored subscriber (no form shows it) and, with ``keep_dates``, the
    stored effective dates (a caller that did not ask for them); without it, the coverage's
    ``start`` and ``end`` replace them (None opens that side).

    A patient has one coverage per sequence other than primary and former (a patient's earlier
    primary coverages stay, as their visits bill them), so adding a second secondary is refused
    (mark the old one former first); and
    the sequence of a coverage that visits bill stays (their claims would claim to follow a
    payer that never saw them).

    Raises:
        NotFoundError: no such patient, or no such coverage of this patient.
        ConflictError: the patient has this payer and member id already, or another
            coverage with this (non-primary) sequence, or visits bill this coverage and the
            sequence would change.
    """
    if session.get(PatientRow, patient_id) is None:
        raise NotFoundError(f"no patient {patient_id}")
    row = None
    if coverage_id is not None:
        row = session.get(CoverageRow, coverage_id)
        if row is None or row.patient_id != patient_id:
            raise NotFoundError(f"no coverage {coverage_id} for patient {patient_id}")
    payer_id = upsert(session, PayerRow, [mapping.payer_values(coverage)], ("payer_key",),
                      PAYER_UPDATE if coverage.payer_name else ())[(coverage.payer_id,)]
    _refuse_clash(session, patient_id, payer_id, coverage, coverage_id)
    if row is not None and row.sequence != coverage.sequence and session.scalars(
            select(VisitRow.id).where(VisitRow.coverage_id == row.id).limit(1)).first():
        raise ConflictError(f"visits bill this coverage as {row.sequence}, so it stays "
                            f"{row.sequence}; add the {coverage.sequence} coverage instead")
    values = mapping.coverage_values(coverage, patient_id, payer_id)
    if row is None:
        row = CoverageRow(**values)
        session.add(row)
    else:
        values["subscriber"] = row.subscriber
        if keep_dates:
            values.update(start_date=row.start_date, end_date=row.end_date)
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return row.id


def _refuse_clash(session: Session, patient_id: int, payer_id: int, coverage: Coverage,
                  coverage_id: int | None) -> None:
    others = select(CoverageRow.id).where(CoverageRow.patient_id == patient_id)
    if coverage_id is not None:
        others = others.where(CoverageRow.id != coverage_id)
    same = others.where(CoverageRow.payer_id == payer_id,
                        CoverageRow.member_id == coverage.member_id)
    if session.scalars(same).first() is not None:
        raise ConflictError(f"the patient already has a coverage with payer "
                            f"{coverage.payer_id} and member id {coverage.member_id}; "
                            "edit that one")
    if coverage.sequence not in ("primary", FORMER) and session.scalars(
            others.where(CoverageRow.sequence == coverage.sequence)).first() is not None:
        raise ConflictError(f"the patient already has a {coverage.sequence} coverage; "
                            "edit that one")
