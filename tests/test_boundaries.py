"""The pure core imports only the standard library and itself (DESIGN.md, STYLE.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "rehabill"
PURE = ("domain", "reference", "coding", "rules", "x12", "ledger", "reports")
ALLOWED_REHABILL = {f"rehabill.{p}" for p in PURE} | {"rehabill", "rehabill.errors"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", PURE)
def test_pure_package_imports_only_stdlib_and_pure_rehabill(package: str) -> None:
    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "rehabill":
                if not any(name == a or name.startswith(a + ".") for a in ALLOWED_REHABILL):
                    offenders.append(f"{path.relative_to(SRC)}: {name}")
            elif top not in sys.stdlib_module_names and top != "__future__":
                offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert offenders == []
