"""Code stored visits into claims (status ``draft``), in one unit of work per call.

The flow per chunk of visits is: load the visits → ``coding.code_visit`` → (scrub: see
``_scrub`` below) → store claims, lines, first status and findings. Visits that already have a
claim are skipped, so coding twice is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from rehabill.coding import CodingResult, UnitMethod, code_visit
from rehabill.domain import ClaimStatus, Finding, has_errors
from rehabill.reference import Reference, load
from rehabill.store import claims as store_claims
from rehabill.store import visits as store_visits
from rehabill.store.bulk import CHUNK

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class CodingReport:
    """What ``code_claims`` did: claims made (by visit id) and the findings coding returned."""

    coded: dict[str, int] = field(default_factory=dict)
    with_errors: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON for scripts."""
        return {"claims": len(self.coded), "with_errors": self.with_errors,
                "findings": [f.as_dict() for f in self.findings]}


def code_claims(session: Session, *, visit_ids: Sequence[str] | None = None,
                method: UnitMethod | None = None, reference: Reference | None = None,
                actor: str = "", on_progress: Progress | None = None) -> CodingReport:
    """Code the stored visits that have no claim yet and store their claims as ``draft``.

    Args:
        session: the caller's unit of work (``services.uow.unit_of_work``); not committed here.
        visit_ids: only these visits (default: every visit without a claim).
        method: force a unit method (default: by each visit's plan, ``CodingOptions.for_plan``).
        reference: reference tables (default: the shipped ones).
        actor: who is coding (for the status history).
        on_progress: called with (visits done, visits to do).

    Returns:
        The claims made, by visit id, and the coding findings (stored with each claim).
    """
    ref = reference or load()
    todo = store_visits.visit_ids_without_claims(session, visit_ids)
    report = CodingReport()
    for start in range(0, len(todo), CHUNK):
        part = todo[start:start + CHUNK]
        visits = store_visits.load_visits(session, part)
        new: list[store_claims.NewClaim] = []
        for row_id in part:
            result = code_visit(visits[row_id], method=method, reference=ref)
            findings = result.findings + _scrub(result)
            new.append(store_claims.NewClaim(row_id, result.claim, findings,
                                             result.units.method.value))
            report.findings.extend(findings)
            if has_errors(findings):
                report.with_errors.append(result.claim.claim_id)
        ids = store_claims.save_claims(session, new, status=ClaimStatus.DRAFT, actor=actor)
        report.coded.update({visits[v].visit_id: c for v, c in ids.items()})
        if on_progress is not None:
            on_progress(start + len(part), len(todo))
    return report


def _scrub(result: CodingResult) -> tuple[Finding, ...]:
    """SCRUBBING GOES HERE (after the rules branch is merged).

    Call ``rules.scrub(...)`` on ``result.claim`` and return its findings; then, in
    ``code_claims``, give each ``NewClaim`` ``status=ClaimStatus.HELD`` when the findings hold
    an error and ``ClaimStatus.SCRUBBED`` otherwise (``NewClaim.status`` overrides the
    ``save_claims`` default per claim), and pass ``stage="scrub"`` if the findings should be
    told apart from coding's. Until then claims stay ``draft``.
    """
    return ()
