"""booking events: told_at, so the worker tells teachers and providers of new bookings

Revision ID: 3b1f0c9d7e42
Revises: 90ccf98844a6
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b1f0c9d7e42"
down_revision: str | None = "90ccf98844a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking_events") as batch_op:
        batch_op.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    # Everything that happened before this column existed was told at the time.
    op.execute("UPDATE booking_events SET told_at = at")
    op.create_index(
        "ix_booking_events_untold",
        "booking_events",
        ["id"],
        unique=False,
        sqlite_where=sa.text("told_at IS NULL"),
        postgresql_where=sa.text("told_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_booking_events_untold",
        table_name="booking_events",
        sqlite_where=sa.text("told_at IS NULL"),
        postgresql_where=sa.text("told_at IS NULL"),
    )
    with op.batch_alter_table("booking_events") as batch_op:
        batch_op.drop_column("told_at")
