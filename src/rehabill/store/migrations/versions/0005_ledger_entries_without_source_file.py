"""Ledger entries name their file through their remittance only.

Every entry posting wrote carried both ``remittance_id`` and ``source_file_id``, and the
remittance row already holds the file it came from (``remittances.file_id``), so the second
column said nothing new. It cost a foreign-key check on every ledger row: on PostgreSQL each
check is a trigger's query, and foreign-key checks were most of the time of copying a
month's ledger rows in (the clinic-year posts about 2.3 million). Entries made by hand (a
balance moved) never had a file. The downgrade fills the column back from the remittances.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint("fk_ledger_entries_source_file_id_files", type_="foreignkey")
        batch.drop_column("source_file_id")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("source_file_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ledger_entries_source_file_id_files", "files",
                                 ["source_file_id"], ["id"])
    op.execute("UPDATE ledger_entries SET source_file_id = (SELECT file_id FROM remittances "
               "WHERE remittances.id = ledger_entries.remittance_id)")
