"""X12 tokenizer: delimiters from the ISA segment, segments located by number.

The ISA segment is fixed-width (106 characters): the element separator is character 4, the
repetition separator ISA11 (character 83), the component separator ISA16 (character 105) and the
segment terminator character 106 (X12.5 / the 5010 implementation guides' appendix B). Line breaks
after a terminator are tolerated. Nothing here raises on bad data: problems become findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import FunctionType
from typing import Any

from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields

ISA_LENGTH = 106


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four X12 delimiters."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"

    def all(self) -> str:
        """The delimiter characters, as one string."""
        return self.element + self.component + self.repetition + self.segment


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its id, its elements (``elements[0]`` is element 01) and its number.

    ``number`` counts segments from 1 across the whole file, so a finding can point at it.
    """

    id: str
    elements: tuple[str, ...]
    number: int

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, id: str, elements: tuple[str, ...], number: int) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "elements", elements)
        object.__setattr__(self, "number", number)

    def get(self, position: int) -> str:
        """Element ``position`` (1-based, as in "CLP04"), or "" when absent."""
        index = position - 1
        return self.elements[index] if 0 <= index < len(self.elements) else ""

    def components(self, position: int, delimiters: Delimiters) -> tuple[str, ...]:
        """The components of a composite element."""
        value = self.get(position)
        return tuple(value.split(delimiters.component)) if value else ()

    def location(self, file: str = "", element: int | None = None) -> Location:
        """A Location pointing at this segment (and element)."""
        name = f"{self.id}{element:02d}" if element is not None else ""
        return Location(file=file, segment=self.number, segment_id=self.id, element=name)


def detect_delimiters(text: str, file: str = "") -> tuple[Delimiters | None, list[Finding]]:
    """Read the delimiters from the ISA header at the start of ``text``.

    Args:
        text: the file's text (leading white space is skipped).
        file: the file's name for locations.

    Returns:
        The delimiters, or None with an ``x12.envelope`` finding when there is no usable ISA.
    """
    start = text.lstrip("\ufeff \t\r\n")
    where = Location(file=file, segment=1, segment_id="ISA")
    if not start.startswith("ISA"):
        found = start[:3].encode("unicode_escape").decode() or "nothing"
        return None, [Finding("x12.envelope.no_isa", Severity.ERROR,
                              f"The file must start with an ISA segment, not {found!r}.", where,
                              "Check that this is an X12 file and was not truncated or wrapped.")]
    if len(start) < ISA_LENGTH:
        return None, [Finding("x12.envelope.short_isa", Severity.ERROR,
                              f"The ISA segment is {len(start)} characters; it must be 106.",
                              where, "The file is truncated; get a complete copy.")]
    element = start[3]
    fields = start[:ISA_LENGTH].split(element)
    if len(fields) != 17 or element.isalnum() or element.isspace():
        return None, [Finding("x12.envelope.bad_isa", Severity.ERROR,
                              f"The ISA segment does not split into 16 elements on {element!r}.",
                              where, "The ISA is fixed-width 106 characters; repair the header.")]
    component = fields[16][:1]
    segment = start[ISA_LENGTH - 1]
    repetition = fields[11] if len(fields[11]) == 1 and not fields[11].isalnum() else "^"
    chars = {element, component, segment}
    if len(chars) != 3 or any(c.isalnum() or c == "" for c in chars):
        return None, [Finding("x12.envelope.bad_delimiters", Severity.ERROR,
                              "The ISA delimiters are missing, alphanumeric or not distinct: "
                              f"element {element!r}, component {component!r}, "
                              f"segment {segment!r}.", where,
                              "Repair the ISA header so its delimiters are distinct.")]
    if repetition in chars:
        repetition = "^" if "^" not in chars else "\x1d"
    return Delimiters(element, component, repetition, segment), []


def _slot_setters() -> tuple[Any, Any, Any]:
    """The slot descriptors' setters of Segment's three fields.

    Interpreted, building a segment through them skips the frozen dataclass ``__init__`` (one
    ``object.__setattr__`` call per field) and is about twice as fast; the result is the same
    frozen value. The tokenizer builds one per segment of the file, a large share of what
    reading costs. The descriptors are read with ``getattr`` on the class (mypyc refuses a
    native class's ``__dict__``); compiled, ``NATIVE`` is true and the tokenizer calls the
    native constructor instead.
    """
    setters = [getattr(Segment, name).__set__ for name in ("id", "elements", "number")]
    return setters[0], setters[1], setters[2]


# True when mypyc compiled this module: Segment's written-out __init__ is then native code,
# faster than any setter called through the interpreter.
NATIVE = not isinstance(detect_delimiters, FunctionType)


def split_segments(text: str, delimiters: Delimiters) -> Iterator[Segment]:
    """Yield every segment of ``text``, numbered from 1, skipping blank ones and line breaks."""
    if NATIVE:
        return _split_native(text, delimiters)
    return _split_slots(text, delimiters)


def _split_slots(text: str, delimiters: Delimiters) -> Iterator[Segment]:
    """``split_segments`` interpreted: each segment built through its slot setters."""
    number = 0
    element = delimiters.element
    new = object.__new__
    set_id, set_elements, set_number = _slot_setters()
    for raw in text.split(delimiters.segment):
        raw = raw.strip("\r\n\ufeff \t")
        if not raw:
            continue
        number += 1
        parts = raw.split(element)
        seg = new(Segment)
        set_id(seg, parts[0].strip())
        set_elements(seg, tuple(parts[1:]))
        set_number(seg, number)
        yield seg


def _split_native(text: str, delimiters: Delimiters) -> Iterator[Segment]:
    """``split_segments`` compiled: each segment built by its native constructor."""
    number = 0
    element = delimiters.element
    for raw in text.split(delimiters.segment):
        raw = raw.strip("\r\n\ufeff \t")
        if raw:
            number += 1
            parts = raw.split(element)
            yield Segment(parts[0].strip(), tuple(parts[1:]), number)


def iter_segments_from_chunks(chunks: Iterable[str], delimiters: Delimiters) -> Iterator[Segment]:
    """Like ``split_segments`` over text arriving in chunks, with memory bounded by a chunk."""
    number = 0
    tail = ""
    terminator = delimiters.segment
    for chunk in chunks:
        pieces = (tail + chunk).split(terminator)
        tail = pieces.pop()
        for raw in pieces:
            raw = raw.strip("\r\n\ufeff \t")
            if raw:
                number += 1
                parts = raw.split(delimiters.element)
                yield Segment(parts[0].strip(), tuple(parts[1:]), number)
    raw = tail.strip("\r\n\ufeff \t")
    if raw:
        parts = raw.split(delimiters.element)
        yield Segment(parts[0].strip(), tuple(parts[1:]), number + 1)


def tokenize(text: str, file: str = "") -> tuple[Delimiters | None, list[Segment], list[Finding]]:
    """Delimiters, every segment, and findings for an unusable header or missing terminator."""
    delimiters, findings = detect_delimiters(text, file)
    if delimiters is None:
        return None, [], findings
    segments = list(split_segments(text, delimiters))
    # A newline may itself be the terminator, so only strip the other white space.
    trailing = "".join(c for c in "\r\n \t" if c != delimiters.segment)
    if not text.rstrip(trailing).endswith(delimiters.segment) and segments:
        last = segments[-1]
        findings.append(Finding("x12.envelope.unterminated", Severity.WARNING,
                                f"The last segment ({last.id}) has no segment terminator.",
                                last.location(file), "The file may be truncated; check IEA."))
    return delimiters, segments, findings


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
