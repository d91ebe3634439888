"""Shared pytest setup."""

# Database fixtures (SQLite + PostgreSQL) for tests/store and tests/services.
pytest_plugins = ["tests.db"]
