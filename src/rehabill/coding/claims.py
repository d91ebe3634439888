"""Claim building: a visit becomes claim lines with units, modifiers and charges."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import cast

from rehabill.coding import modifiers
from rehabill.coding.units import (
    UnitLine,
    UnitMethod,
    UnitResult,
    UnitRow,
    compute_with_rows,
    unit_rows,
)
from rehabill.domain.claim import Claim, ClaimLine
from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.money import ZERO, round_cents
from rehabill.domain.visit import Discipline, Visit
from rehabill.reference import Reference, load

DEFAULT_CHARGE_FACTOR = Decimal(2)


@dataclass(frozen=True, slots=True)
class CodingOptions:
    """How a payer wants claims coded (the scrubber's payer policy supplies these)."""

    method: UnitMethod = UnitMethod.CMS
    assistant_modifiers: bool = True
    kx: bool = True
    use_59_only: bool = False
    charge_factor: Decimal = DEFAULT_CHARGE_FACTOR

    @classmethod
    def for_plan(cls, plan: str) -> CodingOptions:
        """Defaults by plan (a payer policy overrides them).

        Medicare Part B: CMS total time, CQ/CO, KX. Medicare Advantage plans follow the CMS
        unit method but have no KX threshold. Everything else: per-code units, no KX.
        """
        name = plan.lower()
        if name in ("medicare", "medicare_part_b") or name.startswith("medicare_part_b"):
            return cls()
        if name.startswith("medicare"):
            return cls(kx=False)
        return cls(method=UnitMethod.PER_CODE, kx=False)


@dataclass(frozen=True, slots=True)
class CodingResult:
    """A coded visit: the claim, the unit arithmetic behind it, and coding findings."""

    claim: Claim
    units: UnitResult
    findings: tuple[Finding, ...]


def unit_charge(code: str, visit: Visit, ref: Reference, factor: Decimal) -> Decimal:
    """The practice's charge per unit: ``factor`` × the national amount, up to the dollar.

    Practices set one charge per code for every payer, above what any payer allows; twice the
    Medicare national non-facility amount is a common choice (the nearest shipped year stands
    in for a year whose schedule rehabill does not ship). The documented per-unit charge on a
    service, when given, wins (``code_visit``).
    """
    return _unit_charge(ref, code, visit.date_of_service.year, factor)


@lru_cache(maxsize=4096)
def _unit_charge(ref: Reference, code: str, year: int, factor: Decimal) -> Decimal:
    amount = _national_amount(ref, code, year)
    return Decimal(math.ceil(amount * factor)).quantize(Decimal("0.01"))


def nearest_fee_year(ref: Reference, year: int) -> int:
    """``year`` when its fee schedule ships, else the nearest shipped year."""
    if year in ref.fees.years or not ref.fees.years:
        return year
    return min(ref.fees.years, key=lambda y: (abs(y - year), -y))


@lru_cache(maxsize=4096)
def _national_amount(ref: Reference, code: str, year: int) -> Decimal:
    row = ref.fees.get(code, date(nearest_fee_year(ref, year), 1, 1))
    return ZERO if row is None else row.nonfac_amount


def expected_allowed(line: ClaimLine, visit: Visit, ref: Reference) -> Decimal:
    """Medicare's national allowed amount for a line (85% with CQ/CO), for KX arithmetic."""
    return _allowed_amount(ref, line.code, visit.date_of_service.year, line.units,
                           line.has_assistant_modifier)


def expected_allowed_total(lines: Iterable[ClaimLine], on: date, ref: Reference,
                           start: Decimal = ZERO) -> Decimal:
    """``start`` plus ``expected_allowed`` of every line, for a visit on ``on``.

    Args:
        lines: claim lines.
        on: the date of service.
        ref: the tables.
        start: the amount to add to (its exponent shows in the sum when there are no lines).

    Returns:
        The sum.
    """
    year, total = on.year, start
    remembered = _LAST_TOTAL[0]
    if remembered[0] is lines and remembered[1] == year and remembered[2] is ref:
        return start + remembered[3]
    for line in lines:
        total += _allowed_amount(ref, line.code, year, line.units, line.has_assistant_modifier)
    return total


_LAST_TOTAL: list[tuple[tuple[ClaimLine, ...], int, Reference | None, Decimal]] = [
    ((), 0, None, ZERO)]
"""The last claim's KX sum as coding worked it out: (its lines, year, tables, sum). The scrubber
asks for the same sum of the same lines tuple right after coding; the tuple is held here, so
``is`` cannot match another claim's lines. One entry, replaced whole (safe across threads)."""


def _remember_total(lines: tuple[ClaimLine, ...], year: int, ref: Reference,
                    total: Decimal) -> None:
    if lines:  # () is one shared object: never let it stand for a claim
        _LAST_TOTAL[0] = (lines, year, ref, total)


@lru_cache(maxsize=8192)
def _allowed_amount(ref: Reference, code: str, year: int, units: int, assisted: bool
                    ) -> Decimal:
    amount = _national_amount(ref, code, year) * units
    if assisted:
        amount *= modifiers.ASSISTANT_PAYMENT_RATE
    return round_cents(amount)


def code_visit(visit: Visit, *, method: UnitMethod | None = None,
               reference: Reference | None = None,
               options: CodingOptions | None = None) -> CodingResult:
    """Code a visit: units by the payer's method, GP/GO/GN, CQ/CO, 59/X, KX, charges.

    Args:
        visit: the documented visit.
        method: overrides the options' unit method.
        reference: the tables (default: the shipped ones).
        options: the payer's coding options (default: by ``visit.coverage.plan``).

    Returns:
        The claim, the unit arithmetic and coding findings (unknown codes are left off the
        claim with an error finding).
    """
    ref = reference or load()
    opts = options or CodingOptions.for_plan(visit.coverage.plan)
    if method is not None:
        opts = replace(opts, method=method)
    claim, result, findings = _code(visit, ref, opts, explain=True)
    return CodingResult(claim, cast(UnitResult, result), findings)


def code_claim(visit: Visit, reference: Reference, options: CodingOptions
               ) -> tuple[Claim, tuple[Finding, ...]]:
    """``code_visit``'s claim and findings alone (the scrubber's coder reads nothing else).

    Args:
        visit: the documented visit.
        reference: the tables.
        options: the payer's coding options.

    Returns:
        The claim and coding findings, as ``code_visit`` would give them.
    """
    claim, _, findings = _code(visit, reference, options, explain=False)
    return claim, findings


def _code(visit: Visit, ref: Reference, opts: CodingOptions, *, explain: bool
          ) -> tuple[Claim, UnitResult | None, tuple[Finding, ...]]:
    """Code ``visit``; the unit result (with its explanation) is built only when ``explain``."""
    codes = ref.codes
    services = visit.services
    known = services if codes.has_all([s.code for s in services]) \
        else tuple(s for s in services if s.code in codes)
    findings: list[Finding] = []
    positions: tuple[int, ...] | None = None  # the known services' places in the visit
    if len(known) != len(services):
        findings = _unknown_codes(visit, ref)
        positions = tuple(i for i, s in enumerate(services) if s.code in codes)
    plan = visit.plan_of_care
    rendering = visit.rendering_provider.credential
    discipline = plan.discipline if plan is not None and plan.discipline is not None \
        else rendering.discipline
    assistant = visit.assistant
    by_assistant = rendering.is_assistant
    if by_assistant or (
            assistant is not None and assistant.credential.discipline is not discipline):
        findings.extend(_assistant_findings(visit))
    if by_assistant:
        # The documented "therapist" minutes are the assistant's own.
        known = tuple(replace(s, minutes=0, assistant_minutes=s.total_minutes) for s in known)
    split = opts.assistant_modifiers and discipline in _ASSISTANT_MODIFIER
    result: UnitResult | None = None
    if explain:
        result, rows = compute_with_rows(known, opts.method, codes.is_timed, split)
    else:
        rows = unit_rows(known, opts.method, codes.is_timed, split)
    lines = _claim_lines(visit, discipline, rows, ref, opts, positions)
    lines = _add_ncci_modifiers(visit, lines, ref, opts)
    if opts.kx and lines:
        lines, kx_notes, kx_findings, total = _add_kx(visit, discipline, lines, ref)
        if total is not None:  # KX marks leave every line's allowed amount as it was
            _remember_total(lines, visit.date_of_service.year, ref, total)
        findings.extend(kx_findings)
        if result is not None:
            result = result.with_notes(kx_notes)
    return Claim(visit, lines), result, tuple(findings)


_ASSISTANT_MODIFIER = {d: modifiers.assistant_modifier(d) for d in Discipline
                       if modifiers.assistant_modifier(d)}
"""Disciplines with an assistant modifier (CQ for PT, CO for OT), looked up once."""


def _unknown_codes(visit: Visit, ref: Reference) -> list[Finding]:
    return [
        Finding("coding.unknown_code", Severity.ERROR,
                f"Code {s.code} is not a therapy code rehabill knows; it was left off the claim.",
                Location(visit_id=visit.visit_id, field=f"services[{i}].code"),
                "Check the code; run `rehabill codes` to list the known therapy codes.")
        for i, s in enumerate(visit.services) if s.code not in ref.codes
    ]


def _assistant_findings(visit: Visit) -> list[Finding]:
    out = []
    rendering = visit.rendering_provider
    where = Location(visit_id=visit.visit_id, field="rendering_provider.credential")
    if rendering.credential.is_assistant:
        out.append(Finding(
            "coding.rendering_is_assistant", Severity.ERROR,
            f"The rendering provider {rendering.display_name} is an assistant; an assistant "
            "cannot be the rendering provider, so every unit was coded as the assistant's.",
            where, "Name the supervising therapist as rendering provider and the "
            f"{rendering.credential.value} as assistant; rehabill then applies CQ/CO."))
    assistant = visit.assistant
    if assistant is not None and assistant.credential.discipline is not visit.discipline:
        out.append(Finding(
            "coding.assistant_discipline_mismatch", Severity.ERROR,
            f"The assistant {assistant.display_name} does not practise "
            f"{visit.discipline.value.upper()}, the plan's discipline.",
            Location(visit_id=visit.visit_id, field="assistant.credential"),
            "Correct the assistant or the plan of care's discipline."))
    return out


def line_modifiers(line: UnitLine, discipline: Discipline,
                   assistant_modifiers: bool = True) -> tuple[str, ...]:
    """GP/GO/GN always; CQ/CO when the units were furnished in whole or part by an assistant."""
    return _modifiers_for(discipline, line.by_assistant and assistant_modifiers)


def _modifiers_for(discipline: Discipline, by_assistant: bool) -> tuple[str, ...]:
    key = (discipline, by_assistant)
    found = _LINE_MODIFIERS.get(key)
    if found is None:
        mods = [modifiers.discipline_modifier(discipline)]
        if key[1]:
            mods.append(modifiers.assistant_modifier(discipline))
        found = _LINE_MODIFIERS[key] = modifiers.order_modifiers(mods)
    return found


_LINE_MODIFIERS: dict[tuple[Discipline, bool], tuple[str, ...]] = {}
"""``line_modifiers`` by (discipline, with CQ/CO): six answers, worked out once each."""


def _claim_lines(visit: Visit, discipline: Discipline, rows: Iterable[UnitRow], ref: Reference,
                 opts: CodingOptions, positions: tuple[int, ...] | None
                 ) -> tuple[ClaimLine, ...]:
    """The claim lines of the unit rows; ``positions`` maps a row's service index (among the
    known services) back to the visit's services when unknown codes were left out."""
    diagnoses = len(visit.diagnoses)
    pointers = _POINTERS[diagnoses] if diagnoses < 4 else _POINTERS[4]
    documented: dict[str, Decimal] = {}
    for s in visit.services:
        if s.charge is not None:
            documented.setdefault(s.code, s.charge)
    charges = _line_charges(ref, visit.date_of_service.year, opts.charge_factor)
    dos, visit_id, split = visit.date_of_service, visit.visit_id, opts.assistant_modifiers
    # the two modifier sets a line of this visit can have: without and with the assistant's
    plain = _modifiers_for(discipline, False)
    assisted = _modifiers_for(discipline, split)
    out: list[ClaimLine] = []
    for code, units, by_assistant, therapist, assistant, index, _ in rows:
        if units <= 0:
            continue
        price = documented.get(code) if documented else None
        if price is None:
            charge = charges.get((code, units))
            if charge is None:
                price = unit_charge(code, visit, ref, opts.charge_factor)
                charge = charges[(code, units)] = round_cents(price * units)
        else:
            charge = round_cents(price * units)
        number = len(out) + 1
        out.append(ClaimLine(
            number, code, assisted if by_assistant else plain, units, charge, dos, pointers,
            f"{visit_id}-{number}", therapist, assistant,
            index if positions is None else positions[index]))
    return tuple(out)


_POINTERS = ((1,), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4))
"""Diagnosis pointers by the number of diagnoses (at most four; (1,) when none)."""

_CHARGES: dict[tuple[Reference, int, Decimal], dict[tuple[str, int], Decimal]] = {}


def _line_charges(ref: Reference, year: int, factor: Decimal
                  ) -> dict[tuple[str, int], Decimal]:
    """Line charges by (code, units) for a year and charge factor, filled as they are met."""
    key = (ref, year, factor)
    found = _CHARGES.get(key)
    if found is None or len(found) > 8192:
        if len(_CHARGES) >= 64:
            _CHARGES.clear()
        found = _CHARGES[key] = {}
    return found


def _add_ncci_modifiers(visit: Visit, lines: tuple[ClaimLine, ...], ref: Reference,
                        opts: CodingOptions) -> tuple[ClaimLine, ...]:
    for service in visit.services:
        if service.distinct is not None:
            break
    else:
        return lines  # nothing documented distinct: no pair can take 59/X
    known = tuple(s for s in visit.services if s.code in ref.codes)
    found = modifiers.ncci_modifiers(known, ref.ncci, visit.date_of_service,
                                     use_59_only=opts.use_59_only)
    by_code = {u.code: u.modifier for u in found}
    return tuple(
        replace(line, modifiers=modifiers.order_modifiers((*line.modifiers, by_code[line.code])))
        if line.code in by_code else line
        for line in lines
    )


def _add_kx(visit: Visit, discipline: Discipline, lines: tuple[ClaimLine, ...], ref: Reference
            ) -> tuple[tuple[ClaimLine, ...], tuple[str, ...], tuple[Finding, ...],
                       Decimal | None]:
    """Mark the lines that need KX; also returns the claim's allowed sum (None when no
    threshold applies)."""
    found: tuple[Finding, ...] = ()
    threshold = ref.thresholds.for_date(visit.date_of_service)
    if threshold is None:
        latest = ref.thresholds.latest_before(visit.date_of_service)
        if latest is None:
            return lines, (), (), None
        threshold = latest
        found = (Finding(
            "coding.kx_threshold_unknown", Severity.WARNING,
            f"rehabill does not ship the {visit.date_of_service.year} therapy threshold; KX was "
            f"judged against {latest.year}'s ${latest.kx}.",
            Location(visit_id=visit.visit_id, field="date_of_service"),
            "Update rehabill's reference data, or check KX by hand."),)
    group = discipline.threshold_group
    before = visit.therapy_to_date.for_group(group)
    year = visit.date_of_service.year
    allowed = [_allowed_amount(ref, line.code, year, line.units, line.has_assistant_modifier)
               for line in lines]
    total = sum(allowed, ZERO)
    if before + total <= threshold.kx:
        return lines, (), found, total
    flags = modifiers.needs_kx(before, allowed, threshold.kx)
    if not any(flags):
        return lines, (), found, total
    after = before + total
    label = "PT and SLP" if group == "pt_slp" else "OT"
    note = (f"KX: {label} allowed amounts this year ${before} + this claim ${after - before} = "
            f"${after}, past the {threshold.year} threshold of ${threshold.kx}")
    if after > threshold.medical_review:
        note += f"; past ${threshold.medical_review} the claim may be chosen for medical review"
    marked = tuple(
        replace(line, modifiers=modifiers.order_modifiers((*line.modifiers, "KX"))) if flag
        else line
        for line, flag in zip(lines, flags, strict=True)
    )
    return marked, (note,), found, total
