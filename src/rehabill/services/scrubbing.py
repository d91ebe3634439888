"""Scrub visits before they are billed: the one path every claim takes into a batch or a form.

``prepare_claims`` codes each visit under its payer's policy, runs every scrubber rule and the
837P guide's own checks, and splits the visits into claims to send and visits held back with
their findings. ``rehabill x12 837p``, ``rehabill cms1500``, ``rehabill scrub`` and the web app
all use it, so a claim can only leave through the scrubber.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rehabill.coding import CodingOptions, CodingResult, UnitMethod, code_visit
from rehabill.domain import Claim, Finding, Visit, has_errors
from rehabill.reference import Reference
from rehabill.reference import load as load_reference
from rehabill.rules import Coder, RuleContext, ScrubSettings, scrub, scrub_visits
from rehabill.rules.coder import coding_options
from rehabill.rules.policy import Policy, shipped_policies, with_override
from rehabill.services import icd10
from rehabill.x12.p837 import check_claim, grouping_key


def default_settings(today: date, policy: Policy | None = None,
                     method: UnitMethod | None = None) -> ScrubSettings:
    """The shipped reference and policies, the ICD-10-CM code set, and the policy's coder.

    Args:
        today: the date claims would be sent (timely filing is judged against it).
        policy: a ``--payer-policy`` file's policy, overriding the shipped one for its plan.
        method: force a unit method for every payer (otherwise each policy's own).
    """
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
