"""A demo practice: staff across PT/OT/SLP, Medicare and commercial patients, months of visits.

Deterministic for a seed. Episodes start with an evaluation, then run two or three visits a week
with the codes, minutes, assistants and goals a real outpatient clinic documents. A small share
of visits carry the mistakes a scrubber exists to catch (listed in ``MISTAKES``), so the demo's
worklist and denial reports have something true to show.

About half of the Medicare patients also have a secondary coverage (``SECONDARY_PAYERS``: a
Medigap supplement, or Medicaid for those dually eligible), written into the visit file as
``secondary_coverage`` (``visit_records``) so that a biller can move the patient's share of a
Medicare-paid claim to the secondary payer. It is drawn from its own random stream, so the
visits of a seed are the same with or without it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rehabill.coding import code_visit, expected_allowed
from rehabill.domain import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Credential,
    Discipline,
    Mode,
    Patient,
    PlanOfCare,
    Provider,
    Service,
    TherapyToDate,
    Visit,
)
from rehabill.domain.npi import make_npi
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.domain.serialize import visit_to_json
from rehabill.reference import load

PRACTICE = BillingProvider(make_npi("130684945"), "741234567", "Riverside Rehab",
                           Address("1 Main St", "Austin", "TX", "787010001"))

PAYERS = (
    # payer_id, name, plan, share of patients
    ("MEDICARE", "Medicare Part B", "medicare_part_b", 0.55),
    ("LSHP1", "Lone Star Health Plan", "commercial", 0.30),
    ("BBPPO", "Bluebonnet PPO", "commercial", 0.15),
)

SECONDARY_PAYERS = (
    # payer_id, name, plan, group, share of Medicare patients: a Medigap plan pays the Part B
    # coinsurance (and for some plans the deductible); Medicaid pays it for dual eligibles.
    ("LSMGP", "Lone Star Medigap", "medigap", "PLAN-G", 0.35),
    ("TXMCD", "Texas Medicaid", "medicaid", "", 0.15),
)

DIAGNOSES = {
    Discipline.PT: (("M54.50", "M54.16"), ("M17.11", "Z96.651"), ("I69.351", "R26.89"),
                    ("M25.511", "M75.101"), ("S72.001D", "R26.2"), ("M48.062", "R26.89"),
                    ("G20.A1", "R26.89")),
    Discipline.OT: (("I69.351", "R27.8"), ("G56.01",), ("S52.501D", "M25.611"),
                    ("M19.011", "R29.6"), ("I69.391", "R41.841")),
    Discipline.SLP: (("R13.12", "I69.391"), ("I69.320", "R47.01"), ("R47.01",), ("R49.0",),
                     ("I69.321", "R48.8")),
}

EVALUATIONS = {Discipline.PT: ("97161", "97162", "97163"),
               Discipline.OT: ("97165", "97166", "97167"),
               Discipline.SLP: ("92523", "92610")}

TREATMENT = {
    Discipline.PT: (
        ("97110", "hip and knee strengthening with resistance bands", "climb 12 stairs at home"),
        ("97112", "single-leg stance and tandem walking", "walk in the community without a fall"),
        ("97140", "lumbar mobilisation and soft tissue work", "sit 60 minutes at work"),
        ("97530", "repeated sit-to-stand and car transfers", "independent car transfers"),
        ("97116", "gait training with a cane on ramps and curbs", "walk 300 ft with a cane"),
        ("97035", "ultrasound to the shoulder", "reach overhead shelves"),
    ),
    Discipline.OT: (
        ("97535", "upper-body dressing and grooming practice", "dress independently"),
        ("97530", "kitchen tasks standing at the counter", "prepare a simple meal"),
        ("97110", "grip and wrist strengthening", "open jars and doors"),
        ("97140", "scar and soft tissue mobilisation of the wrist", "type for 30 minutes"),
        ("97112", "fine-motor coordination with pegs and buttons", "button a shirt"),
    ),
    Discipline.SLP: (
        ("92507", "naming and sentence formulation drills", "order a meal in a restaurant"),
        ("92526", "swallowing exercises with thin liquid trials", "drink thin liquids safely"),
    ),
}
ASSISTANCE = ("minimal assist", "moderate assist", "contact guard", "stand-by assist",
              "supervision", "maximal assist")

MISTAKES = (
    "missing_goal", "group_one_on_one", "ncci_group_pair", "expired_plan",
    "uncertified_plan", "header_diagnosis", "progress_report_overdue", "bad_npi",
)


@dataclass(frozen=True, slots=True)
class ClinicSpec:
    """How big and how messy the demo practice is."""

    seed: int = 2026
    start: date = date(2026, 6, 1)
    weeks: int = 13
    patients: int = 120
    mistake_rate: float = 0.05


@dataclass(slots=True)
class Staff:
    """The practice's clinicians by discipline."""

    therapists: dict[Discipline, list[Provider]] = field(default_factory=dict)
    assistants: dict[Discipline, list[Provider]] = field(default_factory=dict)


def make_staff() -> Staff:
    """Three PTs, two PTAs, two OTs, an OTA and two SLPs, with valid NPIs."""
    people = (
        ("146756000", "Ana", "Ruiz", Credential.PT), ("145739001", "Ben", "Okafor", Credential.PT),
        ("166782340", "Chloe", "Nguyen", Credential.PT),
        ("158866763", "Joe", "Kim", Credential.PTA), ("158866770", "Maria", "Diaz", Credential.PTA),
        ("124531959", "Lin", "Park", Credential.OT), ("124531960", "Owen", "Hart", Credential.OT),
        ("105338223", "Ivy", "Moss", Credential.OTA),
        ("138660422", "Sam", "Ode", Credential.SLP), ("138660433", "Rita", "Vance", Credential.SLP),
    )
    staff = Staff()
    for base, first, last, credential in people:
        provider = Provider(make_npi(base), first, last, credential)
        bucket = staff.assistants if credential.is_assistant else staff.therapists
        bucket.setdefault(credential.discipline, []).append(provider)
    return staff


_FIRST = ("Mark", "Linda", "James", "Maria", "Robert", "Patricia", "David", "Jennifer", "Carlos",
          "Susan", "Thomas", "Karen", "Wei", "Nancy", "Ahmed", "Betty", "Luis", "Dorothy",
          "George", "Helen", "Raj", "Grace", "Frank", "Alice")
_LAST = ("Lee", "Garcia", "Smith", "Johnson", "Brown", "Martinez", "Davis", "Lopez", "Wilson",
         "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Chen", "Patel", "Walker")
_STREETS = ("Oak St", "Elm Ave", "Cedar Ln", "Pecan Dr", "Lamar Blvd", "Congress Ave")


def generate_visits(spec: ClinicSpec | None = None) -> list[Visit]:
    """Every visit of the demo practice over ``spec.weeks`` weeks, in date order.

    Args:
        spec: size, dates, seed and mistake rate (defaults: 120 patients over 13 weeks).

    Returns:
        The visits, each complete enough to code, scrub, bill and post.
    """
    spec = spec or ClinicSpec()
    rng = random.Random(spec.seed)
    staff = make_staff()
    visits: list[Visit] = []
    for n in range(spec.patients):
        visits.extend(_episode(rng, spec, staff, n))
    visits.sort(key=lambda v: (v.date_of_service, v.visit_id))
    return visits


def secondary_coverages(visits: Sequence[Visit], seed: int = 2026) -> dict[str, Coverage]:
    """The secondary coverage of the Medicare patients who have one, by patient id.

    Args:
        visits: the practice's visits (``generate_visits``).
        seed: the random stream (its own, so the visits are not changed by it).

    Returns:
        ``{patient id: Coverage}`` with ``sequence="secondary"``, about half of the Medicare
        patients (``SECONDARY_PAYERS`` shares).
    """
    rng = random.Random(f"{seed}-secondary")
    out: dict[str, Coverage] = {}
    patients = {v.patient.id: v.coverage for v in visits}
    for patient_id in sorted(patients):
        if not patients[patient_id].plan.startswith("medicare"):
            continue
        draw = rng.random()
        for payer_id, name, plan, group, share in SECONDARY_PAYERS:
            if draw < share:
                member = (f"{rng.randint(10**8, 10**9 - 1)}" if plan == "medicaid"
                          else f"MG{rng.randint(10**7, 10**8 - 1)}")
                out[patient_id] = Coverage(payer_id, name, member, plan, "self", group,
                                           sequence="secondary")
                break
            draw -= share
    return out


def visit_records(visits: Sequence[Visit], secondaries: Mapping[str, Coverage]
                  ) -> list[dict[str, Any]]:
    """The visits as visit-file objects, each with its patient's ``secondary_coverage``."""
    out = []
    for visit in visits:
        record = visit_to_json(visit)
        other = secondaries.get(visit.patient.id)
        if other is not None:
            record["secondary_coverage"] = {
                "payer_id": other.payer_id, "payer_name": other.payer_name,
                "member_id": other.member_id, "plan": other.plan,
                "relationship": other.relationship, "group_number": other.group_number}
        out.append(record)
    return out


def write_visit_file(visits: Sequence[Visit], path: Path, *, seed: int = 2026) -> Path:
    """Write the practice's visits, with the secondary coverages, as a visit file (JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = visit_records(visits, secondary_coverages(visits, seed))
    with path.open("w", encoding="utf-8") as handle:
        json.dump(records, handle, separators=(",", ":"))
    return path


def _patient(rng: random.Random, n: int, medicare: bool) -> Patient:
    age = rng.randint(66, 90) if medicare else rng.randint(22, 64)
    born = date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
    return Patient(f"P-{n + 1:04d}", rng.choice(_FIRST), rng.choice(_LAST), born,
                   rng.choice("MF"), Address(f"{rng.randint(10, 9999)} {rng.choice(_STREETS)}",
                                             "Austin", "TX", f"787{rng.randint(0, 59):02d}"))


def _coverage(rng: random.Random) -> Coverage:
    payer_id, name, plan, _ = rng.choices(PAYERS, weights=[p[3] for p in PAYERS])[0]
    if plan.startswith("medicare"):
        digits = [rng.randint(1, 9) for _ in range(3)]
        member = f"{digits[0]}EG{digits[1]}TE{digits[2]}MK{rng.randint(10, 99)}"
    else:
        member = f"{payer_id[:3]}{rng.randint(10**8, 10**9 - 1)}"
    return Coverage(payer_id, name, member, plan, "self",
                    "" if plan.startswith("medicare") else f"GRP{rng.randint(1000, 9999)}")


def _episode(rng: random.Random, spec: ClinicSpec, staff: Staff, n: int) -> Iterator[Visit]:
    discipline = rng.choices(list(Discipline), weights=(6, 3, 1))[0]
    coverage = _coverage(rng)
    patient = _patient(rng, n, coverage.plan.startswith("medicare"))
    therapist = rng.choice(staff.therapists[discipline])
    assistants = staff.assistants.get(discipline, [])
    start = spec.start + timedelta(days=rng.randint(0, spec.weeks * 7 - 14))
    start += timedelta(days=(7 - start.weekday()) % 7 if start.weekday() > 4 else 0)
    weeks = rng.randint(4, 10)
    per_week = rng.choice((2, 2, 3))
    plan = PlanOfCare(start, start + timedelta(days=89), start + timedelta(days=rng.randint(1, 12)),
                      make_npi(f"14{rng.randint(1000000, 9999999)}"), discipline)
    auth = None
    if not coverage.plan.startswith("medicare"):
        auth = Authorization(f"AU{rng.randint(100000, 999999)}", start,
                             start + timedelta(days=90), weeks * per_week + 2)
    diagnoses = rng.choice(DIAGNOSES[discipline])
    to_date = TherapyToDate(pt_slp=Decimal(rng.choice((0, 0, 0, 600, 1400, 2100))))
    end = spec.start + timedelta(weeks=spec.weeks)
    day = start
    visit_no = 0
    since_report = 0
    while visit_no < weeks * per_week and day < end:
        if day.weekday() < 5 and (visit_no == 0 or rng.random() < per_week / 5):
            visit_no += 1
            since_report = 0 if visit_no == 1 or since_report >= 9 else since_report + 1
            visit = _visit(rng, staff, discipline, therapist, assistants, patient, coverage,
                           plan, auth, diagnoses, visit_no, since_report, day, to_date)
            if rng.random() < spec.mistake_rate:
                visit = _with_mistake(rng, visit)
            if coverage.plan.startswith("medicare"):
                added = sum((expected_allowed(line, visit, load())
                             for line in code_visit(visit).claim.lines), Decimal(0))
                to_date = TherapyToDate(pt_slp=to_date.pt_slp + added) \
                    if discipline is not Discipline.OT else TherapyToDate(ot=to_date.ot + added)
            yield visit
        day += timedelta(days=1)


def _visit(rng: random.Random, staff: Staff, discipline: Discipline, therapist: Provider,
           assistants: list[Provider], patient: Patient, coverage: Coverage, plan: PlanOfCare,
           auth: Authorization | None, diagnoses: tuple[str, ...], visit_no: int,
           since_report: int, day: date, to_date: TherapyToDate) -> Visit:
    assistant = rng.choice(assistants) if assistants and visit_no > 1 and rng.random() < 0.35 \
        else None
    if visit_no == 1:
        services = [Service(rng.choice(EVALUATIONS[discipline]), minutes=rng.choice((30, 45)))]
        services.extend(_treatment(rng, discipline, None, 1))
    else:
        services = _treatment(rng, discipline, assistant, rng.choice((2, 3, 3, 4)))
    if discipline is not Discipline.SLP and visit_no > 1 and rng.random() < 0.06:
        services = [Service("97150", minutes=rng.choice((30, 45)), mode=Mode.GROUP,
                            activity="balance and endurance circuit in a group of 3",
                            goal="walk 15 minutes without rest")]
    auth_now = None if auth is None else replace(auth, visits_used=visit_no - 1)
    if assistant is not None and not any(s.assistant_minutes for s in services):
        assistant = None
    return Visit(
        visit_id=f"V-{patient.id[2:]}-{visit_no:02d}",
        date_of_service=day,
        billing_provider=PRACTICE,
        patient=patient,
        coverage=coverage,
        rendering_provider=therapist,
        assistant=assistant,
        services=tuple(services),
        diagnoses=diagnoses,
        plan_of_care=plan,
        authorization=auth_now,
        visit_number_in_episode=visit_no,
        treatment_days_since_progress_report=since_report,
        therapy_to_date=to_date,
        total_treatment_minutes=sum(s.total_minutes for s in services),
    )


def _treatment(rng: random.Random, discipline: Discipline, assistant: Provider | None,
               count: int) -> list[Service]:
    options = TREATMENT[discipline]
    chosen = rng.sample(options, min(count, len(options)))
    services = []
    for code, activity, goal in chosen:
        if code in ("92507", "92526"):
            services.append(Service(code, minutes=rng.choice((30, 45)), activity=activity,
                                    goal=goal))
            continue
        minutes = rng.choice((8, 10, 12, 13, 15, 15, 18, 20, 22, 23, 25, 30))
        helper = 0
        if assistant is not None and rng.random() < 0.6:
            helper, minutes = (minutes, 0) if rng.random() < 0.5 else \
                (rng.randint(5, 14), rng.randint(0, 14))
        services.append(Service(code, minutes=minutes, assistant_minutes=helper,
                                activity=activity, goal=goal,
                                assistance=rng.choice(ASSISTANCE) if code in (
                                    "97530", "97535", "97116") else ""))
    return services


def _with_mistake(rng: random.Random, visit: Visit) -> Visit:
    kind = rng.choice(MISTAKES)
    services = list(visit.services)
    if kind == "missing_goal":
        services[0] = replace(services[0], goal="")
    elif kind == "group_one_on_one" and visit.discipline is not Discipline.SLP:
        services.append(Service("97530", minutes=20, mode=Mode.GROUP,
                                activity="transfer practice", goal="independent transfers",
                                assistance="contact guard"))
    elif kind == "ncci_group_pair" and visit.discipline is not Discipline.SLP:
        services.append(Service("97150", minutes=30, mode=Mode.GROUP,
                                activity="group balance class", goal="walk without a fall"))
    elif kind == "expired_plan" and visit.plan_of_care is not None:
        plan = visit.plan_of_care
        return replace(visit, plan_of_care=replace(plan, end=visit.date_of_service
                                                   - timedelta(days=3)))
    elif kind == "uncertified_plan" and visit.plan_of_care is not None:
        return replace(visit, plan_of_care=replace(visit.plan_of_care, certified_on=None))
    elif kind == "header_diagnosis":
        return replace(visit, diagnoses=("M54.5", *visit.diagnoses[1:]))
    elif kind == "progress_report_overdue":
        return replace(visit, treatment_days_since_progress_report=12)
    elif kind == "bad_npi":
        npi = visit.rendering_provider.npi
        wrong = npi[:9] + str((int(npi[9]) + 1) % 10)
        return replace(visit, rendering_provider=replace(visit.rendering_provider, npi=wrong))
    return replace(visit, services=tuple(services))


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
