"""Choices the visit entry form offers: codes grouped by kind, modes, assistance levels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rehabill.reference import CodeInfo, Reference
from rehabill.reference.tables import EVALUATION_CODES

MODES = (("one_on_one", "One-on-one"), ("group", "Group"), ("concurrent", "Concurrent"))
ASSISTANCE_LEVELS = ("", "independent", "supervision", "contact guard assist", "minimal assist",
                     "moderate assist", "maximal assist", "dependent")


@dataclass(frozen=True, slots=True)
class CodeGroup:
    """An <optgroup> of codes."""

    label: str
    codes: tuple[CodeInfo, ...]


@lru_cache(maxsize=8)
def code_groups(ref: Reference) -> tuple[CodeGroup, ...]:
    """Timed treatment codes first (the ones with minutes), then untimed, then evaluations."""
    every = ref.codes.all()
    timed = tuple(c for c in every if c.timed)
    evaluations = tuple(c for c in every if not c.timed and c.code in EVALUATION_CODES)
    untimed = tuple(c for c in every if not c.timed and c.code not in EVALUATION_CODES)
    return (CodeGroup("Timed (15-minute units)", timed),
            CodeGroup("Untimed (one per session)", untimed),
            CodeGroup("Evaluations", evaluations))
