"""Read any X12 file we know: one dispatcher keyed by ST01, one line per transaction kind.

``read_x12(text)`` tokenizes, splits the envelope, and hands each transaction set to the reader
registered for its ST01 in ``READERS``. A reader takes ``(transaction, delimiters, file)`` and
returns a JSON-ready dict with at least ``"kind"`` and ``"findings"`` (DESIGN.md,
``rehabill x12 read --json``). To add a kind, add one entry to ``READERS``.

Envelope findings are attached to the transaction they sit in (or the one before them); a file
with no usable transaction yields one ``{"kind": "X12", ...}`` entry holding the findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from rehabill.domain.collector import collector_paused
from rehabill.domain.findings import Finding, Severity
from rehabill.x12 import ack277, ack999, remit835
from rehabill.x12.envelope import Transaction, split_transactions
from rehabill.x12.p837_reader import read_837p
from rehabill.x12.tokens import Delimiters, tokenize

TransactionReader = Callable[[Transaction, Delimiters, str], dict[str, object]]


def _read_837(transaction: Transaction, delimiters: Delimiters, file: str) -> dict[str, object]:
    return read_837p(transaction, delimiters, file).as_json()


READERS: Mapping[str, TransactionReader] = MappingProxyType({
    "837": _read_837,
    "835": lambda t, d, f: remit835.read_transaction(t, d, f).as_json(),
    "999": lambda t, d, f: ack999.read_transaction(t, d, f).as_json(),
    "277": lambda t, d, f: ack277.read_transaction(t, d, f).as_json(),
})

#: Codes meaning the file could not be read at all (no usable ISA): exit 2 in the CLI.
UNREADABLE = frozenset({"x12.envelope.no_isa", "x12.envelope.short_isa",
                        "x12.envelope.bad_isa", "x12.envelope.bad_delimiters"})


def read_x12(text: str, file: str = "") -> list[dict[str, object]]:
    """Read every transaction set in ``text``.

    Args:
        text: the whole X12 file.
        file: its name, for finding locations.

    Returns:
        One dict per transaction set (``kind``, ``findings`` and the kind's own fields).
    """
    with collector_paused():  # acyclic segments; see rehabill.domain.collector
        return _read(text, file)


def _read(text: str, file: str) -> list[dict[str, object]]:
    delimiters, segments, findings = tokenize(text, file)
    if delimiters is None:
        return [_orphan(findings)]
    envelope: list[Finding] = list(findings)
    results: list[tuple[int, int, dict[str, object]]] = []
    for transaction in split_transactions(segments, envelope, file):
        reader = READERS.get(transaction.set_id)
        result = _unknown(transaction, file) if reader is None \
            else reader(transaction, delimiters, file)
        first, last = transaction.segments[0].number, transaction.segments[-1].number
        results.append((first, last, result))
    if not results:
        return [_orphan(envelope)]
    for finding in envelope:
        _attach(results, finding)
    return [result for _, _, result in results]


def is_unreadable(results: list[dict[str, object]]) -> bool:
    """True when the file had no usable ISA header (nothing in it could be read)."""
    return any(isinstance(f, dict) and f.get("code") in UNREADABLE
               for r in results for f in _findings(r))


def has_error_findings(results: list[dict[str, object]]) -> bool:
    """True when any transaction carries an error-level finding."""
    return any(isinstance(f, dict) and f.get("severity") == Severity.ERROR.value
               for r in results for f in _findings(r))


def _findings(result: dict[str, object]) -> list[object]:
    found = result.get("findings")
    return found if isinstance(found, list) else []


def _attach(results: list[tuple[int, int, dict[str, object]]], finding: Finding) -> None:
    number = finding.location.segment or 0
    target = results[0][2]
    for first, _, result in results:
        if first <= number:
            target = result
    found = target.setdefault("findings", [])
    if isinstance(found, list):
        found.append(finding.as_dict())
        found.sort(key=_segment_of)


def _segment_of(item: object) -> int:
    if isinstance(item, dict):
        location = item.get("location")
        if isinstance(location, dict):
            segment = location.get("segment")
            if isinstance(segment, int):
                return segment
    return 0


def _orphan(findings: list[Finding]) -> dict[str, object]:
    return {"kind": "X12", "findings": [f.as_dict() for f in findings]}


def _unknown(transaction: Transaction, file: str) -> dict[str, object]:
    st = transaction.segments[0]
    finding = Finding("x12.reader.unknown_kind", Severity.ERROR,
                      f"Transaction set {transaction.set_id!r} ({transaction.version}) is not one "
                      "rehabill reads.", st.location(file, 1),
                      "rehabill reads 837P, 835, 999 and 277CA files.")
    return {"kind": transaction.set_id or "unknown", "control_number": transaction.control_number,
            "findings": [finding.as_dict()]}
