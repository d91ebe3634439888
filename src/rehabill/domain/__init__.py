"""Domain values: visits, claims, money, findings. Frozen, no I/O.

The names in ``__all__`` are the domain API that the rest of rehabill (and users' scripts) use;
``tests/domain/test_exports.py`` holds it in place.
"""

from rehabill.domain.claim import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimStatus,
    Frequency,
    LineAdjudication,
    PriorPayer,
)
from rehabill.domain.findings import Finding, Location, Severity, has_errors, sort_findings
from rehabill.domain.money import CENT, ZERO, D, format_amount, parse_amount, round_cents
from rehabill.domain.npi import is_valid_npi
from rehabill.domain.parse import ParseResult, parse_visit, parse_visits
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.domain.serialize import visit_to_json
from rehabill.domain.visit import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Credential,
    Discipline,
    DistinctReason,
    Mode,
    Patient,
    PlanOfCare,
    Provider,
    Service,
    Subscriber,
    TherapyToDate,
    Visit,
)

__all__ = [
    "CENT",
    "ZERO",
    "Address",
    "Adjustment",
    "Authorization",
    "BillingProvider",
    "Claim",
    "ClaimLine",
    "ClaimStatus",
    "Coverage",
    "Credential",
    "D",
    "Discipline",
    "DistinctReason",
    "Finding",
    "Frequency",
    "LineAdjudication",
    "Location",
    "Mode",
    "ParseResult",
    "Patient",
    "PlanOfCare",
    "PriorPayer",
    "Provider",
    "Service",
    "Severity",
    "Subscriber",
    "TherapyToDate",
    "Visit",
    "format_amount",
    "has_errors",
    "is_valid_npi",
    "parse_amount",
    "parse_visit",
    "parse_visits",
    "round_cents",
    "sort_findings",
    "visit_to_json",
]

# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
