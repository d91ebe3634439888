"""Revisions, oldest first by ``down_revision``."""
