"""Initial schema: every table of the books (see docs/store.md).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 19:19:06.704866
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

MONEY = sa.Numeric(precision=12, scale=2)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_table(
        "payers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("policy", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payers")),
        sa.UniqueConstraint("payer_key", name=op.f("uq_payers_payer_key")),
    )
    op.create_table(
        "practices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=False),
        sa.Column("tax_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("taxonomy", sa.String(length=20), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=False),
        sa.Column("address_line2", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("zip", sa.String(length=10), nullable=False),
        sa.Column("submitter_id", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices")),
        sa.UniqueConstraint("npi", name=op.f("uq_practices_npi")),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("credential", sa.String(length=8), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["providers.id"], name=op.f("fk_providers_supervisor_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("npi", name=op.f("uq_providers_npi")),
    )
    op.create_table(
        "submitter_counters",
        sa.Column("submitter_id", sa.String(length=80), nullable=False),
        sa.Column("interchange", sa.Integer(), nullable=False),
        sa.Column("group_number", sa.Integer(), nullable=False),
        sa.Column("transaction_set", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("submitter_id", name=op.f("pk_submitter_counters")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("submitter_id", sa.String(length=80), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("interchange_control_number", sa.String(length=9), nullable=False),
        sa.Column("group_control_number", sa.String(length=9), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("total_charge", MONEY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_batches_payer_id_payers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("zip", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_patients_practice_id_practices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint(
            "practice_id", "external_id", name=op.f("uq_patients_practice_id_external_id")
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_users_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "authorizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=80), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("visits_approved", sa.Integer(), nullable=True),
        sa.Column("visits_used", sa.Integer(), nullable=False),
        sa.Column("units_approved", sa.Integer(), nullable=True),
        sa.Column("units_used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_authorizations_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
        sa.UniqueConstraint(
            "patient_id", "number", name=op.f("uq_authorizations_patient_id_number")
        ),
    )
    op.create_table(
        "coverages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=80), nullable=False),
        sa.Column("plan", sa.String(length=80), nullable=False),
        sa.Column("relationship", sa.String(length=20), nullable=False),
        sa.Column("group_number", sa.String(length=80), nullable=False),
        sa.Column("sequence", sa.String(length=20), nullable=False),
        sa.Column("subscriber", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_coverages_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_coverages_payer_id_payers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverages")),
        sa.UniqueConstraint(
            "payer_id",
            "member_id",
            "patient_id",
            name=op.f("uq_coverages_payer_id_member_id_patient_id"),
        ),
    )
    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverages_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("interchange_control_number", sa.String(length=9), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_files_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("direction", "sha256", name=op.f("uq_files_direction_sha256")),
    )
    op.create_table(
        "plans_of_care",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=True),
        sa.Column("certifying_npi", sa.String(length=10), nullable=False),
        sa.Column("discipline", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_plans_of_care_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans_of_care")),
        sa.UniqueConstraint(
            "patient_id",
            "start_date",
            "discipline",
            name=op.f("uq_plans_of_care_patient_id_start_date_discipline"),
        ),
    )
    op.create_table(
        "remittances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("originator", sa.String(length=80), nullable=False),
        sa.Column("trace_number", sa.String(length=80), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("payment_amount", MONEY, nullable=False),
        sa.Column("payment_method", sa.String(length=3), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("payee_npi", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_remittances_file_id_files")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_remittances_payer_id_payers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittances")),
        sa.UniqueConstraint(
            "originator", "trace_number", name=op.f("uq_remittances_originator_trace_number")
        ),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_key", sa.String(length=80), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("coverage_id", sa.Integer(), nullable=False),
        sa.Column("rendering_provider_id", sa.Integer(), nullable=False),
        sa.Column("assistant_id", sa.Integer(), nullable=True),
        sa.Column("supervising_provider_id", sa.Integer(), nullable=True),
        sa.Column("plan_of_care_id", sa.Integer(), nullable=True),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("place_of_service", sa.String(length=2), nullable=False),
        sa.Column("diagnoses", sa.String(length=200), nullable=False),
        sa.Column("visit_number_in_episode", sa.Integer(), nullable=True),
        sa.Column("treatment_days_since_progress_report", sa.Integer(), nullable=True),
        sa.Column("total_treatment_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "therapy_to_date_pt_slp",
            MONEY,
            nullable=False,
        ),
        sa.Column("therapy_to_date_ot", MONEY, nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("referring_npi", sa.String(length=10), nullable=False),
        sa.Column("import_file_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assistant_id"], ["providers.id"], name=op.f("fk_visits_assistant_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_visits_authorization_id_authorizations"),
        ),
        sa.ForeignKeyConstraint(
            ["coverage_id"], ["coverages.id"], name=op.f("fk_visits_coverage_id_coverages")
        ),
        sa.ForeignKeyConstraint(
            ["import_file_id"], ["files.id"], name=op.f("fk_visits_import_file_id_files")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_visits_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_of_care_id"],
            ["plans_of_care.id"],
            name=op.f("fk_visits_plan_of_care_id_plans_of_care"),
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_visits_practice_id_practices")
        ),
        sa.ForeignKeyConstraint(
            ["rendering_provider_id"],
            ["providers.id"],
            name=op.f("fk_visits_rendering_provider_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["supervising_provider_id"],
            ["providers.id"],
            name=op.f("fk_visits_supervising_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("visit_key", name=op.f("uq_visits_visit_key")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visits_date_of_service"), ["date_of_service"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visits_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_key", sa.String(length=80), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("original_reference", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("unit_method", sa.String(length=20), nullable=False),
        sa.Column("total_charge", MONEY, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("payer_claim_number", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_claims_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_claims_payer_id_payers")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_claims_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("visit_id", "sequence", name=op.f("uq_claims_visit_id_sequence")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_claim_key"), ["claim_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_status"), ["status"], unique=False)

    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("assistant_minutes", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("assistance", sa.Text(), nullable=False),
        sa.Column("distinct", sa.String(length=30), nullable=True),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("modifiers", sa.String(length=20), nullable=False),
        sa.Column("charge", MONEY, nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_services_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("visit_id", "position", name=op.f("uq_services_visit_id_position")),
    )
    op.create_table(
        "suspense_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("claim_key", sa.String(length=80), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("trace_number", sa.String(length=80), nullable=False),
        sa.Column("segment_number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_suspense_items_file_id_files")
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_suspense_items_remittance_id_remittances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspense_items")),
    )
    op.create_table(
        "acknowledgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("control_number", sa.String(length=80), nullable=False),
        sa.Column("status_code", sa.String(length=10), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_acknowledgments_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_acknowledgments_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_acknowledgments_file_id_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgments")),
    )
    with op.batch_alter_table("acknowledgments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_acknowledgments_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "batch_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("transaction_control_number", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_claims_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_batch_claims_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_claims")),
        sa.UniqueConstraint("batch_id", "claim_id", name=op.f("uq_batch_claims_batch_id_claim_id")),
    )
    with op.batch_alter_table("batch_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_claims_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifiers", sa.String(length=20), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("charge", MONEY, nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("diagnosis_pointers", sa.String(length=20), nullable=False),
        sa.Column("control_number", sa.String(length=80), nullable=False),
        sa.Column("therapist_minutes", sa.Integer(), nullable=False),
        sa.Column("assistant_minutes", sa.Integer(), nullable=False),
        sa.Column("service_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_lines_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_lines")),
        sa.UniqueConstraint("claim_id", "number", name=op.f("uq_claim_lines_claim_id_number")),
    )
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_lines_control_number"), ["control_number"], unique=False
        )

    op.create_table(
        "claim_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_status_history_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_status_history")),
    )
    with op.batch_alter_table("claim_status_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_status_history_claim_id"), ["claim_id"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("auto_fix", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_findings_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], name=op.f("fk_findings_file_id_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "worklist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("carc", sa.String(length=5), nullable=False),
        sa.Column("rarc", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("next_action", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(length=80), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_worklist_items_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklist_items")),
    )
    with op.batch_alter_table("worklist_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worklist_items_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            "ix_worklist_items_status_assignee", ["status", "assignee"], unique=False
        )

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("claim_line_id", sa.Integer(), nullable=True),
        sa.Column("remittance_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("group_code", sa.String(length=2), nullable=False),
        sa.Column("carc", sa.String(length=5), nullable=False),
        sa.Column("rarc", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.String(length=80), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("source_file_id", sa.Integer(), nullable=True),
        sa.Column("trace_number", sa.String(length=80), nullable=False),
        sa.Column("segment_number", sa.Integer(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_ledger_entries_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["claim_line_id"],
            ["claim_lines.id"],
            name=op.f("fk_ledger_entries_claim_line_id_claim_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_ledger_entries_remittance_id_remittances"),
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"], ["files.id"], name=op.f("fk_ledger_entries_source_file_id_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_remittance_id"), ["remittance_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_remittance_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_claim_id"))

    op.drop_table("ledger_entries")
    with op.batch_alter_table("worklist_items", schema=None) as batch_op:
        batch_op.drop_index("ix_worklist_items_status_assignee")
        batch_op.drop_index(batch_op.f("ix_worklist_items_claim_id"))

    op.drop_table("worklist_items")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_claim_id"))

    op.drop_table("findings")
    with op.batch_alter_table("claim_status_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_status_history_claim_id"))

    op.drop_table("claim_status_history")
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_lines_control_number"))

    op.drop_table("claim_lines")
    with op.batch_alter_table("batch_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_claims_claim_id"))

    op.drop_table("batch_claims")
    with op.batch_alter_table("acknowledgments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acknowledgments_claim_id"))

    op.drop_table("acknowledgments")
    op.drop_table("suspense_items")
    op.drop_table("services")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_status"))
        batch_op.drop_index(batch_op.f("ix_claims_claim_key"))
        batch_op.drop_index(batch_op.f("ix_claims_batch_id"))

    op.drop_table("claims")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_patient_id"))
        batch_op.drop_index(batch_op.f("ix_visits_date_of_service"))

    op.drop_table("visits")
    op.drop_table("remittances")
    op.drop_table("plans_of_care")
    op.drop_table("files")
    with op.batch_alter_table("coverages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverages_patient_id"))

    op.drop_table("coverages")
    op.drop_table("authorizations")
    op.drop_table("users")
    op.drop_table("patients")
    op.drop_table("batches")
    op.drop_table("submitter_counters")
    op.drop_table("providers")
    op.drop_table("practices")
    op.drop_table("payers")
    op.drop_table("audit_events")
