"""Secondary claims: which coverage a claim bills, and the claim whose adjudication it carries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("coverage_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prior_claim_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_claims_coverage_id_coverages"), "coverages",
                                 ["coverage_id"], ["id"])
        batch.create_foreign_key(op.f("fk_claims_prior_claim_id_claims"), "claims",
                                 ["prior_claim_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.drop_constraint(op.f("fk_claims_prior_claim_id_claims"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_claims_coverage_id_coverages"), type_="foreignkey")
        batch.drop_column("prior_claim_id")
        batch.drop_column("coverage_id")
