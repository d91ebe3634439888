"""The whole billing cycle for the demo, the end-to-end test and the benchmark.

``write_visit_file`` writes generated visits as a DESIGN.md visit file; ``simulate_payers``
lets the payer simulator answer every 837P in the outbox (999, 277CA, 835 into the inbox, one
set of answers per 837 transaction set so each 999 echoes its GS06/ST02); ``run_cycle`` runs
import → scrub → batch → simulate → acknowledgments → posting and times each stage.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import Visit
from rehabill.domain.collector import collector_paused
from rehabill.domain.serialize import visit_to_json
from rehabill.errors import InputError
from rehabill.services import billing, icd10, scrubbing
from rehabill.services.imports import (
    ImportReport,
    PreparedFile,
    import_file,
    import_prepared,
    prepare_file,
)
from rehabill.simulate.payer import (
    DenialRates,
    PayerSimulator,
    claims_from_837p,
    profile_for,
    write_files,
)
from rehabill.store import make_engine, make_session_factory
from rehabill.x12.p837_reader import read_837p_text
from rehabill.x12.tokens import Delimiters, detect_delimiters

Factory = sessionmaker[Session]
Stage = Callable[[str], None]


def write_visit_file(visits: Sequence[Visit], path: Path) -> Path:
    """Write visits as a DESIGN.md visit file (a JSON list)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        json.dump([visit_to_json(v) for v in visits], handle, separators=(",", ":"))
    return path


#: Below this much 837P text (about 5,000 claims) the payers answer in this process: starting
#: workers would cost more than it saves.
PARALLEL_BYTES = 4_000_000


def simulate_payers(batch_files: Sequence[Path], inbox: Path, *, seed: int = 7,
                    received: date | None = None, paid_on: date | None = None,
                    rates: DenialRates | None = None, not_after: date | None = None,
                    workers: int | None = None) -> list[Path]:
    """The payers' answers to each 837P file: ``inbox/<stem>-<ST02>.999/.277/.835``.

    One simulator per payer carries deductibles across the files; each 837 transaction set
    gets its own 999 (echoing its GS06 and ST02), 277CA and 835 payments. Payers that share
    no file are answered in parallel worker processes (fork), each payer's files in their
    order, so the answers are the same files, byte for byte, as one process writes.

    Args:
        batch_files: the 837P files, in the order they were sent.
        inbox: where the answers go.
        seed: the simulators' seed (a payer's simulator gets seed + its first file's index).
        received: when the payers receive the files.
        paid_on: when they pay.
        rates: the random denial rates (default the simulator's).
        not_after: nothing is dated later than this.
        workers: processes to use (default: one per core for at least ``PARALLEL_BYTES``
            of 837P text, else this process alone).

    Returns:
        The files written, 999s and 277CAs first, then the 835s.
    """
    files = list(enumerate(batch_files))
    options = _Options(inbox, seed, received, paid_on, rates, not_after)
    with collector_paused():
        if workers is None:
            size = sum(path.stat().st_size for path in batch_files)
            workers = (os.cpu_count() or 1) if size >= PARALLEL_BYTES else 1
        parts = _by_payer(files) if workers > 1 else []
        if len(parts) > 1:
            written = _in_workers(parts, options, workers)
        else:
            written, _ = _simulate(files, options)
    order = {".999": 0, ".277": 1, ".835": 2}
    return sorted(written, key=lambda p: (order.get(p.suffix, 3), p.name))


@dataclass(frozen=True, slots=True)
class _Options:
    inbox: Path
    seed: int
    received: date | None
    paid_on: date | None
    rates: DenialRates | None
    not_after: date | None


Numbered = list[tuple[int, Path]]


def _in_workers(parts: list[Numbered], options: _Options, workers: int) -> list[Path]:
    """Each part in a worker; if two workers met the same payer after all (the scan in
    ``_by_payer`` is a guess from the NM1*PR names), everything again in this process."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(workers, len(parts)), mp_context=context) as pool:
        results = list(pool.map(_simulate, parts, [options] * len(parts)))
    seen: set[str] = set()
    for _, payers in results:
        if seen & payers:
            return _simulate(sorted(f for part in parts for f in part), options)[0]
        seen |= payers
    return [path for written, _ in results for path in written]


def _by_payer(files: Numbered) -> list[Numbered]:
    """The files in parts that share no payer (by the NM1*PR payer ids each file names),
    each part's files in their order, the biggest parts first."""
    parts: list[tuple[set[str], Numbered, int]] = []
    for number, path in files:
        text = path.read_text(encoding="utf-8")
        payers, files_of, size = _payer_ids(text), [(number, path)], len(text)
        for part in [p for p in parts if p[0] & payers]:
            parts.remove(part)
            payers, files_of, size = payers | part[0], part[1] + files_of, size + part[2]
        parts.append((payers, files_of, size))
    return [sorted(numbered) for _, numbered, _ in sorted(parts, key=lambda p: -p[2])]


def _payer_ids(text: str) -> set[str]:
    """The NM109 of every NM1*PR (loop 2010BB) in an 837P, or {""} when there is none: the
    payers the file's claims will name (a quick guess, checked in ``_in_workers``)."""
    delimiters, _ = detect_delimiters(text)
    if delimiters is None:
        return {""}
    e, t = re.escape(delimiters.element), re.escape(delimiters.segment)
    found = re.findall(f"{t}\\s*NM1{e}PR{e}(?:[^{e}{t}]*{e}){{7}}([^{e}{t}]*)", text)
    return set(found) or {""}


def _simulate(files: Numbered, options: _Options) -> tuple[list[Path], set[str]]:
    """Answer the files in order; the paths written and the payers met."""
    sims: dict[str, PayerSimulator] = {}
    written: list[Path] = []
    for number, path in files:
        text = path.read_text(encoding="utf-8")
        delimiters, _ = detect_delimiters(text, str(path))
        if delimiters is None:
            continue
        submitter = _interchange_sender(text, delimiters)
        # One pass over the text, no Segment per segment: the same 837 sets and claims as
        # tokenize + split_transactions + read_837p (tests/x12/test_p837_reader.py).
        for txn in read_837p_text(text, str(path))[0]:
            claims = claims_from_837p(txn)
            if not claims:
                continue
            payer_id = claims[0].visit.coverage.payer_id
            sim = sims.get(payer_id)
            if sim is None:
                profile = replace(profile_for(claims[0].visit.coverage.plan),
                                  payer_id=payer_id)
                if options.rates is not None:
                    profile = replace(profile, rates=options.rates)
                sim = sims[payer_id] = PayerSimulator(profile, seed=options.seed + number)
            answer = sim.adjudicate(claims, received=options.received,
                                    paid_on=options.paid_on, not_after=options.not_after,
                                    group_control_number=txn.group_control_number,
                                    set_control_number=txn.control_number)
            written.extend(write_files(answer, options.inbox,
                                       f"{path.stem}-{txn.control_number}",
                                       payer_id=payer_id, submitter_id=submitter))
    return written, set(sims)


def _interchange_sender(text: str, delimiters: Delimiters) -> str:
    """ISA06 of the file (detect_delimiters found its ISA), stripped: the first segment as
    ``tokenize`` splits it, without splitting the rest of the file."""
    strip = "\r\n\ufeff \t"
    first = text.lstrip(strip + delimiters.segment).split(delimiters.segment, 1)[0]
    elements = first.strip(strip).split(delimiters.element)
    return elements[6].strip() if len(elements) > 6 else ""


@dataclass(slots=True)
class CycleResult:
    """What one run of the cycle did, with the seconds each stage took."""

    timings: dict[str, float] = field(default_factory=dict)
    #: CPU seconds of the thread that ran each stage (the billers' helper process and the
    #: database server not included).
    cpu: dict[str, float] = field(default_factory=dict)
    imported: ImportReport | None = None
    scrub: billing.ScrubReport | None = None
    batch: billing.BatchReport | None = None
    acks: list[billing.AckReport] = field(default_factory=list)
    posts: list[billing.PostReport] = field(default_factory=list)
    inbox_files: list[Path] = field(default_factory=list)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time a stage into ``timings`` (wall) and ``cpu`` (this thread's CPU)."""
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start
            self.cpu[stage] = self.cpu.get(stage, 0.0) + time.thread_time() - cpu


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

    paths, _ = _bill(result, factory, visit_file, outbox=outbox, today=today, actor=actor,
                     stage=stage)
    with stage("simulate"):
        result.inbox_files = simulate_payers(paths, inbox, seed=seed, rates=rates,
                                             not_after=today, received=received,
                                             paid_on=paid_on)
    _read_answers(result, factory, result.inbox_files, actor=actor, stage=stage)
    return result


def _bill(result: CycleResult, factory: Factory, visit_file: Path, *, outbox: Path,
          today: date, actor: str, stage: Callable[[str], AbstractContextManager[None]],
          prepared: _Ahead | None = None, next_file: Path | None = None
          ) -> tuple[list[Path], _Ahead | None]:
    """The practice's side: import → scrub → batch; the batch files written.

    ``prepared``: the file is being prepared in the helper process (``_Ahead``). Once the
    file is imported, ``next_file`` (the next month's) starts being prepared there, before
    the scrub's work is sent, and is returned with the files.
    """
    with stage("import"):
        if prepared is None:
            result.imported = import_file(factory, visit_file, actor=actor)
        else:
            result.imported = import_prepared(factory, prepared.result(factory), actor=actor)
    ahead = _ahead(factory, next_file)
    with stage("scrub"):
        result.scrub = billing.scrub_stored_claims(factory, today=today, actor=actor)
    with stage("batch"):
        result.batch = billing.build_batch(factory, outbox=outbox, today=today, actor=actor)
    return [Path(f.path) for f in result.batch.files], ahead


#: From this size of visit file on (about 1,000 visits), ``run_months`` prepares the next
#: month's file in the billers' helper process (``scrubbing.helper_for``) while this process
#: scrubs and batches the month just imported; a smaller one is prepared when it is imported.
PREPARE_AHEAD_BYTES = 1_500_000


class _Ahead:
    """A visit file being prepared (``imports.prepare_file``) in the billers' helper process.

    The helper is one process taking its tasks in turn: the file is prepared before the
    scrub's pieces sent after it, while this process takes the scrub's pieces from the back
    (``scrubbing.share_out``), so the parsing overlaps the month's scrub. A file that cannot
    be used raises its ``InputError`` from ``result``, when the month is imported, as the
    import in this process raises it; if the helper died, the file is prepared here.
    """

    def __init__(self, helper: scrubbing.Helper, path: Path) -> None:
        self.path = path
        self.future = helper.submit(_prepare_there, path)

    def result(self, factory: Factory) -> PreparedFile:
        """The prepared file (waiting for the helper if it is not done yet)."""
        try:
            prepared = self.future.result()
        except BrokenProcessPool:
            return prepare_file(factory, self.path)
        if isinstance(prepared, InputError):
            raise prepared
        return prepared


def _prepare_there(factory: Factory, path: Path) -> PreparedFile | InputError:
    """``prepare_file`` in the helper process; an unusable file's ``InputError`` comes back as
    a value, to be raised in the billers' process as an import there raises it."""
    try:
        return prepare_file(factory, path)
    except InputError as error:
        return error


def _ahead(factory: Factory, path: Path | None) -> _Ahead | None:
    """Start preparing ``path`` in the helper process, or None (no next file, a small one, or
    no helper for these books: in memory, or no fork)."""
    if path is None:
        return None
    try:
        size = path.stat().st_size
    except OSError:  # the import reports it, when the month comes
        return None
    # The helper may be forked here, and the month's scrub comes next: it inherits the
    # ICD-10-CM table instead of reading it again
    icd10.code_set()
    helper = scrubbing.helper_for(factory, size, PREPARE_AHEAD_BYTES)
    return None if helper is None else _Ahead(helper, path)


def _read_answers(result: CycleResult, factory: Factory, files: Sequence[Path], *,
                  actor: str, stage: Callable[[str], AbstractContextManager[None]]) -> None:
    """The payers' answers: acknowledgments (999, 277CA), then the 835s posted."""
    _read_acks(result, factory, files, actor=actor, stage=stage)
    _post_eras(result, factory, files, actor=actor, stage=stage)


def _read_acks(result: CycleResult, factory: Factory, files: Sequence[Path], *,
               actor: str, stage: Callable[[str], AbstractContextManager[None]]) -> None:
    with stage("acknowledgments"):
        for path in files:
            if path.suffix in (".999", ".277"):
                result.acks.append(billing.read_acknowledgments(factory, path, actor=actor))


def _post_eras(result: CycleResult, factory: Factory, files: Sequence[Path], *,
               actor: str, stage: Callable[[str], AbstractContextManager[None]]) -> None:
    with stage("posting"):
        for path in files:
            if path.suffix == ".835":
                result.posts.append(billing.post_remittance(factory, path, actor=actor))


@dataclass(frozen=True, slots=True)
class Month:
    """One billing run of ``run_months``: the visits, the run date and the payers' dates."""

    visit_file: Path
    today: date
    received: date | None = None
    paid_on: date | None = None
    seed: int = 7


def _answer(paths: Sequence[Path], inbox: Path, month: Month, rates: DenialRates | None
            ) -> tuple[list[Path], float, float]:
    """``simulate_payers`` in the payers' process, with the wall and CPU seconds it took (its
    worker processes' CPU included)."""
    start, cpu = time.perf_counter(), _cpu_with_children()
    files = simulate_payers(paths, inbox, seed=month.seed, rates=rates, not_after=month.today,
                            received=month.received, paid_on=month.paid_on)
    return files, time.perf_counter() - start, _cpu_with_children() - cpu


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, ended = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def run_months(factory: Factory, months: Sequence[Month], *, outbox: Path, inbox: Path,
               actor: str = "demo", rates: DenialRates | None = None,
               overlap: bool = True) -> CycleResult:
    """Bill month after month while the payers answer and a clerk posts, each in turn.

    As in a practice, several kinds of work go on at once: the billers import, scrub and
    batch each month; the payers adjudicate what was sent (the payer simulator, in a second
    process); one clerk reads each month's acknowledgments as they arrive and another posts
    its 835s once they are read (each clerk in a process of its own, with its own connection
    to the books), while the billers go on with the next month. The months stay in order
    within each kind of work (a month's answers are read only after its batches were sent,
    its 835s posted only after its acknowledgments were read, and each after the month
    before's).
    Nothing billing reads is written by posting (the scrubber's year-to-date therapy amounts
    come with the visits), so the books are the same as from ``run_cycle`` month by month;
    on SQLite both writers take the write lock when they begin
    (``make_session_factory(immediate=True)``), so they queue instead of failing. An in-memory
    database cannot be shared with another process: there the answers are read here, after
    the next month is billed. With ``overlap=False`` every month runs through ``run_cycle``
    in turn.
    On shared books the next month's file is prepared (read and parsed, ``prepare_file``) in
    the billers' helper process while this one scrubs and batches the month just imported
    (``_Ahead``); its import then only writes.

    Returns:
        The whole run: each stage's seconds summed over the months ("simulate",
        "acknowledgments" and "posting" are the other processes' own time, spent while the
        billers worked) plus "waiting for payers", the time the billers' process sat idle
        waiting for answers, and every report.
    """
    total = CycleResult()
    if not overlap:
        for month in months:
            _merge(total, run_cycle(factory, month.visit_file, outbox=outbox, inbox=inbox,
                                    today=month.today, seed=month.seed, actor=actor,
                                    rates=rates, received=month.received,
                                    paid_on=month.paid_on))
        return total
    url = _shared_url(factory)
    billers = factory if url is None else _writers(factory)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as payers, \
            ProcessPoolExecutor(max_workers=1, mp_context=context) as acks_clerk, \
            ProcessPoolExecutor(max_workers=1, mp_context=context) as posting_clerk, \
            ThreadPoolExecutor(max_workers=1) as relay:
        clerks = (acks_clerk, posting_clerk)
        answered: list[Future[tuple[CycleResult, Future[CycleResult]]]] = []
        pending: Future[tuple[list[Path], float, float]] | None = None
        ahead: _Ahead | None = None  # the month's file, prepared in the helper process
        for index, month in enumerate(months):
            part = CycleResult()
            following = months[index + 1].visit_file \
                if url is not None and index + 1 < len(months) else None
            paths, ahead = _bill(part, billers, month.visit_file, outbox=outbox,
                                 today=month.today, actor=actor, stage=part.timed,
                                 prepared=ahead, next_file=following)
            _merge(total, part)
            answer = payers.submit(_answer, paths, inbox, month, rates)
            if url is not None:
                answered.append(relay.submit(_relay, clerks, answer, url, actor))
            elif pending is not None:
                _collect(total, factory, pending, actor)
            pending = answer
        if url is None and pending is not None:
            _collect(total, factory, pending, actor)
        waiting = CycleResult()
        with waiting.timed("waiting for payers"):
            parts: list[CycleResult] = []
            for future in answered:
                acks, posted = future.result()
                parts.extend((acks, posted.result()))
        for part in (*parts, waiting):
            _merge(total, part)
    return total


def _shared_url(factory: Factory) -> str | None:
    """The books' URL, for another process to open, or None for an in-memory SQLite."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _writers(factory: Factory) -> Factory:
    """The billers' sessions when another process writes the same books."""
    bind = factory.kw["bind"]
    return make_session_factory(bind, immediate=True)


def _relay(clerks: tuple[ProcessPoolExecutor, ProcessPoolExecutor],
           answer: Future[tuple[list[Path], float, float]], url: str, actor: str
           ) -> tuple[CycleResult, Future[CycleResult]]:
    """Hand a month's answers to the clerks as soon as the payers have sent them (runs in a
    thread of the billers' process, one month after the other): its acknowledgments are read
    by one clerk, then its 835s are given to the other to post, while the first goes on with
    the next month's acknowledgments. Each clerk keeps the months in order, and a month's
    835s are posted after its acknowledgments were read, as in turn."""
    files, seconds, cpu = answer.result()
    acks = clerks[0].submit(_clerk, "acks", url, files, actor).result()
    acks.timings["simulate"], acks.cpu["simulate"] = seconds, cpu
    acks.inbox_files.extend(files)
    return acks, clerks[1].submit(_clerk, "posting", url, files, actor)


_CLERK_ENGINE: dict[str, Engine] = {}


def _clerk(work: str, url: str, files: Sequence[Path], actor: str) -> CycleResult:
    """A clerk's process: a month's acknowledgments read (``work`` "acks") or its 835s
    posted ("posting"), timed."""
    engine = _CLERK_ENGINE.get(url)
    if engine is None:
        engine = _CLERK_ENGINE[url] = make_engine(url)
    part = CycleResult()
    does = _read_acks if work == "acks" else _post_eras
    does(part, make_session_factory(engine, immediate=True), files, actor=actor,
         stage=part.timed)
    return part


def _collect(total: CycleResult, factory: Factory,
             pending: Future[tuple[list[Path], float, float]], actor: str) -> None:
    part = CycleResult()
    with part.timed("waiting for payers"):
        files, seconds, cpu = pending.result()
    part.timings["simulate"], part.cpu["simulate"] = seconds, cpu
    part.inbox_files.extend(files)
    _read_answers(part, factory, files, actor=actor, stage=part.timed)
    _merge(total, part)


def _merge(total: CycleResult, part: CycleResult) -> None:
    for name, seconds in part.timings.items():
        total.timings[name] = total.timings.get(name, 0.0) + seconds
    for name, seconds in part.cpu.items():
        total.cpu[name] = total.cpu.get(name, 0.0) + seconds
    total.scrub = part.scrub if total.scrub is None or part.scrub is None else \
        billing.ScrubReport(total.scrub.coded + part.scrub.coded,
                            total.scrub.scrubbed + part.scrub.scrubbed,
                            total.scrub.held + part.scrub.held)
    total.batch = part.batch if total.batch is None or part.batch is None else \
        billing.BatchReport(total.batch.kind, total.batch.files + part.batch.files)
    total.acks.extend(part.acks)
    total.posts.extend(part.posts)
    total.inbox_files.extend(part.inbox_files)
