"""``rehabill serve``: settings, demo logins and uvicorn on loopback (uvicorn.run is replaced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from rehabill.cli.main import build_app


@pytest.fixture(autouse=True)
def books_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """serve opens (and migrates) rehabill.db in the current folder: a fresh one per test."""
    monkeypatch.chdir(tmp_path)
    for name in ("REHABILL_DATABASE_URL", "REHABILL_DB_PATH", "REHABILL_OUTBOX"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_run(app: FastAPI, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_serve__loopback_default_port_and_demo_logins(
        runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHABILL_SECRET_KEY", raising=False)
    result = CliRunner().invoke(build_app(), ["serve"])
    assert result.exit_code == 0, result.output
    assert runs[0]["host"] == "127.0.0.1" and runs[0]["port"] == 8000
    assert isinstance(runs[0]["app"], FastAPI)
    for name in ("ana", "bea", "admin"):
        assert f"  {name}" in result.stdout
    assert "random key" in result.stderr


def test_serve__port_host_and_secret_from_the_environment(
        runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_SECRET_KEY", "s" * 48)
    result = CliRunner().invoke(build_app(), ["serve", "--port", "8123", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert (runs[0]["host"], runs[0]["port"]) == ("0.0.0.0", 8123)
    assert "random key" not in result.stderr


def test_serve__weak_secret_is_a_config_error(runs: list[dict[str, Any]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_SECRET_KEY", "changethis")
    result = CliRunner().invoke(build_app(), ["serve"])
    assert result.exit_code == 2 and not runs
    assert "REHABILL_SECRET_KEY" in result.stderr


def test_serve__logins_live_in_the_database(runs: list[dict[str, Any]], books_here: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_SECRET_KEY", "s" * 48)
    first = CliRunner().invoke(build_app(), ["serve"])
    assert first.exit_code == 0 and "  bea" in first.stdout
    assert (books_here / "rehabill.db").exists()
    again = CliRunner().invoke(build_app(), ["serve"])
    assert again.exit_code == 0 and "practice's accounts" in again.stdout
    assert "  bea" not in again.stdout
