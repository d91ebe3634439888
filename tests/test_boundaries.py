"""The pure core imports only the standard library and itself, and does no I/O.

DESIGN.md and STYLE.md: domain, reference, coding, rules, x12, ledger and reports import only
the standard library and each other, and read no files (reference and rules may read their own
package data through importlib.resources). import-linter holds the same contract in CI; this
test runs with the README's test command too, and also looks for I/O.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "rehabill"
PURE = ("domain", "reference", "coding", "rules", "x12", "ledger", "reports")
ALLOWED_REHABILL = {f"rehabill.{p}" for p in PURE} | {"rehabill.errors"}
NO_IO_MODULES = {"os", "pathlib", "shutil", "glob", "tempfile", "socket", "sqlite3", "urllib",
                 "http", "subprocess", "requests", "httpx"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.extend(f"{module}.{alias.name}" if module == "rehabill" else module
                         for alias in node.names)
    return names


def _offenders(package: str) -> list[str]:
    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        where = str(path.relative_to(SRC))
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "rehabill":
                if not any(name == a or name.startswith(a + ".") for a in ALLOWED_REHABILL):
                    offenders.append(f"{where}: imports {name}")
            elif top in NO_IO_MODULES:
                offenders.append(f"{where}: imports {name} (I/O)")
            elif top not in sys.stdlib_module_names and top != "__future__":
                offenders.append(f"{where}: imports {name} (not the standard library)")
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "open":
                offenders.append(f"{where}:{node.lineno}: calls open()")
    return offenders


@pytest.mark.parametrize("package", PURE)
def test_pure_package_imports_only_stdlib_and_pure_rehabill(package: str) -> None:
    assert _offenders(package) == []


def test_the_check_catches_what_it_should(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    fake = tmp_path / "rehabill" / "coding"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text(
        "from .. import cli\nfrom ..store import x\nimport pathlib\nimport sqlalchemy\n"
        "from rehabill import web\nopen('f')\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "rehabill")
    found = _offenders("coding")
    assert found == [
        "coding/bad.py: imports rehabill.cli",
        "coding/bad.py: imports rehabill.store",
        "coding/bad.py: imports pathlib (I/O)",
        "coding/bad.py: imports sqlalchemy (not the standard library)",
        "coding/bad.py: imports rehabill.web",
        "coding/bad.py:6: calls open()",
    ]
