"""What every rule shares: the ``Rule`` record, the per-claim ``RuleContext`` and helpers.

A rule is a plain function ``rule(visit, ctx) -> Iterable[Finding]``. The context carries
everything a rule may consult besides the visit: the reference tables, the payer policy, the
coded claim (None when coding was not run), the "today" of the run (timely filing is judged
against it, never against the wall clock) and an optional ICD-10-CM checker supplied by the
shell. Rules read; they never write and never raise on bad data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Final, Protocol

from rehabill.coding.claims import expected_allowed_total
from rehabill.domain.claim import Claim, ClaimLine
from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.visit import Credential, Discipline, Mode, Visit
from rehabill.reference import GROUP_CODES, PtpEdit, Reference
from rehabill.reference.tables import MueTable
from rehabill.rules.checks import ICD_FORMAT, deadline, is_mbi, npi_is_valid
from rehabill.rules.policy import Policy


class IcdStatus(StrEnum):
    """What the ICD-10-CM checker says about one code."""

    BILLABLE = "billable"
    HEADER = "header"
    UNKNOWN = "unknown"


IcdCheck = Callable[[str], IcdStatus]
"""A function the shell supplies (``rehabill.services.icd10.check``); the core stays pure."""


@dataclass(frozen=True, slots=True, eq=False)
class DayGroup:
    """One patient's visits on one date in a batch, indexed once for the same-day rules.

    ``scrub_visits`` builds one per patient-day and every visit of the day reads it through
    its own ``SameDay`` view, so a day of N visits costs O(N) to index and each rule question
    costs what it answers, not N. (Each visit used to carry a tuple of the N-1 others and the
    rules compared pairwise: N^2 for a file putting 100,000 visits on one patient-day.)

    Attributes:
        visits: the day's visits in batch order; one visit object may be listed twice.
        copies: how many times each visit object is listed, by ``id``.
        billing: per code, the visits billing it in batch order, as runs of one visit object
            listed again and again among them: (visit, its positions in ``visits``).
        billed: per code, how many listed visits bill it.
    """

    visits: tuple[Visit, ...]
    copies: Mapping[int, int]
    billing: Mapping[str, tuple[tuple[Visit, tuple[int, ...]], ...]]
    billed: Mapping[str, int]

    @classmethod
    def of(cls, visits: Iterable[Visit]) -> DayGroup:
        """Index ``visits`` (one patient, one date, batch order) in one pass."""
        listed = tuple(visits)
        copies: dict[int, int] = {}
        runs: dict[str, list[tuple[Visit, list[int]]]] = {}
        billed: dict[str, int] = {}
        for position, visit in enumerate(listed):
            copies[id(visit)] = copies.get(id(visit), 0) + 1
            for code in {s.code for s in visit.services}:
                billed[code] = billed.get(code, 0) + 1
                code_runs = runs.setdefault(code, [])
                if code_runs and code_runs[-1][0] is visit:
                    code_runs[-1][1].append(position)
                else:
                    code_runs.append((visit, [position]))
        return cls(listed, copies,
                   {code: tuple((v, tuple(ps)) for v, ps in rs) for code, rs in runs.items()},
                   billed)


NO_DAY = DayGroup((), {}, {}, {})


@dataclass(frozen=True, slots=True, eq=False)
class SameDay:
    """The patient's other visits on the visit's date in the batch: a ``DayGroup`` seen from
    one of its visits (every listed copy of that visit object is left out, as before).

    ``len()`` and truth count the other visits; ``billing`` and ``count_billing`` answer the
    duplicate check without walking the day.

    Attributes:
        day: the patient-day's index.
        seen_from: the visit the rules scrub, or None when ``day`` holds only the others.
    """

    day: DayGroup = NO_DAY
    seen_from: Visit | None = None

    @classmethod
    def of(cls, others: Iterable[Visit]) -> SameDay:
        """A view of ``others``, the patient's other visits that day (``scrub_visit``'s form)."""
        listed = tuple(others)
        return cls(DayGroup.of(listed)) if listed else NO_SAME_DAY

    def _own(self, code: str | None = None) -> int:
        """How many listed entries (billing ``code``, when given) are the visit itself."""
        own = self.seen_from
        if own is None or (code is not None and all(s.code != code for s in own.services)):
            return 0
        return self.day.copies.get(id(own), 0)

    def __len__(self) -> int:
        return len(self.day.visits) - self._own()

    def __bool__(self) -> bool:
        return len(self) > 0

    def count_billing(self, code: str) -> int:
        """How many other visits bill ``code`` (a visit listed twice counts twice)."""
        return self.day.billed.get(code, 0) - self._own(code)

    def billing(self, code: str, limit: int) -> list[tuple[int, Visit]]:
        """The first ``limit`` other visits billing ``code``, in batch order.

        Args:
            code: a procedure code.
            limit: how many to return at most.

        Returns:
            (position in the day, visit) pairs; the cost is O(limit), however long the day.
        """
        found: list[tuple[int, Visit]] = []
        for visit, positions in self.day.billing.get(code, ()):
            if len(found) >= limit:
                break
            if visit is not self.seen_from:  # a run of the visit itself is skipped whole
                found.extend((p, visit) for p in positions[:limit - len(found)])
        return found


NO_SAME_DAY = SameDay()


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may consult about one claim besides the visit itself.

    Attributes:
        reference: the shipped tables (``rehabill.reference.load()``).
        policy: the payer policy chosen for this visit's coverage plan.
        today: the date the claim would be sent; timely filing is judged against it.
        claim: the coded claim from ``rehabill.coding``, or None when coding was not run.
        icd: the ICD-10-CM checker, or None to check the code format only.
        policy_fallback: True when the plan named no known policy and the default was used.
        facts: the visit's shared facts; ``scrub`` fills them in (rules call ``facts_of``).
        same_day: the other visits of the same patient on the same date in the batch being
            scrubbed (``scrub_visits`` fills it in; empty for a visit scrubbed alone).
    """

    reference: Reference
    policy: Policy
    today: date
    claim: Claim | None = None
    icd: IcdCheck | None = None
    policy_fallback: bool = False
    facts: Facts | None = None
    same_day: SameDay = NO_SAME_DAY

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, reference: Reference, policy: Policy, today: date,
                 claim: Claim | None = None, icd: IcdCheck | None = None,
                 policy_fallback: bool = False, facts: Facts | None = None,
                 same_day: SameDay = NO_SAME_DAY) -> None:
        object.__setattr__(self, "reference", reference)
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "today", today)
        object.__setattr__(self, "claim", claim)
        object.__setattr__(self, "icd", icd)
        object.__setattr__(self, "policy_fallback", policy_fallback)
        object.__setattr__(self, "facts", facts)
        object.__setattr__(self, "same_day", same_day)


RuleFunction = Callable[[Visit, RuleContext], Iterable[Finding]]


class _Inputs(Protocol):
    """What ``compute_facts`` reads of a context: a ``RuleContext`` or the scrubber's own
    ``Inputs`` (which saves building a second context once the facts are known)."""

    @property
    def reference(self) -> Reference: ...
    @property
    def policy(self) -> Policy: ...
    @property
    def today(self) -> date: ...
    @property
    def claim(self) -> Claim | None: ...
    @property
    def icd(self) -> IcdCheck | None: ...
    @property
    def policy_fallback(self) -> bool: ...
    @property
    def same_day(self) -> SameDay: ...


class Inputs:
    """A ``RuleContext`` without its facts, for ``compute_facts`` on the scrubber's hot path.

    A plain slotted class with ``Final`` attributes (immutable to the type checker, and to
    the interpreter when mypyc compiles it): as cheap to build as a tuple interpreted, and
    native code compiled, where a NamedTuple's generated ``__new__`` stays interpreted.
    """

    __slots__ = ("claim", "icd", "policy", "policy_fallback", "reference", "same_day", "today")

    def __init__(self, reference: Reference, policy: Policy, today: date, claim: Claim | None,
                 icd: IcdCheck | None, policy_fallback: bool, same_day: SameDay) -> None:
        self.reference: Final = reference
        self.policy: Final = policy
        self.today: Final = today
        self.claim: Final = claim
        self.icd: Final = icd
        self.policy_fallback: Final = policy_fallback
        self.same_day: Final = same_day


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered rule: stable dotted code, severity, the function, a title and its source.

    ``applies``, when given, says from the payer policy alone whether the rule can ever fire
    (no KX rules for a payer without the KX threshold); ``needs`` names visit flags (``HAS_*``)
    and screens (``MAY_*``) without which it cannot fire (no NCCI rule without an NCCI pair).
    The scrubber leaves such rules out of the run; the function keeps its own checks, so
    calling it directly stays correct. Both exist for speed only.
    """

    code: str
    severity: Severity
    function: RuleFunction
    title: str
    source: str
    applies: Callable[[Policy], bool] | None = None
    needs: frozenset[str] = frozenset()


def service_location(visit: Visit, index: int, field: str = "") -> Location:
    """The location of ``visit.services[index]`` (line numbers are 1-based)."""
    path = f"services[{index}]" + (f".{field}" if field else "")
    return Location(visit_id=visit.visit_id, line=index + 1, field=path)


def visit_location(visit: Visit, field: str = "") -> Location:
    """The location of a visit-level field."""
    return Location(visit_id=visit.visit_id, field=field)


def finding(rule: Rule, message: str, location: Location, fix: str,
            *, auto_fix: bool = False) -> Finding:
    """A finding carrying the rule's code and severity."""
    return Finding(rule.code, rule.severity, message, location, fix, auto_fix)


def lines_for(claim: Claim | None, index: int) -> tuple[ClaimLine, ...]:
    """The coded claim's lines built from ``visit.services[index]`` (empty without a claim)."""
    if claim is None:
        return ()
    return tuple(line for line in claim.lines if line.service_index == index)


def coded_units(claim: Claim, index: int) -> int:
    """Units coding gave ``visit.services[index]``, summed over its lines (CQ/no-CQ splits)."""
    return sum(line.units for line in claim.lines if line.service_index == index)


class Facts:
    """What several rules need about one visit, worked out once per scrub (the hot path).

    One is built for every visit scrubbed, so it is a plain slotted class with ``Final``
    attributes (as ``Inputs``): immutable to the type checker (and compiled, to the
    interpreter), several times cheaper to build than a frozen dataclass.

    Attributes:
        discipline: the plan of care's discipline.
        codes: every service code on the visit.
        modifiers: per service, the modifiers billed: the documented ones, else the coded
            lines' (empty when neither exists).
        all_modifiers: every modifier billed anywhere on the visit.
        units: units billed per code: the coded claim's, else what the visit documents (an
            untimed service counts one unit, a timed one its documented units or none).
        timed_minutes: therapist plus assistant minutes of the timed services.
        assistant_minutes: assistant minutes of every service.
        one_on_one: every service was one-on-one.
        pairs: active NCCI PTP edits between two services, as (column-1 index, column-2
            index, edit).
        allowed_estimate: the claim's expected Medicare allowed amount (PFS national
            non-facility amount x units, 85% for CQ/CO lines, as coding reckons KX), or None
            when the policy has no KX threshold.
    """

    __slots__ = ("all_modifiers", "allowed_estimate", "assistant_minutes", "codes", "discipline",
                 "flags", "modifiers", "one_on_one", "pairs", "timed_minutes", "units")

    def __init__(self, discipline: Discipline, codes: frozenset[str],
                 modifiers: tuple[tuple[str, ...], ...], all_modifiers: frozenset[str],
                 units: Mapping[str, int], timed_minutes: int, assistant_minutes: int,
                 one_on_one: bool, pairs: tuple[tuple[int, int, PtpEdit], ...],
                 allowed_estimate: Decimal | None, flags: frozenset[str] = frozenset()) -> None:
        self.discipline: Final = discipline
        self.codes: Final = codes
        self.modifiers: Final = modifiers
        self.all_modifiers: Final = all_modifiers
        self.units: Final = units
        self.timed_minutes: Final = timed_minutes
        self.assistant_minutes: Final = assistant_minutes
        self.one_on_one: Final = one_on_one
        self.pairs: Final = pairs
        self.allowed_estimate: Final = allowed_estimate
        self.flags: Final = flags


# What a visit has, for ``Rule.needs``: a rule that needs a flag the visit lacks cannot fire.
HAS_ASSISTANT = "assistant"            # an assistant named, assistant minutes, or rendering
HAS_DOCUMENTED_UNITS = "documented_units"
HAS_DOCUMENTED_MODIFIERS = "documented_modifiers"
HAS_NCCI_PAIR = "ncci_pair"
HAS_GROUP = "group"                    # a group/concurrent mode or a group code
HAS_FUNCTIONAL = "functional"          # 97530, 97535, 97537 or 97542
HAS_PLAN = "plan_of_care"
HAS_AUTHORIZATION = "authorization"
HAS_SAME_DAY = "same_day"
HAS_TOTAL_TIME = "total_treatment_minutes"
HAS_PROGRESS_COUNT = "treatment_days_since_progress_report"
USES_DEFAULT_POLICY = "default_policy"
FUNCTIONAL_CODES = frozenset({"97530", "97535", "97537", "97542"})

# Screens: a cheap test that a rule *may* fire (a superset of the rule's own condition). The
# rule keeps its full check; the screen only lets the scrubber skip it on the clean majority.
NO_PLAN = "no_plan_of_care"
NO_AUTHORIZATION = "no_authorization"
MAY_DIAGNOSIS = "screen.diagnosis"              # none, badly written, unknown or header
MAY_NPI = "screen.npi"                          # an NPI failing its check digit
MAY_MEMBER_ID = "screen.member_id"              # not written as an MBI
MAY_REQUIRED_FIELD = "screen.required_field"    # an 837P-required field missing
MAY_UNKNOWN_CODE = "screen.unknown_code"
MAY_CODE_DISCIPLINE = "screen.code_discipline"  # a code outside the plan's discipline
MAY_NO_MINUTES = "screen.timed_without_minutes"
MAY_NO_ACTIVITY = "screen.timed_without_activity"
MAY_NO_GOAL = "screen.timed_without_goal"
MAY_NO_ASSISTANCE = "screen.functional_without_assistance"
MAY_NOT_COVERED = "screen.code_not_covered"
MAY_FILING = "screen.filing"                    # past, near or before the filing window
MAY_PLAN = "screen.plan_of_care"                # a plan whose dates or certification need a look
MAY_KX = "screen.kx"                            # KX billed, or past the KX/review amount
MAY_MUE = "screen.mue"                          # units of a code over its lowest MUE
MAY_AUTHORIZATION = "screen.authorization"      # out of its dates, or visits/units capped
MAY_SLPA = "screen.slpa"                        # an SLPA renders or assists
MAY_COVERAGE = "screen.coverage_dates"          # a date of service outside the coverage's
HAS_97530_97110 = "codes.97530+97110"
HAS_97530_97535 = "codes.97530+97535"


def _flags(visit: Visit, ctx: _Inputs, codes: frozenset[str], one_on_one: bool,
           assistant_minutes: int, has_pairs: bool, flags: set[str]) -> None:
    """Add the visit-level flags and screens (see the constants above) to ``flags``; the
    per-service ones (documented units and modifiers...) come from ``_walk_services``."""
    plan, add = visit.plan_of_care, flags.add
    if visit.assistant is not None or assistant_minutes > 0 \
            or visit.rendering_provider.credential.is_assistant:
        add(HAS_ASSISTANT)
    if has_pairs:
        add(HAS_NCCI_PAIR)
    if not one_on_one or not GROUP_CODES.isdisjoint(codes):
        add(HAS_GROUP)
    if not FUNCTIONAL_CODES.isdisjoint(codes):
        add(HAS_FUNCTIONAL)
        if "97530" in codes:
            if "97110" in codes:
                add(HAS_97530_97110)
            if "97535" in codes:
                add(HAS_97530_97535)
    add(NO_PLAN if plan is None else HAS_PLAN)
    auth = visit.authorization
    if auth is None:
        add(NO_AUTHORIZATION)
    else:
        add(HAS_AUTHORIZATION)
        if not auth.start <= visit.date_of_service <= auth.end or auth.units_approved is not None \
                or (auth.visits_approved is not None
                    and auth.visits_used + 1 > auth.visits_approved):
            add(MAY_AUTHORIZATION)
    coverage = visit.coverage
    if (coverage.start is not None or coverage.end is not None) \
            and not coverage.is_active_on(visit.date_of_service):
        add(MAY_COVERAGE)
    if visit.rendering_provider.credential is Credential.SLPA or (
            visit.assistant is not None and visit.assistant.credential is Credential.SLPA):
        add(MAY_SLPA)
    if ctx.same_day:
        add(HAS_SAME_DAY)
    if visit.total_treatment_minutes is not None:
        add(HAS_TOTAL_TIME)
    if visit.treatment_days_since_progress_report is not None:
        add(HAS_PROGRESS_COUNT)
    if ctx.policy_fallback:
        add(USES_DEFAULT_POLICY)
    _screen_identity(visit, ctx, add)
    if _may_filing(visit, ctx):
        add(MAY_FILING)
    if _may_plan(visit, ctx.policy):
        add(MAY_PLAN)


def _screen_identity(visit: Visit, ctx: _Inputs, add: Callable[[str], None]) -> None:
    if _may_diagnosis(visit.diagnoses, ctx.icd):
        add(MAY_DIAGNOSIS)
    if not _npis_valid(visit):
        add(MAY_NPI)
    if ctx.policy.name.startswith("medicare") and not is_mbi(visit.coverage.member_id):
        add(MAY_MEMBER_ID)
    if _may_required_field(visit):
        add(MAY_REQUIRED_FIELD)


_DIAGNOSIS_CACHE: dict[tuple[tuple[str, ...], IcdCheck | None], bool] = {}


def _may_diagnosis(diagnoses: tuple[str, ...], icd: IcdCheck | None) -> bool:
    """No diagnosis, or one that is badly written or not a billable code (cached per set)."""
    key = (diagnoses, icd)
    found = _DIAGNOSIS_CACHE.get(key)
    if found is None:
        found = not diagnoses or any(
            ICD_FORMAT.match(code) is None
            or (icd is not None and icd(code) is not IcdStatus.BILLABLE) for code in diagnoses)
        if len(_DIAGNOSIS_CACHE) >= 8192:
            _DIAGNOSIS_CACHE.clear()
        _DIAGNOSIS_CACHE[key] = found
    return found


def _npis_valid(visit: Visit) -> bool:
    """Every NPI on the visit passes its check digit (the NPIs ``identity.npi_invalid`` reads)."""
    if not (npi_is_valid(visit.billing_provider.npi)
            and npi_is_valid(visit.rendering_provider.npi)):
        return False
    if visit.assistant is not None and not npi_is_valid(visit.assistant.npi):
        return False
    if visit.supervising_provider is not None and not npi_is_valid(
            visit.supervising_provider.npi):
        return False
    plan = visit.plan_of_care
    if plan is not None and plan.certifying_npi and not npi_is_valid(plan.certifying_npi):
        return False
    return not visit.referring_npi or npi_is_valid(visit.referring_npi)


def _may_required_field(visit: Visit) -> bool:
    tax_id = visit.billing_provider.tax_id
    return (visit.patient.address is None or len(visit.billing_provider.address.zip) != 9
            or len(tax_id) != 9 or not tax_id.isdigit()
            or (visit.coverage.relationship != "self" and visit.coverage.subscriber is None))


def _may_filing(visit: Visit, ctx: _Inputs) -> bool:
    dos, today, policy = visit.date_of_service, ctx.today, ctx.policy
    if dos > today:
        return True
    last = deadline(dos, policy.timely_filing_months, policy.timely_filing_days)
    return today > last or (last - today).days <= policy.filing_warning_days


def _may_plan(visit: Visit, policy: Policy) -> bool:
    """The plan's dates, certification or certifying NPI may draw an episode finding."""
    plan = visit.plan_of_care
    if plan is None:
        return False
    dos = visit.date_of_service
    if not plan.start <= dos <= plan.end or (policy.plan_of_care_required
                                             and not plan.certifying_npi):
        return True
    days = policy.certification_days
    if days is not None:
        window = plan.start + _days(days)
        if (dos > window if plan.certified_on is None else plan.certified_on > window):
            return True
    recert = policy.recertification_days
    if recert is None:
        return False
    anchor = plan.certified_on or plan.start
    return dos > max(plan.start, anchor) + _days(recert)


@lru_cache(maxsize=256)
def _days(count: int) -> timedelta:
    return timedelta(days=count)


def facts_of(visit: Visit, ctx: RuleContext) -> Facts:
    """The context's facts when ``scrub`` worked them out, else computed now."""
    return ctx.facts if ctx.facts is not None else compute_facts(visit, ctx)


def compute_facts(visit: Visit, ctx: _Inputs) -> Facts:
    """Work out the shared facts of ``visit`` once (see ``Facts``).

    Args:
        visit: the documented visit.
        ctx: a ``RuleContext`` (its facts are not read) or the scrubber's ``Inputs``.

    Returns:
        The visit's facts, flags and screens.
    """
    claim = ctx.claim
    coded: dict[int, tuple[str, ...]] = {}
    units: dict[str, int] = {}
    if claim is not None:
        for line in claim.lines:
            code, index, mods = line.code, line.service_index, line.modifiers
            units[code] = units.get(code, 0) + line.units
            found = coded.get(index)
            if found is not None:  # a service on two lines (with and without CQ/CO)
                mods = found + mods
                # each modifier once, in the order first billed
                coded[index] = tuple(dict.fromkeys(mods))
            else:
                coded[index] = mods if len(mods) < 2 else tuple(dict.fromkeys(mods))
    plan = visit.plan_of_care
    discipline = plan.discipline if plan is not None and plan.discipline is not None \
        else _CREDENTIAL_DISCIPLINE[visit.rendering_provider.credential]
    flags: set[str] = set()
    modifiers, timed_total, assistant_total, one_on_one = _walk_services(
        visit, ctx, discipline, coded, units, flags)
    all_codes = frozenset([s.code for s in visit.services])
    pairs = _pairs(visit, ctx.reference)
    all_modifiers = frozenset().union(*modifiers)
    allowed = _allowed(visit, units, ctx) if ctx.policy.kx_threshold else None
    _flags(visit, ctx, all_codes, one_on_one, assistant_total, bool(pairs), flags)
    if allowed is not None and _may_kx(visit, discipline, allowed, all_modifiers, ctx):
        flags.add(MAY_KX)
    if _may_mue(units, ctx.reference.mue):
        flags.add(MAY_MUE)
    return Facts(discipline, all_codes, modifiers, all_modifiers, units, timed_total,
                 assistant_total, one_on_one, pairs, allowed, frozenset(flags))


def _walk_services(visit: Visit, ctx: _Inputs, discipline: Discipline,
                   coded: Mapping[int, tuple[str, ...]], units: dict[str, int], flags: set[str]
                   ) -> tuple[tuple[tuple[str, ...], ...], int, int, bool]:
    """One pass over the services: billed modifiers, minutes, mode, units and the screens
    for unknown or off-discipline codes, undocumented timed services, and documented units
    and modifiers."""
    codes, excluded, no_claim = ctx.reference.codes, ctx.policy.codes_not_covered, \
        ctx.claim is None
    add = flags.add
    modifiers: list[tuple[str, ...]] = []
    timed_total = assistant_total = 0
    one_on_one = True
    for index, service in enumerate(visit.services):
        code, documented, assistant = service.code, service.modifiers, service.assistant_minutes
        if documented:
            add(HAS_DOCUMENTED_MODIFIERS)
            modifiers.append(documented)
        else:
            modifiers.append(coded.get(index, ()))
        if service.units is not None:
            add(HAS_DOCUMENTED_UNITS)
        info = codes.get(code)
        is_timed = info is not None and info.timed
        if is_timed:
            total = service.minutes + assistant
            timed_total += total
            if total == 0:
                add(MAY_NO_MINUTES)
            if not service.activity.strip():
                add(MAY_NO_ACTIVITY)
            if not service.goal.strip():
                add(MAY_NO_GOAL)
        if info is None:
            add(MAY_UNKNOWN_CODE)
        elif discipline not in info.disciplines:
            add(MAY_CODE_DISCIPLINE)
        if code in FUNCTIONAL_CODES and not service.assistance.strip():
            add(MAY_NO_ASSISTANCE)
        if code in excluded:
            add(MAY_NOT_COVERED)
        assistant_total += assistant
        if service.mode is not Mode.ONE_ON_ONE:
            one_on_one = False
        if no_claim:
            count = service.units if service.units is not None else (0 if is_timed else 1)
            units[code] = units.get(code, 0) + count
    return tuple(modifiers), timed_total, assistant_total, one_on_one


def _may_kx(visit: Visit, discipline: Discipline, allowed: Decimal,
            all_modifiers: frozenset[str], ctx: _Inputs) -> bool:
    """KX is billed, or the year's amount with this claim passes the KX or review amount."""
    if "KX" in all_modifiers:
        return True
    threshold = ctx.reference.thresholds.for_date(visit.date_of_service)
    if threshold is None:
        return False
    after = visit.therapy_to_date.for_group(discipline.threshold_group) + allowed
    return after > threshold.kx or after > threshold.medical_review


def _may_mue(units: Mapping[str, int], table: MueTable) -> bool:
    """Some code's units pass the lowest MUE value it has on any date."""
    for code, count in units.items():
        lowest = table.lowest(code)
        if lowest is not None and count > lowest:
            return True
    return False


_CREDENTIAL_DISCIPLINE = {c: c.discipline for c in Credential}
"""``Visit.discipline`` without building a dict per call (the same answer, looked up)."""


def _pairs(visit: Visit, reference: Reference) -> tuple[tuple[int, int, PtpEdit], ...]:
    services = visit.services
    if len(services) < 2:
        return ()
    ncci, on = reference.ncci, visit.date_of_service
    out = []
    for i in range(len(services)):
        a = services[i].code
        for j in range(i + 1, len(services)):
            b = services[j].code
            if a != b:
                edit = ncci.edit_for(a, b, on)
                if edit is not None:
                    out.append((i, j, edit) if edit.column1 == a else (j, i, edit))
    return tuple(out)


def _allowed(visit: Visit, units: Mapping[str, int], ctx: _Inputs) -> Decimal:
    """The claim's expected allowed amount, as coding reckons it for KX when there is a claim
    (national non-facility amount x units, 85% for CQ/CO lines); else from the billed units."""
    if ctx.claim is not None:
        return expected_allowed_total(ctx.claim.lines, visit.date_of_service, ctx.reference,
                                      Decimal(0))
    fees = ctx.reference.fees
    total = Decimal(0)
    for code, count in units.items():
        row = fees.get(code, visit.date_of_service)
        if row is not None and count:
            total += row.nonfac_amount * count
    return total


DISCIPLINE_MODIFIERS = frozenset({"GP", "GO", "GN"})
ASSISTANT_MODIFIERS = frozenset({"CQ", "CO"})
DISTINCT_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})
X_MODIFIERS = frozenset({"XE", "XS", "XP", "XU"})
