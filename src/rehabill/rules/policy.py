"""Payer policies as data: one TOML file per payer, parsed into a frozen ``Policy``.

The shipped policies live in ``rehabill/rules/policies/*.toml`` and are read through
``importlib.resources``; a user's policy file is read by the shell and handed here as text.
Every problem in a policy file is a ``ConfigError`` naming the file and the key (never a
traceback). See docs/rules.md for every key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from rehabill.errors import ConfigError

DEFAULT_POLICY = "commercial_default"
"""The policy used when a visit's ``coverage.plan`` names no shipped or given policy."""

UNIT_METHODS = ("cms", "per-code")
DISTINCT_STYLES = ("x_or_59", "59_only")
SUPERVISION_LEVELS = ("general", "direct")


@dataclass(frozen=True, slots=True)
class Policy:
    """One payer's billing rules, as data.

    Attributes:
        name: the policy's id (the file stem for shipped policies).
        title: a human name ("Medicare Part B").
        plans: the ``coverage.plan`` values this policy serves.
        unit_method: "cms" (total timed minutes) or "per-code" (each code on its own).
        discipline_modifiers_required: GP/GO/GN must be on every therapy line.
        assistant_modifiers: the payer has adopted CQ/CO.
        distinct_modifiers: "x_or_59" accepts XE/XS/XP/XU and 59; "59_only" accepts only 59.
        kx_threshold: the Medicare KX threshold and medical review amount apply.
        slpa_billable: services by a speech-language pathology assistant can be billed.
        assistant_supervision: "general" or "direct".
        plan_of_care_required: a certified plan of care must cover the date of service.
        certification_days: days from the start of care to the initial certification.
        recertification_days: longest span one certification covers.
        progress_report_days: most treatment days between progress reports.
        authorization_required: a prior authorization must cover the visit.
        visits_per_year: visit cap per calendar year (None = none).
        visits_per_day: visit cap per patient per date (None = none).
        units_per_day: cap on billed units per day (None = none).
        codes_not_covered: codes the payer does not pay.
        timely_filing_days / timely_filing_months: the filing window (exactly one is set).
        filing_warning_days: warn when the window closes within this many days.
        fee_schedule: which schedule allowed amounts follow ("medicare_pfs").
        percent_of_fee_schedule: the payer's rate as a percent of that schedule.
        disabled_rules: rule codes this payer does not apply.
        source: where the policy came from (file name).
    """

    name: str
    title: str
    plans: tuple[str, ...]
    unit_method: str
    discipline_modifiers_required: bool
    assistant_modifiers: bool
    distinct_modifiers: str
    kx_threshold: bool
    slpa_billable: bool
    assistant_supervision: str
    plan_of_care_required: bool
    certification_days: int | None
    recertification_days: int | None
    progress_report_days: int | None
    authorization_required: bool
    visits_per_year: int | None
    visits_per_day: int | None
    units_per_day: int | None
    codes_not_covered: frozenset[str]
    timely_filing_days: int | None
    timely_filing_months: int | None
    filing_warning_days: int
    fee_schedule: str
    percent_of_fee_schedule: Decimal
    disabled_rules: frozenset[str]
    source: str


_SECTIONS: dict[str, frozenset[str]] = {
    "": frozenset({"name", "title", "plans", "source", "units", "modifiers", "assistants",
                   "episode", "limits", "filing", "fees", "rules"}),
    "units": frozenset({"method"}),
    "modifiers": frozenset({"discipline_required", "assistant_cq_co", "distinct", "kx_threshold"}),
    "assistants": frozenset({"supervision", "slpa_billable"}),
    "episode": frozenset({"plan_of_care_required", "certification_days", "recertification_days",
                          "progress_report_treatment_days", "authorization_required"}),
    "limits": frozenset({"visits_per_year", "visits_per_day", "units_per_day",
                         "codes_not_covered"}),
    "filing": frozenset({"days", "months", "warn_days"}),
    "fees": frozenset({"schedule", "percent"}),
    "rules": frozenset({"disabled"}),
}


class _Reader:
    """Typed access to one policy document; every failure names the file and the key."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        """A ConfigError located at this file and ``key``."""
        return ConfigError(message, location=f"{self.source}: {key}")

    def section(self, name: str) -> Mapping[str, Any]:
        """The table ``[name]`` (empty when absent); unknown keys in it are refused."""
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(name, f"[{name}] must be a table")
        unknown = sorted(set(value) - _SECTIONS[name])
        if unknown:
            raise self.fail(f"{name}.{unknown[0]}", f"unknown key {unknown[0]!r} in [{name}]")
        return value

    def get(self, section: str, key: str, kind: type, default: Any) -> Any:
        """``section.key`` checked to be of ``kind`` (ints are whole and >= 0)."""
        table = self.section(section) if section else self.data
        value = table.get(key, default)
        path = f"{section}.{key}" if section else key
        if value is None:
            return None
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise self.fail(path, f"must be a whole number >= 0, not {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise self.fail(path, f"must be {kind.__name__}, not {type(value).__name__}")
        return value

    def choice(self, section: str, key: str, allowed: tuple[str, ...], default: str) -> str:
        """``section.key`` checked to be one of ``allowed``."""
        value: str = self.get(section, key, str, default)
        if value not in allowed:
            raise self.fail(f"{section}.{key}", f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def strings(self, section: str, key: str) -> tuple[str, ...]:
        """``section.key`` checked to be a list of non-empty strings."""
        value = self.get(section, key, list, [])
        path = f"{section}.{key}" if section else key
        if not all(isinstance(v, str) and v for v in value):
            raise self.fail(path, "must be a list of non-empty strings")
        return tuple(value)


def parse_policy(text: str, source: str, *, name: str = "") -> Policy:
    """Parse one policy document.

    Args:
        text: the TOML text.
        source: where it came from (a file name), used in error locations.
        name: the policy id when the document has no ``name`` key (the file stem).

    Returns:
        The policy.

    Raises:
        ConfigError: the text is not TOML or a key is unknown, missing or of the wrong type;
            the error's location is ``"<source>: <key>"``.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", location=source) from None
    reader = _Reader(data, source)
    unknown = sorted(set(data) - _SECTIONS[""])
    if unknown:
        raise reader.fail(unknown[0], f"unknown key {unknown[0]!r}")
    return _build(reader, name)


def _build(r: _Reader, default_name: str) -> Policy:
    name: str = r.get("", "name", str, default_name) or default_name
    if not name:
        raise r.fail("name", "a policy needs a name")
    days = r.get("filing", "days", int, None)
    months = r.get("filing", "months", int, None)
    if (days is None) == (months is None):
        raise r.fail("filing", "set exactly one of filing.days and filing.months")
    return Policy(
        name=name,
        title=r.get("", "title", str, name),
        plans=tuple(p.lower() for p in r.strings("", "plans")) or (name,),
        unit_method=r.choice("units", "method", UNIT_METHODS, "cms"),
        discipline_modifiers_required=r.get("modifiers", "discipline_required", bool, True),
        assistant_modifiers=r.get("modifiers", "assistant_cq_co", bool, False),
        distinct_modifiers=r.choice("modifiers", "distinct", DISTINCT_STYLES, "x_or_59"),
        kx_threshold=r.get("modifiers", "kx_threshold", bool, False),
        slpa_billable=r.get("assistants", "slpa_billable", bool, True),
        assistant_supervision=r.choice("assistants", "supervision", SUPERVISION_LEVELS,
                                       "general"),
        plan_of_care_required=r.get("episode", "plan_of_care_required", bool, False),
        certification_days=r.get("episode", "certification_days", int, None),
        recertification_days=r.get("episode", "recertification_days", int, None),
        progress_report_days=r.get("episode", "progress_report_treatment_days", int, None),
        authorization_required=r.get("episode", "authorization_required", bool, False),
        visits_per_year=r.get("limits", "visits_per_year", int, None),
        visits_per_day=r.get("limits", "visits_per_day", int, None),
        units_per_day=r.get("limits", "units_per_day", int, None),
        codes_not_covered=frozenset(c.upper() for c in r.strings("limits", "codes_not_covered")),
        timely_filing_days=days,
        timely_filing_months=months,
        filing_warning_days=r.get("filing", "warn_days", int, 30),
        fee_schedule=r.get("fees", "schedule", str, "medicare_pfs"),
        percent_of_fee_schedule=_percent(r),
        disabled_rules=frozenset(r.strings("rules", "disabled")),
        source=r.get("", "source", str, r.source),
    )


def _percent(r: _Reader) -> Decimal:
    raw = r.get("fees", "percent", str, "100")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise r.fail("fees.percent", f"{raw!r} is not a number (write it as a string)") from None
    if not value.is_finite() or value <= 0:
        raise r.fail("fees.percent", f"{raw!r} must be a positive number")
    return value


def check_rule_codes(policy: Policy, known: frozenset[str]) -> None:
    """Refuse a policy that disables a rule code rehabill does not have.

    Raises:
        ConfigError: naming the file, ``rules.disabled`` and the unknown code.
    """
    unknown = sorted(policy.disabled_rules - known)
    if unknown:
        raise ConfigError(f"unknown rule code {unknown[0]!r} (see `rehabill rules`)",
                          location=f"{policy.source}: rules.disabled")


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """Policies by plan name, with the documented default for unknown plans."""

    by_plan: Mapping[str, Policy]
    default: Policy
    forced: Policy | None = None

    def for_plan(self, plan: str) -> tuple[Policy, bool]:
        """The policy for ``plan`` and whether the default was used instead."""
        if self.forced is not None:
            return self.forced, False
        found = self.by_plan.get(plan.lower())
        return (found, False) if found is not None else (self.default, True)


@cache
def shipped_policies() -> PolicyBook:
    """The policies shipped in ``rehabill/rules/policies`` (read once)."""
    folder = resources.files("rehabill.rules").joinpath("policies")
    by_plan: dict[str, Policy] = {}
    names: dict[str, Policy] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        stem = entry.name.removesuffix(".toml")
        policy = parse_policy(entry.read_text("utf-8"), f"policies/{entry.name}", name=stem)
        names[policy.name] = policy
        for plan in policy.plans:
            by_plan[plan] = policy
    return PolicyBook(by_plan, names[DEFAULT_POLICY])


def with_override(book: PolicyBook, policy: Policy | None) -> PolicyBook:
    """A book where ``policy`` serves every plan (the CLI's ``--payer-policy``)."""
    if policy is None:
        return book
    return PolicyBook(book.by_plan, book.default, policy)
