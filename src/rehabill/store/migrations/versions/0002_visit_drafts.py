"""Visit drafts: a web-entered draft is stored but never coded into a claim.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("is_draft", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("is_draft")
