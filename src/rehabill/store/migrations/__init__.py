"""Alembic migration scripts (package data; run through ``rehabill.store.migrate``)."""
