"""Hypothesis strategies for domain values (visits the parser accepts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from rehabill.domain import (
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

CODES = ["97110", "97112", "97140", "97530", "97535", "97150", "97161", "97165", "92507",
         "97035", "97116", "97010"]
text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
               max_size=12).map(str.strip).filter(bool)
dates = st.dates(date(2024, 1, 1), date(2026, 12, 31))
#: A coverage's start and end: either side open, and never an end before the start.
coverage_periods = (st.one_of(st.none(), st.dates(date(2024, 1, 1), date(2025, 6, 30))),
                    st.one_of(st.none(), st.dates(date(2025, 7, 1), date(2026, 12, 31))))
amounts = st.decimals(min_value=0, max_value=9999, places=2, allow_nan=False,
                      allow_infinity=False).map(lambda d: Decimal(str(d)))
addresses = st.builds(Address, text, text, st.sampled_from(["TX", "CA", "NY"]),
                      st.from_regex(r"[0-9]{5}([0-9]{4})?", fullmatch=True), st.one_of(st.just(""),
                                                                                  text))
providers = st.builds(Provider, st.from_regex(r"1[0-9]{9}", fullmatch=True), text, text,
                      st.sampled_from(list(Credential)))
services = st.builds(
    Service, st.sampled_from(CODES), st.integers(0, 90), st.integers(0, 60),
    st.sampled_from(list(Mode)), st.one_of(st.just(""), text), st.one_of(st.just(""), text),
    st.one_of(st.just(""), text), st.one_of(st.none(), st.sampled_from(list(DistinctReason))),
    st.one_of(st.none(), st.integers(0, 8)),
    st.lists(st.sampled_from(["GP", "GO", "CQ", "59", "KX"]), max_size=3,
             unique=True).map(tuple),
    st.one_of(st.none(), amounts))
visits = st.builds(
    Visit,
    visit_id=text,
    date_of_service=dates,
    billing_provider=st.builds(BillingProvider, st.from_regex(r"1[0-9]{9}", fullmatch=True),
                               st.from_regex(r"[0-9]{9}", fullmatch=True), text, addresses),
    patient=st.builds(Patient, text, text, text, dates, st.sampled_from(["M", "F", "U"]),
                      st.one_of(st.none(), addresses)),
    coverage=st.builds(Coverage, text.map(str.upper), text, text,
                       st.sampled_from(["medicare_part_b", "commercial"]),
                       st.sampled_from(["self", "spouse", "child"]),
                       st.one_of(st.just(""), text),
                       st.one_of(st.none(), st.builds(Subscriber, text, text,
                                                      st.one_of(st.none(), dates),
                                                      st.sampled_from(["", "M", "F"]))),
                       st.just("primary"), *coverage_periods),
    rendering_provider=providers,
    services=st.lists(services, min_size=1, max_size=5).map(tuple),
    diagnoses=st.lists(st.sampled_from(["I69.351", "R26.89", "M54.50", "G81.91"]),
                       max_size=4).map(tuple),
    place_of_service=st.sampled_from(["11", "22"]),
    assistant=st.one_of(st.none(), providers),
    supervising_provider=st.one_of(st.none(), providers),
    plan_of_care=st.one_of(st.none(), st.builds(PlanOfCare, dates, dates,
                                                st.one_of(st.none(), dates),
                                                st.one_of(st.just(""), st.just("1457390007")),
                                                st.one_of(st.none(),
                                                          st.sampled_from(list(Discipline))))),
    authorization=st.one_of(st.none(), st.builds(Authorization, text, dates, dates,
                                                 st.one_of(st.none(), st.integers(0, 40)),
                                                 st.integers(0, 40),
                                                 st.one_of(st.none(), st.integers(0, 99)),
                                                 st.integers(0, 99))),
    visit_number_in_episode=st.one_of(st.none(), st.integers(1, 60)),
    treatment_days_since_progress_report=st.one_of(st.none(), st.integers(0, 20)),
    total_treatment_minutes=st.one_of(st.none(), st.integers(0, 200)),
    therapy_to_date=st.builds(TherapyToDate, amounts, amounts),
    onset_date=st.one_of(st.none(), dates),
    referring_npi=st.one_of(st.just(""), st.just("1457390007")),
)
