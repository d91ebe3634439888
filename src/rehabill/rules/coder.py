"""The scrubber's default coder: ``rehabill.coding.code_visit`` under the payer's policy.

The policy decides the unit method (cms | per-code), whether CQ/CO and KX are applied, and
whether 59 stands in for the X modifiers; coding then computes what the claim should say, and
the units/modifier rules compare the documentation against it.
"""

from __future__ import annotations

from rehabill.coding import CodingOptions, UnitMethod
from rehabill.coding.claims import code_claim
from rehabill.domain.claim import Claim
from rehabill.domain.findings import Finding
from rehabill.domain.visit import Visit
from rehabill.reference import Reference
from rehabill.rules.policy import Policy


def coding_options(policy: Policy) -> CodingOptions:
    """The coding options a payer policy implies (cached per policy object: hashing a whole
    policy on every visit would cost more than the lookup saves)."""
    cached = _OPTIONS.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    options = CodingOptions(
        method=UnitMethod(policy.unit_method),
        assistant_modifiers=policy.assistant_modifiers,
        kx=policy.kx_threshold,
        use_59_only=policy.distinct_modifiers == "59_only",
    )
    if len(_OPTIONS) >= 4096:  # policies parsed per request must not pile up
        _OPTIONS.clear()
    _OPTIONS[id(policy)] = (policy, options)
    return options


_OPTIONS: dict[int, tuple[Policy, CodingOptions]] = {}


def code_for_policy(visit: Visit, policy: Policy,
                    reference: Reference) -> tuple[Claim | None, tuple[Finding, ...]]:
    """Code ``visit`` as ``policy`` wants it.

    Args:
        visit: the documented visit.
        policy: the payer policy chosen for it.
        reference: the tables.

    Returns:
        The coded claim and coding's own findings.
    """
    return code_claim(visit, reference, coding_options(policy))
