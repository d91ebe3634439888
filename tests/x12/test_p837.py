"""837P writer: golden file, pyx12 validation across every optional loop, HL grouping, streaming."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from rehabill.domain import Address, Claim, Frequency
from rehabill.errors import ConfigError
from rehabill.testing import finding_codes
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837 import (
    BatchSettings,
    check_claim,
    grouping_key,
    write_837p,
    x12_amount,
)
from rehabill.x12.p837_reader import read_837p
from rehabill.x12.reader import read_x12
from rehabill.x12.tokens import Delimiters, tokenize

from .helpers import (
    COMMERCIAL,
    SPOUSE,
    SUPERVISOR,
    claim_for,
    pyx12_errors,
    render,
    settings,
    visit,
)

GOLDEN = Path(__file__).parent.parent / "data" / "837p_golden.x12"


def golden_claims() -> list[Claim]:
    """The four claims behind the golden file: every optional loop at least once."""
    v1 = visit("97530=25 97110=10/13 97161", visit_id="V-1001")
    v2 = visit("97112=38 97140=15", visit_id="V-1002", authorization=None,
               onset_date=date(2026, 1, 15))
    v3 = visit("97110=30", visit_id="V-1003", patient=SPOUSE, coverage=COMMERCIAL)
    v4 = visit("97530=40", visit_id="V-1004", supervising_provider=SUPERVISOR)
    return [claim_for(v1), claim_for(v2), claim_for(v3),
            claim_for(v4, Frequency.REPLACEMENT, "PAYER-CCN-778")]


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
     ["x12.837p.secondary_not_supported"]),
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
