"""Fuzz: the X12 readers never crash or hang; bad input gives findings or InputError only."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehabill.errors import InputError
from rehabill.x12 import ack277, ack999
from rehabill.x12.remit835 import read_835_text
from rehabill.x12.remit835_scan import scan_835

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*/*.835"))] + [
    p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*/*.999"))] + [
    p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*/*.277"))]
NASTY = "*~:^|>\n\r ~~**0123456789.-ECLPSVCCASPLBISAGSSTSEIEAGE\x00\ufeff²"
FUZZ = settings(max_examples=150, deadline=2000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _read_all(text: str) -> None:
    """Every reader, asserting only findings or InputError, and JSON that serialises."""
    for reader in (read_835_text, ack999.read_text, ack277.read_text):
        try:
            payments, envelope = reader(text, "fuzz")
        except InputError:
            continue
        json.dumps([p.as_json() for p in payments])
        assert all(f.location.file == "fuzz" for f in envelope)
    with contextlib.suppress(InputError):
        scan_835([text], "fuzz")


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.text(alphabet=NASTY, min_size=1, max_size=6))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + len(piece):]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    return text


@FUZZ
@given(mutated())
def test_readers__mutated_files(text: str) -> None:
    _read_all(text)


@FUZZ
@given(st.sampled_from(SAMPLES), st.floats(0, 1))
def test_readers__truncated_files(text: str, fraction: float) -> None:
    _read_all(text[: int(len(text) * fraction)])


@FUZZ
@given(st.sampled_from(SAMPLES), st.sampled_from(["*", "~", ":", "^", "|", "\n"]),
       st.sampled_from(["*", "~", ":", "^", "|", "\n", "A", " "]))
def test_readers__wrong_delimiters(text: str, old: str, new: str) -> None:
    _read_all(text.replace(old, new))
    _read_all(text[:106] + text[106:].replace(old, new))


@FUZZ
@given(st.binary(max_size=3000))
def test_readers__random_bytes(data: bytes) -> None:
    _read_all(data.decode("latin-1"))
    _read_all(SAMPLES[0][:106] + data.decode("utf-8", errors="replace"))
