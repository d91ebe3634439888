"""The docs say what the code does: the CLI reference is regenerated, never hand-kept."""

from __future__ import annotations

from pathlib import Path

from rehabill.cli.reference import render

ROOT = Path(__file__).parents[1]


def test_cli_reference_is_up_to_date() -> None:
    current = (ROOT / "docs" / "cli.md").read_text()
    assert current == render(), (
        "docs/cli.md is stale: run `python -m rehabill.cli.reference > docs/cli.md`")


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in ("rehabill units", "rehabill codes"):
        assert command in readme


def test_workflow_documents_every_books_command() -> None:
    workflow = (ROOT / "docs" / "workflow.md").read_text()
    for command in ("rehabill demo", "rehabill import", "rehabill scrub", "rehabill batch",
                    "rehabill ack", "rehabill post", "rehabill worklist", "rehabill report",
                    "rehabill claim resubmit", "rehabill claim void",
                    "rehabill claim move-balance"):
        assert command in workflow, command
    for report in ("aging", "denials", "trends", "kpis", "kx"):
        assert f"| `{report}` |" in workflow, report
