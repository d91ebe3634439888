"""Every claim leaves through the scrubber: prepare_claims and the web preview's live scrubber."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rehabill.coding import UnitMethod, code_visit
from rehabill.services.scrubbing import default_settings, live_scrubber, prepare_claims
from rehabill.testing import COMMERCIAL, PATIENT, visit_from_terms

TODAY = date(2026, 4, 1)


def test_prepare_claims__holds_back_scrub_errors_and_sends_the_rest() -> None:
    good = visit_from_terms("97530=25 97110=23", visit_id="V-GOOD")
    bad = visit_from_terms("97530=25", visit_id="V-BAD", diagnoses=("M54.5",),
                           patient=replace(PATIENT, id="P-2"))
    prepared = prepare_claims([good, bad], [], default_settings(TODAY))
    assert [c.claim_id for c in prepared.claims] == ["V-GOOD"]
    (held_id, findings), = prepared.held
    assert held_id == "V-BAD"
    assert "identity.icd_not_billable" in {f.code for f in findings}


def test_prepare_claims__a_forced_method_overrides_the_policy() -> None:
    visit = visit_from_terms("97112=24 97110=23", coverage=COMMERCIAL)
    per_code = prepare_claims([visit], [], default_settings(TODAY))
    cms = prepare_claims([visit], [], default_settings(TODAY, method=UnitMethod.CMS))
    assert sum(line.units for line in per_code.claims[0].lines) == 4
    assert sum(line.units for line in cms.claims[0].lines) == 3


def test_live_scrubber__policy_options_and_every_rule() -> None:
    options_for, check = live_scrubber(default_settings(TODAY))
    visit = visit_from_terms("97530=25")
    visit = replace(visit, services=(replace(visit.services[0], goal=""),))
    assert options_for(visit).method is UnitMethod.CMS
    assert options_for(replace(visit, coverage=COMMERCIAL)).method is UnitMethod.PER_CODE
    codes = {f.code for f in check(visit, code_visit(visit, options=options_for(visit)))}
    assert "documentation.goal_missing" in codes
