"""The whole billing cycle for the demo, the end-to-end test and the benchmark.

``write_visit_file`` writes generated visits as a DESIGN.md visit file; ``simulate_payers``
lets the payer simulator answer every 837P in the outbox (999, 277CA, 835 into the inbox, one
set of answers per 837 transaction set so each 999 echoes its GS06/ST02); ``run_cycle`` runs
import → scrub → batch → simulate → acknowledgments → posting and times each stage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import Visit
from rehabill.domain.serialize import visit_to_json
from rehabill.services import billing, collector
from rehabill.services.imports import ImportReport, import_file
from rehabill.simulate.payer import (
    DenialRates,
    PayerSimulator,
    claims_from_837p,
    profile_for,
    write_files,
)
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837_reader import read_837p
from rehabill.x12.tokens import tokenize

Factory = sessionmaker[Session]
Stage = Callable[[str], None]


def write_visit_file(visits: Sequence[Visit], path: Path) -> Path:
    """Write visits as a DESIGN.md visit file (a JSON list)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        json.dump([visit_to_json(v) for v in visits], handle, separators=(",", ":"))
    return path


def simulate_payers(batch_files: Sequence[Path], inbox: Path, *, seed: int = 7,
                    received: date | None = None, paid_on: date | None = None,
                    rates: DenialRates | None = None, not_after: date | None = None
                    ) -> list[Path]:
    """The payers' answers to each 837P file: ``inbox/<stem>-<ST02>.999/.277/.835``.

    One simulator per payer carries deductibles across the files; each 837 transaction set
    gets its own 999 (echoing its GS06 and ST02), 277CA and 835 payments.

    Returns:
        The files written, 999s and 277CAs first, then the 835s.
    """
    with collector.paused():
        written = _simulate(batch_files, inbox, seed=seed, received=received, paid_on=paid_on,
                            rates=rates, not_after=not_after)
    order = {".999": 0, ".277": 1, ".835": 2}
    return sorted(written, key=lambda p: (order.get(p.suffix, 3), p.name))


def _simulate(batch_files: Sequence[Path], inbox: Path, *, seed: int, received: date | None,
              paid_on: date | None, rates: DenialRates | None, not_after: date | None
              ) -> list[Path]:
    sims: dict[str, PayerSimulator] = {}
    written: list[Path] = []
    for number, path in enumerate(batch_files):
        text = path.read_text(encoding="utf-8")
        delimiters, segments, findings = tokenize(text, str(path))
        if delimiters is None:
            continue
        submitter = segments[0].get(6).strip() if segments else "SUBMITTER"
        for txn in split_transactions(segments, findings, str(path)):
            if txn.set_id != "837":
                continue
            claims = claims_from_837p(read_837p(txn, delimiters, str(path)))
            if not claims:
                continue
            payer_id = claims[0].visit.coverage.payer_id
            sim = sims.get(payer_id)
            if sim is None:
                profile = replace(profile_for(claims[0].visit.coverage.plan),
                                  payer_id=payer_id)
                if rates is not None:
                    profile = replace(profile, rates=rates)
                sim = sims[payer_id] = PayerSimulator(profile, seed=seed + number)
            answer = sim.adjudicate(claims, received=received, paid_on=paid_on,
                                    not_after=not_after,
                                    group_control_number=txn.group.get(6),
                                    set_control_number=txn.control_number)
            written.extend(write_files(answer, inbox, f"{path.stem}-{txn.control_number}",
                                       payer_id=payer_id, submitter_id=submitter))
    return written


@dataclass(slots=True)
class CycleResult:
    """What one run of the cycle did, with the seconds each stage took."""

    timings: dict[str, float] = field(default_factory=dict)
    imported: ImportReport | None = None
    scrub: billing.ScrubReport | None = None
    batch: billing.BatchReport | None = None
    acks: list[billing.AckReport] = field(default_factory=list)
    posts: list[billing.PostReport] = field(default_factory=list)
    inbox_files: list[Path] = field(default_factory=list)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time a stage into ``timings``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


def run_cycle(factory: Factory, visit_file: Path, *, outbox: Path, inbox: Path, today: date,
              seed: int = 7, actor: str = "demo", rates: DenialRates | None = None,
              received: date | None = None, paid_on: date | None = None,
              on_stage: Stage | None = None) -> CycleResult:
    """Import → scrub → batch (837P) → simulate payers → read acks → post ERAs, timed.

    Args:
        factory: the books' session factory (migrated).
        visit_file: the visits to import.
        outbox: where batches go.
        inbox: where the simulated payers' answers go.
        today: the run date (timely filing, batch names).
        seed: the payer simulator's seed.
        actor: who runs it (status history, audit).
        rates: the simulator's random denial rates (default its own).
        received: when the payers receive the batches (default a week after the last visit).
        paid_on: when they pay (default two weeks after they receive).
        on_stage: called with each stage's name as it starts (progress display).
    """
    result = CycleResult()

    def stage(name: str) -> AbstractContextManager[None]:
        if on_stage is not None:
            on_stage(name)
        return result.timed(name)

    with stage("import"):
        result.imported = import_file(factory, visit_file, actor=actor)
    with stage("scrub"):
        result.scrub = billing.scrub_stored_claims(factory, today=today, actor=actor)
    with stage("batch"):
        result.batch = billing.build_batch(factory, outbox=outbox, today=today, actor=actor)
    with stage("simulate"):
        paths = [Path(f.path) for f in result.batch.files]
        result.inbox_files = simulate_payers(paths, inbox, seed=seed, rates=rates, not_after=today,
                                             received=received, paid_on=paid_on)
    with stage("acknowledgments"):
        for path in result.inbox_files:
            if path.suffix in (".999", ".277"):
                result.acks.append(billing.read_acknowledgments(factory, path, actor=actor))
    with stage("posting"):
        for path in result.inbox_files:
            if path.suffix == ".835":
                result.posts.append(billing.post_remittance(factory, path, actor=actor))
    return result
