"""The claim scrubber: every rule a biller checks before a claim leaves, as plain functions.

Each topic module ends with a ``RULES`` tuple; this package chains them into ``CATALOG``, a
read-only mapping from rule code to ``Rule``. ``scrub(visit, ctx)`` runs the rules the payer
policy enables and returns the findings, errors first. ``scrub_visit`` does the whole job for one
visit: choose the policy, code the visit (when a coder is given), scrub, and optionally apply
the safe fixes.

Pure: imports only the standard library and rehabill; the ICD-10-CM checker and the coder are
functions handed in by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from rehabill.domain.claim import Claim
from rehabill.domain.collector import collector_paused
from rehabill.domain.findings import Finding, Location, Severity, sort_findings
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.domain.visit import Visit
from rehabill.reference import Reference
from rehabill.rules import (
    assistants,
    documentation,
    eligibility,
    episode,
    identity,
    mode,
    modifiers,
    mue,
    ncci,
    policy_rules,
    same_day,
    timing,
    units,
)
from rehabill.rules.base import (
    NO_SAME_DAY,
    DayGroup,
    Facts,
    IcdCheck,
    IcdStatus,
    Inputs,
    Rule,
    RuleContext,
    SameDay,
    compute_facts,
)
from rehabill.rules.coder import code_for_policy
from rehabill.rules.fixes import Change, apply_fixes
from rehabill.rules.policy import Policy, PolicyBook, check_rule_codes

__all__ = [
    "ALL_RULES",
    "CATALOG",
    "Change",
    "Coder",
    "IcdCheck",
    "IcdStatus",
    "Rule",
    "RuleContext",
    "SameDay",
    "ScrubResult",
    "ScrubSettings",
    "enabled_rules",
    "scrub",
    "scrub_visit",
    "scrub_visits",
]

ALL_RULES: tuple[Rule, ...] = (
    identity.RULES + eligibility.RULES + timing.RULES + policy_rules.RULES + episode.RULES
    + ncci.RULES + mue.RULES + units.RULES + modifiers.RULES + mode.RULES + assistants.RULES
    + documentation.RULES + same_day.RULES
)
CATALOG: Mapping[str, Rule] = MappingProxyType({rule.code: rule for rule in ALL_RULES})

Coder = Callable[[Visit, Policy, Reference], tuple[Claim | None, tuple[Finding, ...]]]
"""Codes a visit as a payer policy wants it: (claim, coding findings)."""

RULE_FAILED = "scrub.rule_failed"

_CACHE_LIMIT = 4096
_enabled_cache: dict[int, tuple[Policy, tuple[Rule, ...]]] = {}


def enabled_rules(policy: Policy) -> tuple[Rule, ...]:
    """The rules ``policy`` leaves on, in catalog order (cached per policy object)."""
    cached = _enabled_cache.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    check_rule_codes(policy, frozenset(CATALOG))
    rules = tuple(r for r in ALL_RULES if r.code not in policy.disabled_rules
                  and (r.applies is None or r.applies(policy)))
    if len(_enabled_cache) >= _CACHE_LIMIT:  # policies parsed per request must not pile up
        _enabled_cache.clear()
    _enabled_cache[id(policy)] = (policy, rules)
    return rules


_needs_cache: dict[tuple[int, frozenset[str]], tuple[Policy, tuple[Rule, ...]]] = {}


def rules_for(policy: Policy, flags: frozenset[str]) -> tuple[Rule, ...]:
    """The policy's rules whose ``needs`` the visit's flags meet (cached per combination)."""
    key = (id(policy), flags)
    cached = _needs_cache.get(key)
    if cached is not None and cached[0] is policy:
        return cached[1]
    rules = tuple(r for r in enabled_rules(policy) if r.needs <= flags)
    if len(_needs_cache) >= _CACHE_LIMIT:
        _needs_cache.clear()
    _needs_cache[key] = (policy, rules)
    return rules


def scrub(visit: Visit, ctx: RuleContext) -> tuple[Finding, ...]:
    """Run every rule the context's policy enables.

    Args:
        visit: the documented visit.
        ctx: reference, policy, today, the coded claim (or None) and the ICD checker.

    Returns:
        The findings, errors first. A rule that fails unexpectedly becomes one
        ``scrub.rule_failed`` error instead of stopping the run.
    """
    try:
        facts = compute_facts(visit, ctx)
    except Exception:  # leave it to each rule; the one that fails is reported alone
        facts = None
    ctx = RuleContext(ctx.reference, ctx.policy, ctx.today, ctx.claim, ctx.icd,
                      ctx.policy_fallback, facts, ctx.same_day)
    return _run_rules(visit, ctx)


def _run_rules(visit: Visit, ctx: RuleContext) -> tuple[Finding, ...]:
    """``scrub`` once the context carries the visit's facts (None: run every enabled rule)."""
    facts = ctx.facts
    rules = enabled_rules(ctx.policy) if facts is None else rules_for(ctx.policy, facts.flags)
    if not rules:  # most clean claims: every screen says no rule can fire
        return ()
    found: list[Finding] = []
    for rule in rules:
        try:
            found.extend(rule.function(visit, ctx))
        except Exception as exc:  # a bug in one rule must not lose the other findings
            found.append(Finding(
                RULE_FAILED, Severity.ERROR,
                f"Rule {rule.code} failed on this visit ({type(exc).__name__}: {exc}).",
                Location(visit_id=visit.visit_id),
                "Report this to the rehabill maintainers; check the claim by hand."))
    return sort_findings(found) if len(found) > 1 else tuple(found)


@dataclass(frozen=True, slots=True)
class ScrubSettings:
    """What stays the same for every visit of a run.

    Attributes:
        reference: the shipped tables.
        today: the date claims would be sent (timely filing is judged against it).
        policies: payer policies by plan, with the default.
        icd: the ICD-10-CM checker, or None to check the code format only.
        coder: codes a visit into a claim (default ``rehabill.coding`` under the policy), or
            None to scrub the documentation only.
    """

    reference: Reference
    today: date
    policies: PolicyBook
    icd: IcdCheck | None = None
    coder: Coder | None = code_for_policy


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """One visit scrubbed: the (possibly fixed) visit, its claim, findings and changes made."""

    visit: Visit
    claim: Claim | None
    findings: tuple[Finding, ...]
    policy: Policy
    changes: tuple[Change, ...] = ()

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, visit: Visit, claim: Claim | None, findings: tuple[Finding, ...],
                 policy: Policy, changes: tuple[Change, ...] = ()) -> None:
        object.__setattr__(self, "visit", visit)
        object.__setattr__(self, "claim", claim)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "changes", changes)

    @property
    def has_errors(self) -> bool:
        """True when any finding is an error (the claim is held back)."""
        return any(f.is_error for f in self.findings)


def _run(visit: Visit, settings: ScrubSettings,
         same_day: SameDay) -> tuple[RuleContext, tuple[Finding, ...]]:
    policy, fallback = settings.policies.for_plan(visit.coverage.plan)
    claim: Claim | None = None
    coding_findings: tuple[Finding, ...] = ()
    if settings.coder is not None:
        claim, coding_findings = settings.coder(visit, policy, settings.reference)
    try:
        facts: Facts | None = compute_facts(visit, Inputs(
            settings.reference, policy, settings.today, claim, settings.icd, fallback, same_day))
    except Exception:  # as in ``scrub``: each rule then runs and reports its own failure
        facts = None
    ctx = RuleContext(settings.reference, policy, settings.today, claim, settings.icd, fallback,
                      facts, same_day)
    findings = _run_rules(visit, ctx)
    if coding_findings:
        findings = sort_findings(_merge(findings, coding_findings))
    return ctx, findings


def _merge(findings: Iterable[Finding], extra: Iterable[Finding]) -> list[Finding]:
    """Rule findings plus coding's own, except where a rule already reports that field."""
    out = list(findings)
    seen = {(f.location.visit_id, f.location.field) for f in out}
    out.extend(f for f in extra if (f.location.visit_id, f.location.field) not in seen)
    return out


def scrub_visit(visit: Visit, settings: ScrubSettings, *, fix: bool = False,
                same_day: SameDay | Sequence[Visit] = ()) -> ScrubResult:
    """Scrub one visit, applying the safe fixes first when ``fix`` is set.

    Args:
        visit: the documented visit.
        settings: the run's reference, today, policies, ICD checker and coder.
        fix: apply only the safe, unambiguous fixes (discipline modifier, recomputed units)
            and scrub the fixed visit again; every change is reported.
        same_day: other visits of the same patient on the same date, or ``scrub_visits``'
            view of the patient-day seen from ``visit``.

    Returns:
        The scrub result for the visit (the fixed one when fixes were applied).
    """
    day = same_day if isinstance(same_day, SameDay) else SameDay.of(same_day)
    ctx, findings = _run(visit, settings, day)
    if not fix:
        return ScrubResult(visit, ctx.claim, findings, ctx.policy)
    fixed, changes = apply_fixes(visit, findings, ctx)
    if not changes:
        return ScrubResult(visit, ctx.claim, findings, ctx.policy)
    ctx, findings = _run(fixed, settings, day)
    return ScrubResult(fixed, ctx.claim, findings, ctx.policy, changes)


def scrub_visits(visits: Sequence[Visit], settings: ScrubSettings, *,
                 fix: bool = False) -> list[ScrubResult]:
    """Scrub a batch: each visit also sees the patient's other visits on the same date.

    Each patient-day is indexed once (``DayGroup``) and shared by its visits, so the batch
    costs time and memory linear in its size however many visits share a patient and day.

    Args:
        visits: the visits of one file or batch.
        settings: the run's settings.
        fix: apply the safe fixes (see ``scrub_visit``).

    Returns:
        One result per visit, in order.
    """
    by_day: dict[tuple[str, date], list[Visit]] = {}
    for visit in visits:
        by_day.setdefault((visit.patient.id, visit.date_of_service), []).append(visit)
    days = {key: DayGroup.of(group) for key, group in by_day.items() if len(group) > 1}
    with collector_paused():  # every result is kept and none holds a cycle
        return [
            scrub_visit(visit, settings, fix=fix, same_day=SameDay(day, visit) if (
                day := days.get((visit.patient.id, visit.date_of_service))) else NO_SAME_DAY)
            for visit in visits
        ]

# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
