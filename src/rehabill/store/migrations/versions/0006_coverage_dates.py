"""Coverages keep their effective and termination dates.

A payer denies a service before its coverage began (CARC 26) or after it ended (CARC 27);
the scrubber can only say so when the books know the dates. Both columns are nullable: NULL
is an open side, which is what every coverage stored before this revision was taken to be.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coverages") as batch:
        batch.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("end_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coverages") as batch:
        batch.drop_column("end_date")
        batch.drop_column("start_date")
