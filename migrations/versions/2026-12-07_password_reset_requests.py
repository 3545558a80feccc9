"""password reset requests: counted per address and client, for known addresses and unknown alike

Revision ID: 4c8d2e6f1a35
Revises: 7a3e5c1d9f20
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4c8d2e6f1a35"
down_revision: str | None = "7a3e5c1d9f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "password_reset_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_requests")),
    )
    op.create_index(
        "ix_password_reset_requests_email_requested_at",
        "password_reset_requests",
        ["email", "requested_at"],
    )
    op.create_index(
        "ix_password_reset_requests_client_requested_at",
        "password_reset_requests",
        ["client", "requested_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_password_reset_requests_client_requested_at", table_name="password_reset_requests")
    op.drop_index("ix_password_reset_requests_email_requested_at", table_name="password_reset_requests")
    op.drop_table("password_reset_requests")
