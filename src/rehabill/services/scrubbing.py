"""Scrub visits before they are billed: the one path every claim takes into a batch or a form.

``prepare_claims`` codes each visit under its payer's policy, runs every scrubber rule and the
837P guide's own checks, and splits the visits into claims to send and visits held back with
their findings. ``rehabill x12 837p``, ``rehabill cms1500``, ``rehabill scrub`` and the web app
all use it, so a claim can only leave through the scrubber.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from rehabill.coding import CodingOptions, CodingResult, UnitMethod, code_visit
from rehabill.domain import Claim, ClaimStatus, Finding, Visit, has_errors
from rehabill.reference import Reference
from rehabill.reference import load as load_reference
from rehabill.rules import Coder, RuleContext, ScrubSettings, scrub, scrub_visits
from rehabill.rules.coder import coding_options
from rehabill.rules.policy import Policy, shipped_policies, with_override
from rehabill.services import icd10
from rehabill.services.uow import unit_of_work
from rehabill.store import claims as store_claims
from rehabill.store import make_engine, make_session_factory, mapping
from rehabill.store import visits as store_visits
from rehabill.x12.p837 import check_claim, grouping_key


def default_settings(today: date, policy: Policy | None = None,
                     method: UnitMethod | None = None) -> ScrubSettings:
    """The shipped reference and policies, the ICD-10-CM code set, and the policy's coder.

    Args:
        today: the date claims would be sent (timely filing is judged against it).
        policy: a ``--payer-policy`` file's policy, overriding the shipped one for its plan.
        method: force a unit method for every payer (otherwise each policy's own).
    """
    icd10.code_set()  # loaded now, so a helper process forked for this run inherits it
    settings = ScrubSettings(reference=load_reference(), today=today,
                             policies=with_override(shipped_policies(), policy),
                             icd=icd10.check)
    if method is not None:
        settings = replace(settings, coder=_coder_with_method(method))
    return settings


def _coder_with_method(method: UnitMethod) -> Coder:
    def coder(visit: Visit, policy: Policy, reference: Reference
              ) -> tuple[Claim | None, tuple[Finding, ...]]:
        options = replace(coding_options(policy), method=method)
        result = code_visit(visit, reference=reference, options=options)
        return result.claim, result.findings
    return coder


@dataclass(frozen=True, slots=True)
class Prepared:
    """The claims to send and the visits held back, with their findings."""

    claims: tuple[Claim, ...]
    held: tuple[tuple[str, tuple[Finding, ...]], ...]
    warnings: tuple[Finding, ...]


def prepare_claims(visits: Sequence[Visit], input_findings: Sequence[Finding],
                   settings: ScrubSettings) -> Prepared:
    """Scrub each visit; hold back those with error findings (input problems included).

    Args:
        visits: the parsed visits.
        input_findings: the parser's findings (their visits could not be built).
        settings: the scrub run's settings.

    Returns:
        Claims sorted for 837P grouping, held visits with every finding, and the warnings of
        the claims that go.
    """
    held: dict[str, list[Finding]] = {}
    for finding in input_findings:
        held.setdefault(finding.location.visit_id or "(file)", []).append(finding)
    claims: list[Claim] = []
    warnings: list[Finding] = []
    for result in scrub_visits(visits, settings):
        findings = list(result.findings)
        if result.claim is not None:
            # The 837P guide's checks, except where a scrubber rule already speaks of the field.
            seen = {f.location.field for f in findings if f.is_error}
            findings.extend(f for f in check_claim(result.claim)
                            if f.location.field not in seen)
        if result.claim is None or has_errors(findings):
            held.setdefault(result.visit.visit_id, []).extend(findings)
        else:
            claims.append(result.claim)
            warnings.extend(findings)
    claims.sort(key=grouping_key)
    return Prepared(tuple(claims), tuple((k, tuple(v)) for k, v in held.items()),
                    tuple(warnings))


LiveScrubber = Callable[[Visit, CodingResult], tuple[Finding, ...]]
OptionsFor = Callable[[Visit], CodingOptions]


def live_scrubber(settings: ScrubSettings) -> tuple[OptionsFor, LiveScrubber]:
    """What the web app's live preview needs: the payer's coding options and its rules.

    Args:
        settings: the run's settings (reference, today, policies, ICD checker).

    Returns:
        A function giving a visit's coding options from its payer policy, and one scrubbing a
        visit already coded under them (every rule, as ``rehabill scrub`` runs it).
    """

    def options_for(visit: Visit) -> CodingOptions:
        return coding_options(settings.policies.for_plan(visit.coverage.plan)[0])

    def check(visit: Visit, result: CodingResult) -> tuple[Finding, ...]:
        policy, fallback = settings.policies.for_plan(visit.coverage.plan)
        ctx = RuleContext(settings.reference, policy, settings.today, result.claim,
                          settings.icd, fallback)
        return scrub(visit, ctx)

    return options_for, check


# ------------------------------------------------------------------- a helper process

#: The helper process's pool (one per process that made it: a fork does not inherit it) and,
#: inside the helper, its own session factories by database URL.
_HELPER: dict[str, Any] = {}
_HELPER_LOCK = threading.Lock()
T = TypeVar("T")


class Helper:
    """A second process that takes a share of a bulk use case's work.

    It is forked once, on first use, and kept for the life of this process, so a use case
    pays no start-up: a task is sent as a few row ids or a file path and comes back as plain
    values. The helper opens its own database connections (by URL; none is shared across the
    fork) and only reads; this process writes, in its unit of work.
    """

    def __init__(self, pool: ProcessPoolExecutor, url: str, claims: _Claims) -> None:
        self._pool = pool
        self._url = url
        self.claims = claims

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(session_factory, *args)`` in the helper; its result comes back pickled."""
        return self._pool.submit(_run_in_helper, self._url, fn, *args)

    def offer(self, ticket: int, fn: Callable[..., T], *args: Any) -> Future[T | None]:
        """``submit``, unless this process takes the piece first (``_Claims``): the helper
        then skips it and the future's result is None."""
        return self._pool.submit(_run_if_free, self._url, ticket, fn, *args)


#: Slots in the table through which the two processes claim pieces of shared work.
_SLOTS = 4096


class _Claims:
    """Who does each piece of shared work: this process or the helper, whichever takes it
    first.

    A future handed to a process pool can no longer be cancelled once the pool has queued it
    for its worker (``ProcessPoolExecutor`` queues one call ahead), so a piece queued behind
    a long task (a visit file prepared ahead) would keep this process waiting for work the
    helper has not begun. Instead every piece gets a ticket, and slot ``ticket % _SLOTS`` of
    a table in shared memory says who took it: +ticket this process, -ticket the helper. The
    table and its lock are made before the helper is forked, which inherits them.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._lock = context.Lock()
        self._slots = context.RawArray("q", _SLOTS)
        self._next = 1

    def tickets(self, count: int) -> list[int]:
        """Fresh tickets for ``count`` pieces (in the process that shares the work)."""
        start = self._next
        self._next += count
        return list(range(start, start + count))

    def take(self, ticket: int, *, helper: bool) -> bool:
        """Take the piece unless the other process has; True when the caller does it."""
        slot, mine = ticket % _SLOTS, -ticket if helper else ticket
        with self._lock:
            if self._slots[slot] == -mine:
                return False
            self._slots[slot] = mine
            return True


def helper_for(factory: sessionmaker[Session], work: int, threshold: int) -> Helper | None:
    """The helper process for ``work`` items on these books, or None when the work is too
    small to be worth sending (below ``threshold``), the books are in memory or held in an open
    transaction (another process cannot see them), or the platform cannot fork.

    Only the main thread uses the helper (it is forked on first use): a fork copies no other
    thread, so a lock one of them held (a web server's request threads) would never be
    released in the helper; work started in other threads runs in their own process.
    """
    if work < threshold or not can_fork(factory):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    engine = factory.kw["bind"]
    pool, claims = _pool()
    return Helper(pool, engine.url.render_as_string(hide_password=False), claims)


def share_out(helper: Helper | None, pieces: Sequence[tuple[Any, ...]],
              here: Callable[..., T], there: Callable[..., T]) -> Callable[..., list[T]]:
    """Start sharing ``pieces`` of work with the helper; call the result (with what ``here``
    needs before a piece: a session...) to get every piece's result, in order.

    The helper takes pieces from the front (all are sent at once, so it works ahead while
    this process writes); this process, when asked for the results, takes pieces from the
    back for as long as the helper has not started them (``_Claims``), then collects the
    rest, which the helper took in order. So the split follows what each process actually
    gets done, on a busy machine too. ``here(*context, *piece)`` and ``there(factory,
    *piece)`` must give the same result.
    """
    tickets = helper.claims.tickets(len(pieces)) if helper is not None else []
    futures = [helper.offer(ticket, there, *piece)
               for ticket, piece in zip(tickets, pieces, strict=True)
               ] if helper is not None else []

    def mine(i: int) -> bool:
        """This process does piece ``i``: the helper has not begun it."""
        if helper is None or futures[i].cancel():
            return True
        return helper.claims.take(tickets[i], helper=False)

    def results(*context: Any) -> list[T]:
        out: list[Any] = [None] * len(pieces)
        last = len(pieces) - 1
        try:
            while last >= 0 and mine(last):
                out[last] = here(*context, *pieces[last])
                last -= 1
            for i in range(last + 1):
                try:
                    out[i] = futures[i].result()
                except BrokenProcessPool:  # the helper died (it only read): do it here
                    out[i] = here(*context, *pieces[i])
        except BaseException:
            for i, future in enumerate(futures):  # nothing of this work may go on after a
                if not future.cancel() and helper is not None:  # failure: what the helper
                    helper.claims.take(tickets[i], helper=False)  # has not begun, it skips
            wait(futures)
            raise
        return out

    return results


def can_fork(factory: sessionmaker[Session]) -> bool:
    """True when a forked process can open its own connections to these books."""
    engine = factory.kw.get("bind")
    # Sessions bound to one connection (a transaction still open, as in the tests) hold work
    # another process cannot see.
    if not isinstance(engine, Engine) or "fork" not in multiprocessing.get_all_start_methods():
        return False
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return bool(url.database not in (None, "", ":memory:"))
    return bool(url.get_backend_name() == "postgresql")


def _pool() -> tuple[ProcessPoolExecutor, _Claims]:
    with _HELPER_LOCK:
        pool: ProcessPoolExecutor | None = _HELPER.get("pool")
        if pool is None or _HELPER.get("pid") != os.getpid() or getattr(pool, "_broken", False):
            claims = _Claims()  # made before the fork: the helper inherits it
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_start_helper)
            _HELPER.update(pool=pool, pid=os.getpid(), claims=claims)
        return pool, _HELPER["claims"]


def _start_helper() -> None:
    claims = _HELPER.get("claims")
    _HELPER.clear()  # the parent's pool is not the helper's to use
    _HELPER["factories"] = {}
    _HELPER["parent claims"] = claims
    # What the fork inherited stays out of every collection (the collector is paused, as in
    # the bulk use cases that started the helper; each task's cycles are collected after it).
    gc.freeze()


def _run_if_free(url: str, ticket: int, fn: Callable[..., T], *args: Any) -> T | None:
    claims: _Claims | None = _HELPER.get("parent claims")
    if claims is not None and not claims.take(ticket, helper=True):
        return None  # the parent took this piece while it waited in the queue
    return _run_in_helper(url, fn, *args)


def _run_in_helper(url: str, fn: Callable[..., T], *args: Any) -> T:
    factories: dict[str, sessionmaker[Session]] = _HELPER["factories"]
    factory = factories.get(url)
    if factory is None:
        if len(factories) >= 4:  # books this helper no longer serves: close their pools
            factories.pop(next(iter(factories))).kw["bind"].dispose()
        factory = factories[url] = make_session_factory(make_engine(url))
    try:
        return fn(factory, *args)
    finally:
        gc.collect(0)  # only what this task made and left (survivors move on, not rescanned)


# ------------------------------------------------------------ scrubbing stored visits


class Coded(NamedTuple):
    """A stored visit coded and scrubbed, as plain values (a helper process sends these back:
    pickling the domain values would cost more than building them).

    ``group`` is the payer whose chosen policy scrubbed the visit ("" for the plan's own);
    ``claim`` is None when no claim could be coded, and ``findings`` are then why.
    """

    row_id: int
    visit_key: str
    group: str
    claim_key: str
    claim: store_claims.CodedClaim | None
    findings: tuple[Finding, ...] = ()


def code_stored(session: Session, visit_ids: Sequence[int], settings: ScrubSettings,
                by_payer: Mapping[str, ScrubSettings],
                memo: store_visits.VisitMemo | None = None) -> list[Coded]:
    """Load stored visits, code and scrub them (every rule and the 837P guide's checks).

    Visits are scrubbed in groups sharing one policy (same-day checks see their group), in
    the order of ``visit_ids``; ``in_scrub_order`` puts any mix of results back in that order.

    Args:
        session: a session on the books (only read).
        visit_ids: the visits' row ids.
        settings: the run's settings.
        by_payer: settings for the payers whose policy the practice chose.
        memo: the parents the run's earlier pieces read in this process (``load_visits``).

    Returns:
        One ``Coded`` per stored visit, group after group.
    """
    if memo is None:
        memo = store_visits.VisitMemo(session.get_bind().dialect)
    visits = store_visits.load_visits(session, visit_ids, memo=memo)
    row_of = {v.visit_id: row_id for row_id, v in visits.items()}
    groups: dict[str, list[Visit]] = {}
    for row_id in visit_ids:
        visit = visits.get(row_id)
        if visit is not None:
            payer = visit.coverage.payer_id if visit.coverage.payer_id in by_payer else ""
            groups.setdefault(payer, []).append(visit)
    # each coverage's payer row was read with it: the claims' payer ids are the rows' ids
    payers = memo.payer_row_ids()
    line_row = mapping.claim_line_row
    out: list[Coded] = []
    for payer, group in groups.items():
        for result in scrub_visits(group, by_payer.get(payer, settings)):
            row_id = row_of[result.visit.visit_id]
            found = list(result.findings)
            claim = result.claim
            if claim is None:
                out.append(Coded(row_id, result.visit.visit_id, payer, "", None, tuple(found)))
                continue
            extra = check_claim(claim)
            if extra:  # the guide's checks, but where a rule already speaks of the field
                seen = {f.location.field for f in found if f.is_error}
                found.extend(f for f in extra if f.location.field not in seen)
            status = ClaimStatus.HELD if has_errors(found) else ClaimStatus.SCRUBBED
            values = mapping.claim_values(
                claim, visit_id=row_id, payer_id=payers[claim.visit.coverage.payer_id],
                status=status, unit_method=coding_options(result.policy).method.value)
            lines = tuple([line_row(line) for line in claim.lines])
            out.append(Coded(row_id, result.visit.visit_id, payer, claim.claim_id,
                             store_claims.CodedClaim(row_id, values, lines, tuple(found),
                                                     status)))
    return out


def code_in_helper(factory: sessionmaker[Session], visit_ids: list[int], today: date,
                   policy: Policy | None, chosen: dict[str, str], run: str = "") -> list[Coded]:
    """``code_stored`` in the helper process: the run's settings rebuilt from what defines
    them (the date, a policy file's policy, the payers' chosen policies).

    The pieces of one scrub run (``run``, a token the run makes up: ``new_run``) share those
    settings and the parents read (``store_visits.VisitMemo``) in the helper, as they do in
    the process that shares the work out; a new run drops the last one's.
    """
    kept = _HELPER.get("scrub run")
    if kept is None or not run or kept[0] != (run, factory):
        settings = default_settings(today, policy)
        by_payer = payer_settings(settings, chosen) if policy is None else {}
        memo = store_visits.VisitMemo(factory.kw["bind"].dialect)
        kept = ((run, factory), settings, by_payer, memo)
        if run:
            _HELPER["scrub run"] = kept
    _, settings, by_payer, memo = kept
    with unit_of_work(factory) as session:
        return code_stored(session, visit_ids, settings, by_payer, memo)


def new_run() -> str:
    """A token naming one scrub run's pieces of work (``code_in_helper``)."""
    return uuid.uuid4().hex


def payer_settings(settings: ScrubSettings, chosen: Mapping[str, str]
                   ) -> dict[str, ScrubSettings]:
    """Settings per payer id for the payers whose policy the practice chose (admin page).

    A chosen name that is not a shipped policy (say a plan name an older import stored) is
    ignored, so that payer's visits keep the policy of their coverage's plan.

    Args:
        settings: the run's settings (policies by plan).
        chosen: policy names by payer id (``payers.policy``).

    Returns:
        For each payer with a known chosen policy, the settings with that policy forced.
    """
    book = shipped_policies()
    named = {p.name: p for p in (*book.by_plan.values(), book.default)}
    return {payer: replace(settings, policies=with_override(settings.policies, named[name]))
            for payer, name in chosen.items() if name in named}


def pieces_by_day(visit_ids: Sequence[int], days: Mapping[int, date], count: int
                  ) -> list[list[int]]:
    """The visits in at most ``count`` pieces of about the same size, each date of service
    wholly in one piece (a patient's visits of one day are scrubbed together), each piece in
    the order given. Visits without a date go with the first piece."""
    sizes: dict[date, int] = {}
    for row_id in visit_ids:
        day = days.get(row_id)
        if day is not None:
            sizes[day] = sizes.get(day, 0) + 1
    total = sum(sizes.values()) or 1
    count = max(1, count)
    piece_of: dict[date, int] = {}
    before = 0
    for day in sorted(sizes):  # a day goes where the middle of its visits falls
        piece_of[day] = min(count - 1, (2 * before + sizes[day]) * count // (2 * total))
        before += sizes[day]
    pieces: list[list[int]] = [[] for _ in range(count)]
    for row_id in visit_ids:
        day = days.get(row_id)
        pieces[piece_of[day] if day is not None else 0].append(row_id)
    return [p for p in pieces if p]


def in_scrub_order(visit_ids: Sequence[int], coded: Sequence[Coded]) -> list[Coded]:
    """Results in the order one ``code_stored`` call on ``visit_ids`` gives: group by group
    (in the order each group first appears), each group in the order of ``visit_ids``."""
    position = {row_id: i for i, row_id in enumerate(visit_ids)}
    first: dict[str, int] = {}
    for item in sorted(coded, key=lambda c: position[c.row_id]):
        first.setdefault(item.group, len(first))
    return sorted(coded, key=lambda c: (first[c.group], position[c.row_id]))
