"""The status history indexed by claim and status, instead of by claim alone.

``store.facts`` reads every claim's first scrub, rejection and adjudication from the whole
history (a million rows in a clinic-year); with the status in the index SQLite answers from
the index alone instead of a table lookup per row (1.3 to 0.65 s). The index still serves
every lookup by claim, and the history keeps one index, so writers pay only the longer key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim_status_history") as batch:
        batch.drop_index(batch.f("ix_claim_status_history_claim_id"))
        batch.create_index(batch.f("ix_claim_status_history_claim_id_status"),
                           ["claim_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("claim_status_history") as batch:
        batch.drop_index(batch.f("ix_claim_status_history_claim_id_status"))
        batch.create_index(batch.f("ix_claim_status_history_claim_id"), ["claim_id"],
                           unique=False)
