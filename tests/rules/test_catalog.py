"""The rule catalog: unique codes, every module's RULES chained, every code documented."""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest

from rehabill import rules
from rehabill.domain import Severity
from rehabill.rules import (
    ALL_RULES,
    CATALOG,
    assistants,
    documentation,
    eligibility,
    episode,
    identity,
    mode,
    modifiers,
    mue,
    ncci,
    policy_rules,
    same_day,
    timing,
    units,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
MODULES = (assistants, documentation, eligibility, episode, identity, mode, modifiers, mue, ncci,
           policy_rules, same_day, timing, units)


def documented_codes() -> set[str]:
    text = DOCS.read_text("utf-8")
    section = text.split("## Rules", 1)[1].split("### Other finding codes", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", section, re.MULTILINE))


@cache
def docstrings(module: str) -> dict[str, str | None]:
    """The functions' docstrings read from the module's source (compiled functions have none)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).with_name(module.rsplit(".", 1)[1] + ".py")
    tree = ast.parse(source.read_text("utf-8"))
    return {node.name: ast.get_docstring(node) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)}


def test_catalog__codes_are_unique_and_dotted() -> None:
    codes = [r.code for r in ALL_RULES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z_]*\.[a-z_]+", c) for c in codes)


def test_catalog__chains_every_module_rules_tuple() -> None:
    chained = {r.code for m in MODULES for r in m.RULES}
    assert chained == set(CATALOG)


def test_catalog__is_read_only() -> None:
    with pytest.raises(TypeError):
        rules.CATALOG["x.y"] = ALL_RULES[0]  # type: ignore[index]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule__has_title_source_and_docstring(rule: rules.Rule) -> None:
    assert rule.title and rule.source
    function = rule.function
    assert docstrings(function.__module__)[function.__name__]
    assert isinstance(rule.severity, Severity)


def test_docs__list_every_catalog_code_and_nothing_else() -> None:
    assert documented_codes() == set(CATALOG)


def test_docs__show_severity_of_each_rule() -> None:
    text = DOCS.read_text("utf-8")
    for rule in ALL_RULES:
        assert f"| `{rule.code}` | {rule.severity.value} |" in text
