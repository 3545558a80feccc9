"""offers.all_dates_together and bookings.course_id: a long course's dates booked as one; one open allocation round per offer

Revision ID: 6d2e8a4c1f07
Revises: 3b1f0c9d7e42
Create Date: 2026-12-01 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2e8a4c1f07"
down_revision: str | None = "3b1f0c9d7e42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch_op:
        batch_op.add_column(sa.Column("all_dates_together", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.add_column(sa.Column("course_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_bookings_course_id"), ["course_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_course_id_bookings"), "bookings", ["course_id"], ["id"], ondelete="CASCADE"
        )


    op.create_index(
        "uq_allocation_rounds_one_open",
        "allocation_rounds",
        ["offer_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_allocation_rounds_one_open",
        table_name="allocation_rounds",
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_bookings_course_id_bookings"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_bookings_course_id"))
        batch_op.drop_column("course_id")
    with op.batch_alter_table("offers") as batch_op:
        batch_op.drop_column("all_dates_together")
