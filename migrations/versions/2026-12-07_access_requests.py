"""access requests: people asking for an account at an organisation, and companies registering as providers

Revision ID: eac5031e0c21
Revises: 7b2f4c8d1e03
Create Date: 2026-12-07 15:24:18
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "eac5031e0c21"
down_revision: str | None = "7b2f4c8d1e03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("cvr", sa.String(length=8), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("verify_token_hash", sa.String(length=64), nullable=True),
        sa.Column("verify_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'account' AND organisation_id IS NOT NULL) OR (kind = 'new_provider' AND cvr IS NOT NULL)",
            name=op.f("ck_access_requests_kind_details"),
        ),
        sa.CheckConstraint("kind IN ('account', 'new_provider')", name=op.f("ck_access_requests_kind")),
        sa.CheckConstraint("role IN ('teacher', 'provider')", name=op.f("ck_access_requests_role")),
        sa.CheckConstraint(
            "status IN ('unverified', 'waiting', 'approved', 'declined', 'void')",
            name=op.f("ck_access_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_access_requests_decided_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_access_requests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_requests_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
        sa.UniqueConstraint("verify_token_hash", name=op.f("uq_access_requests_verify_token_hash")),
    )
    op.create_index("ix_access_requests_client_created_at", "access_requests", ["client", "created_at"])
    op.create_index(op.f("ix_access_requests_cvr"), "access_requests", ["cvr"])
    op.create_index("ix_access_requests_email_created_at", "access_requests", ["email", "created_at"])
    op.create_index("ix_access_requests_status_organisation_id", "access_requests", ["status", "organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_access_requests_status_organisation_id", table_name="access_requests")
    op.drop_index("ix_access_requests_email_created_at", table_name="access_requests")
    op.drop_index(op.f("ix_access_requests_cvr"), table_name="access_requests")
    op.drop_index("ix_access_requests_client_created_at", table_name="access_requests")
    op.drop_table("access_requests")
