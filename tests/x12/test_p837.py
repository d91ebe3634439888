"""837P writer: golden file, pyx12 validation across every optional loop, HL grouping, streaming."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rehabill.domain import (
    Address,
    Adjustment,
    Claim,
    Frequency,
    LineAdjudication,
    PriorPayer,
    Visit,
)
from rehabill.errors import ConfigError
from rehabill.testing import finding_codes
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837 import (
    BatchSettings,
    check_claim,
    envelope_837p,
    grouping_key,
    write_837p,
    x12_amount,
)
from rehabill.x12.p837_reader import read_837p
from rehabill.x12.reader import read_x12
from rehabill.x12.tokens import Delimiters, tokenize

from .helpers import (
    COMMERCIAL,
    SECONDARY,
    SPOUSE,
    SUPERVISOR,
    claim_for,
    medicare_paid,
    pyx12_errors,
    render,
    settings,
    visit,
)

GOLDEN = Path(__file__).parent.parent / "data" / "837p_golden.x12"
SECONDARY_GOLDEN = Path(__file__).parent.parent / "data" / "837p_secondary.x12"


def golden_claims() -> list[Claim]:
    """The four claims behind the golden file: every optional loop at least once."""
    v1 = visit("97530=25 97110=10/13 97161", visit_id="V-1001")
    v2 = visit("97112=38 97140=15", visit_id="V-1002", authorization=None,
               onset_date=date(2026, 1, 15))
    v3 = visit("97110=30", visit_id="V-1003", patient=SPOUSE, coverage=COMMERCIAL)
    v4 = visit("97530=40", visit_id="V-1004", supervising_provider=SUPERVISOR)
    return [claim_for(v1), claim_for(v2), claim_for(v3),
            claim_for(v4, Frequency.REPLACEMENT, "PAYER-CCN-778")]


def _secondary(v: Visit, prior_subscriber: bool = False) -> Claim:
    claim = claim_for(v)
    prior = medicare_paid(claim)
    if prior_subscriber:
        prior = replace(prior, relationship="spouse", subscriber=COMMERCIAL.subscriber)
    return replace(claim, prior_payers=(prior,))


def secondary_claim() -> Claim:
    """The claim behind the secondary golden file: Medicare paid 80% of the allowed amount
    (CO-45 contractual, PR-2 coinsurance), and the balance goes to the patient's commercial
    plan with Medicare's adjudication per line."""
    return _secondary(visit("97110=30 97140=15 97530=23", visit_id="V-2001", coverage=SECONDARY))


def segments_of(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def test_p837__matches_golden_file() -> None:
    text = render(golden_claims(), settings(line_breaks=True))
    assert text == GOLDEN.read_text()


def test_p837__golden_file_passes_pyx12() -> None:
    assert pyx12_errors(GOLDEN.read_text()) == []


def test_p837__golden_file_reads_back_without_findings() -> None:
    results = read_x12(GOLDEN.read_text(), "golden.x12")
    assert [r["kind"] for r in results] == ["837P"]
    assert results[0]["findings"] == []
    assert results[0]["totals"] == {"claims": 4, "lines": 7, "charge": "493.50"}


def _variants() -> dict[str, list[Claim]]:
    base = visit()
    return {
        "plain": [claim_for(base)],
        "assistant_cq": [claim_for(visit("97110=10/13 97530=8/15"))],
        "supervising": [claim_for(visit(supervising_provider=SUPERVISOR))],
        "no_prior_auth": [claim_for(visit(authorization=None))],
        "replacement": [claim_for(base, Frequency.REPLACEMENT, "ORIG-1")],
        "void": [claim_for(base, Frequency.VOID, "ORIG-2")],
        "dependent": [claim_for(visit(patient=SPOUSE, coverage=COMMERCIAL))],
        "child_no_subscriber_address": [claim_for(visit(
            patient=SPOUSE, coverage=replace(COMMERCIAL, relationship="child",
                                             subscriber=replace(COMMERCIAL.subscriber,
                                                                address=None,
                                                                birth_date=None))))],
        "many_lines": [claim_for(visit(" ".join(f"9711{i % 10}=15" for i in range(50))))],
        "one_diagnosis": [claim_for(visit(diagnoses=("M54.50",)))],
        "twelve_diagnoses": [claim_for(visit(diagnoses=(
            *(f"M62.8{i}" for i in range(1, 10)), "R26.89", "R26.2", "Z74.09")))],
        "onset_no_plan": [claim_for(visit(onset_date=date(2026, 1, 2), plan_of_care=None))],
        "pay_to": [claim_for(visit(billing_provider=replace(
            visit().billing_provider, taxonomy="261QR0400X",
            pay_to=Address("PO Box 9", "Austin", "TX", "787019999"))))],
        "commercial_self": [claim_for(visit(coverage=replace(COMMERCIAL, relationship="self",
                                                             subscriber=None)))],
        "many_claims": [claim_for(visit(visit_id=f"V-{i}")) for i in range(30)],
        "mixed": golden_claims() * 3,
        "secondary": [secondary_claim()],
        "secondary_dependent": [_secondary(visit(patient=SPOUSE, coverage=replace(
            COMMERCIAL, sequence="secondary")), prior_subscriber=True)],
    }


@pytest.mark.parametrize("name", sorted(_variants()))
def test_p837__pyx12_accepts_every_optional_loop(name: str) -> None:
    claims = _variants()[name]
    for claim in claims:
        assert [f for f in check_claim(claim) if f.is_error] == []
    text = render(claims, settings())
    assert pyx12_errors(text) == []
    [result] = read_x12(text)
    assert result["findings"] == []
    assert [c["claim_id"] for c in result["claims"]] == [c.claim_id for c in claims]


def test_p837__supervising_loop_only_when_someone_else_supervises() -> None:
    own = render([claim_for(visit("97110=10/13"))], settings())
    other = render([claim_for(visit(supervising_provider=SUPERVISOR))], settings())
    assert "NM1*DQ" not in own
    assert "NM1*DQ*1*COLE*DANA****XX*1457390007~" in other


def test_p837__replacement_carries_frequency_and_original_reference() -> None:
    text = render([claim_for(visit(), Frequency.REPLACEMENT, "ORIG-9")], settings())
    assert "*11:B:7*Y*A*Y*Y~" in text
    assert "REF*F8*ORIG-9~" in text


def test_p837__hl_levels_group_by_billing_provider_subscriber_and_patient() -> None:
    other_practice = replace(visit().billing_provider, npi="1245319599", tax_id="987654321")
    claims = [
        claim_for(visit(visit_id="A1")),
        claim_for(visit(visit_id="A2")),
        claim_for(visit(visit_id="B1", patient=SPOUSE, coverage=COMMERCIAL)),
        claim_for(visit(visit_id="B2", patient=SPOUSE, coverage=COMMERCIAL)),
        claim_for(visit(visit_id="C1", billing_provider=other_practice)),
    ]
    text = render(sorted(claims, key=grouping_key), settings())
    hls = [s for s in segments_of(text) if s.startswith("HL*")]
    # C1 (other practice), then B1+B2 (one subscriber, one dependent), then A1+A2.
    assert hls == [
        "HL*1**20*1", "HL*2*1*22*0",
        "HL*3**20*1", "HL*4*3*22*1", "HL*5*4*23*0", "HL*6*3*22*0",
    ]
    assert text.count("CLM*") == 5
    assert pyx12_errors(text) == []


def test_p837__a_subscriber_level_holds_at_most_100_claims() -> None:
    claims = [claim_for(visit("97110=15", visit_id=f"V-{i}")) for i in range(150)]
    text = render(claims, settings())
    hls = [s for s in segments_of(text) if s.startswith("HL*")]
    assert hls == ["HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*0"]
    assert text.count("CLM*") == 150
    assert pyx12_errors(text) == []


def test_p837__transactions_split_at_the_configured_claim_count() -> None:
    claims = [claim_for(visit("97110=15", visit_id=f"V-{i}")) for i in range(12)]
    text = render(claims, settings(claims_per_transaction=5))
    segs = segments_of(text)
    assert [s for s in segs if s.startswith("ST*")] == [
        "ST*837*0001*005010X222A1", "ST*837*0002*005010X222A1", "ST*837*0003*005010X222A1"]
    assert segs[-2] == "GE*3*101"
    assert pyx12_errors(text) == []
    [_, _, findings] = tokenize(text)
    assert findings == []


def test_p837__streams_in_chunks_and_reports_what_it_wrote() -> None:
    chunks: list[str] = []
    claims = (claim_for(visit("97110=15", visit_id=f"V-{i}")) for i in range(200))
    summary = write_837p(claims, settings(), chunks.append)
    assert len(chunks) > 3
    text = "".join(chunks)
    assert summary.claims == 200
    assert summary.lines == 200
    assert summary.characters == len(text)
    assert summary.transaction_numbers == ("0001",)
    assert summary.segments == len(segments_of(text))
    assert pyx12_errors(text) == []


@pytest.mark.parametrize("delimiters", [
    Delimiters("|", ">", "^", "~"),
    Delimiters("*", "^", "{", "\n"),
])
def test_p837__configurable_delimiters_read_back(delimiters: Delimiters) -> None:
    text = render(golden_claims(), settings(delimiters=delimiters))
    assert text[3] == delimiters.element
    assert text[105] == delimiters.segment
    [result] = read_x12(text)
    assert result["findings"] == []
    assert result["claims"][0]["lines"][1]["modifiers"] == ["GP", "CQ"]
    assert pyx12_errors(text) == []


def test_p837__production_flag_sets_isa15() -> None:
    assert render([claim_for(visit())], settings(production=True))[102] == "P"
    assert render([claim_for(visit())], settings())[102] == "T"


def test_p837__delimiters_inside_data_are_replaced() -> None:
    patient = replace(visit().patient, last_name="O*BRIEN~JR")
    text = render([claim_for(visit(patient=patient))], settings())
    assert "NM1*IL*1*O BRIEN JR*MARK" in text
    assert pyx12_errors(text) == []


def test_p837__settings_need_a_contact_and_a_valid_control_number() -> None:
    with pytest.raises(ConfigError):
        settings(contact_phone="")
    with pytest.raises(ConfigError):
        settings(interchange_control_number=0)
    assert isinstance(settings(contact_phone="", contact_email="a@b.c"), BatchSettings)


@pytest.mark.parametrize(("value", "text"), [
    ("80.00", "80"), ("80.50", "80.5"), ("0.05", "0.05"), ("1234.567", "1234.57"), ("0", "0"),
])
def test_x12_amount__drops_trailing_zeros(value: str, text: str) -> None:
    from decimal import Decimal
    assert x12_amount(Decimal(value)) == text


@pytest.mark.parametrize(("overrides", "codes"), [
    ({}, []),
    ({"billing_provider": replace(visit().billing_provider, npi="1234567890")},
     ["x12.837p.invalid_npi"]),
    ({"billing_provider": replace(visit().billing_provider, tax_id="12-34")},
     ["x12.837p.invalid_tax_id"]),
    ({"billing_provider": replace(visit().billing_provider,
                                  address=Address("1 Main", "Austin", "TX", "78701"))},
     ["x12.837p.billing_zip_not_9"]),
    ({"diagnoses": ()}, ["x12.837p.bad_pointer", "x12.837p.bad_pointer",
                         "x12.837p.bad_pointer", "x12.837p.missing_diagnosis"]),
    ({"coverage": replace(COMMERCIAL, sequence="secondary")},
     ["x12.837p.secondary_without_prior_payer"]),
    ({"coverage": replace(COMMERCIAL, plan="barter")}, ["x12.837p.unknown_plan"]),
    ({"coverage": replace(COMMERCIAL, subscriber=None)}, ["x12.837p.missing_subscriber"]),
    ({"patient": replace(visit().patient, address=None)},
     ["x12.837p.missing_patient_address"]),
    ({"visit_id": "V-" + "9" * 19}, ["x12.837p.long_claim_id"]),
])
def test_check_claim__names_what_the_guide_needs(overrides: dict[str, object],
                                                  codes: list[str]) -> None:
    assert finding_codes(check_claim(claim_for(visit(**overrides)))) == codes


def test_check_claim__replacement_needs_the_original_reference() -> None:
    claim = claim_for(visit(), Frequency.REPLACEMENT)
    assert finding_codes(check_claim(claim)) == ["x12.837p.missing_original_reference"]


@pytest.mark.parametrize("line_breaks", [False, True])
def test_p837__sets_written_apart_in_their_envelope_are_the_whole_file(line_breaks: bool) -> None:
    # a big payer's file is written set by set in two processes, then put together
    claims = [claim_for(visit("97110=15", visit_id=f"V-{i}")) for i in range(11)]
    whole = settings(claims_per_transaction=4, line_breaks=line_breaks)
    sets = []
    for number, start in enumerate(range(0, 11, 4)):
        chunks: list[str] = []
        summary = write_837p(claims[start:start + 4],
                             replace(whole, first_transaction_number=1 + number),
                             chunks.append, envelope=False)
        assert summary.transaction_numbers == (f"{1 + number:04d}",)
        sets.append("".join(chunks))
    head, tail = envelope_837p(whole, transactions=3)
    assert head + "".join(sets) + tail == render(claims, whole)


def test_p837__reader_sees_every_transaction_of_a_split_batch() -> None:
    claims = [claim_for(visit("97110=15", visit_id=f"V-{i}")) for i in range(7)]
    text = render(claims, settings(claims_per_transaction=3))
    delimiters, segments, _ = tokenize(text)
    assert delimiters is not None
    envelope: list[object] = []
    read = [read_837p(t, delimiters) for t in split_transactions(segments, envelope)]  # type: ignore[arg-type]
    assert [len(t.claims) for t in read] == [3, 3, 1]
    assert envelope == []


def test_segment_writer__str_subclasses_are_plain_elements() -> None:
    from rehabill.x12.envelope import SegmentWriter

    writer = SegmentWriter()
    writer.segment("CLM", Frequency.REPLACEMENT, ("11", "B", Frequency.VOID))
    assert writer.text() == "CLM*7*11:B:8~"


def test_p837__secondary_matches_golden_file() -> None:
    text = render([secondary_claim()], settings(line_breaks=True))
    assert text == SECONDARY_GOLDEN.read_text()


def test_p837__secondary_golden_file_passes_pyx12_and_reads_back() -> None:
    text = SECONDARY_GOLDEN.read_text()
    assert pyx12_errors(text) == []
    [result] = read_x12(text, "secondary.x12")
    assert result["findings"] == []
    [claim] = result["claims"]
    assert (claim["payer_id"], claim["member_id"]) == ("60054", "W123456789")
    assert [line["code"] for line in claim["lines"]] == ["97110", "97140", "97530"]


def test_p837__secondary_carries_the_primary_payers_adjudication() -> None:
    claim = secondary_claim()
    found = segments_of(render([claim], settings()))
    assert "SBR*S*18*GRP100******CI" in found
    assert "SBR*P*18*******MB" in found
    assert "AMT*D*112.8" in found
    assert "OI***Y***Y" in found
    assert "NM1*PR*2*MEDICARE PART B*****PI*MEDICARE" in found
    assert "SVD*MEDICARE*45.12*HC:97110:GP**2" in found
    assert found.count("DTP*573*D8*20260320") == 3
    assert check_claim(claim) == []


def test_p837__claim_level_adjustments_group_by_code_six_to_a_segment() -> None:
    claim = claim_for(visit("97110=30", coverage=SECONDARY))
    adjustments = (*(Adjustment("CO", str(r), Decimal("1")) for r in range(100, 108)),
                   Adjustment("OA", "23", Decimal("2")))
    prior = PriorPayer("MEDICARE", "Medicare Part B", "1EG4TE5MK73", "medicare_part_b",
                       Decimal("10"), date(2026, 3, 20), adjustments=adjustments)
    found = segments_of(render([replace(claim, prior_payers=(prior,))], settings()))
    assert [s for s in found if s.startswith("CAS")] == [
        "CAS*CO*100*1**101*1**102*1**103*1**104*1**105*1", "CAS*CO*106*1**107*1",
        "CAS*OA*23*2"]
    # no line adjudication: the adjudication date goes on the claim (2330B), no 2430
    assert "DTP*573*D8*20260320" in found
    assert not any(s.startswith("SVD") for s in found)


def test_p837__lines_the_prior_payer_did_not_report_get_no_2430() -> None:
    claim = claim_for(visit("97110=30 97140=15", coverage=SECONDARY))
    prior = medicare_paid(claim)
    one = replace(prior, lines=prior.lines[:1], paid=prior.lines[0].paid)
    found = segments_of(render([replace(claim, prior_payers=(one,))], settings()))
    assert len([s for s in found if s.startswith("SVD")]) == 1


def test_check_claim__prior_payer_must_balance() -> None:
    claim = claim_for(visit("97110=30 97140=15", coverage=SECONDARY))
    prior = medicare_paid(claim)
    short_line = replace(prior.lines[0], paid=prior.lines[0].paid - 1)
    assert finding_codes(check_claim(replace(claim, prior_payers=(
        replace(prior, lines=(short_line, prior.lines[1]), paid=prior.paid - 1),)))) == [
        "x12.837p.cob_line_unbalanced"]
    assert finding_codes(check_claim(replace(claim, prior_payers=(
        replace(prior, paid=prior.paid + 5),)))) == ["x12.837p.cob_claim_unbalanced"]
    # claim-level adjustments reduce what the lines paid
    assert check_claim(replace(claim, prior_payers=(replace(
        prior, paid=prior.paid - 2, adjustments=(Adjustment("CO", "253", Decimal("2")),)),))) == []


def test_check_claim__lines_match_by_number_without_control_numbers() -> None:
    claim = claim_for(visit("97110=30 97140=15", coverage=SECONDARY))
    claim = replace(claim, lines=tuple(replace(line, control_number="") for line in claim.lines))
    prior = medicare_paid(claim)
    assert check_claim(replace(claim, prior_payers=(prior,))) == []
    swapped = replace(prior, lines=(replace(prior.lines[0], line_number=2),
                                    replace(prior.lines[1], line_number=1)))
    assert finding_codes(check_claim(replace(claim, prior_payers=(swapped,)))) == [
        "x12.837p.cob_line_unbalanced", "x12.837p.cob_line_unbalanced"]
    assert isinstance(prior.lines[0], LineAdjudication)


def test_p837__a_month_of_repeated_lines_is_written_as_each_claim_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer builds a recurring line (LX, SV1), day (DTP*472), set of codes (HI),
    therapist (NM1*82, PRV) and CLM tail once and recalls them: the batch is byte for byte
    the one a writer that builds every segment afresh writes (odd ids and control numbers
    included, which take the slow path)."""
    from rehabill.x12.envelope import SegmentWriter

    claims = []
    for i in range(12):
        v = visit("97110=30 97140=15" if i % 2 else "97530=25 97110=10 97161",
                  visit_id=f"V-{i % 5}*{i}" if i == 7 else f"V-{i}",
                  date_of_service=date(2026, 3, 2 + i % 3))
        claims.append(claim_for(v))
    recalled = render(claims, settings())
    monkeypatch.setattr(SegmentWriter, "recall", lambda self, key: False)
    monkeypatch.setattr(SegmentWriter, "headed", SegmentWriter.segment)
    monkeypatch.setattr(SegmentWriter, "tailed", SegmentWriter.segment)
    assert recalled == render(claims, settings())
    assert recalled.count("LX*1~") == 12
