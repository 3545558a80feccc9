"""bookings

Revision ID: 835c32f4b44a
Revises: fe129d3a2026
Create Date: 2026-11-23 12:30:38.208033
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "835c32f4b44a"
down_revision: str | None = "fe129d3a2026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("class_name", sa.String(length=50), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("girls", sa.Integer(), nullable=True),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("needs", sa.String(length=1000), nullable=False),
        sa.Column("contact_phone", sa.String(length=30), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_cancellation", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'waitlisted', 'offered', 'declined', 'cancelled', 'expired', 'completed')",
            name=op.f("ck_bookings_status"),
        ),
        sa.CheckConstraint("adults >= 0", name=op.f("ck_bookings_adults_not_negative")),
        sa.CheckConstraint(
            "girls IS NULL OR (girls >= 0 AND girls <= pupils)",
            name=op.f("ck_bookings_girls_within_pupils"),
        ),
        sa.CheckConstraint("pupils > 0", name=op.f("ck_bookings_pupils_positive")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["organisations.id"], name=op.f("fk_bookings_school_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["offer_sessions.id"],
            name=op.f("fk_bookings_session_id_offer_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["users.id"], name=op.f("fk_bookings_teacher_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint(
            "teacher_id", "idempotency_key", name="uq_bookings_teacher_id_idempotency_key"
        ),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "ix_bookings_session_id_status", ["session_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bookings_teacher_id"), ["teacher_id"], unique=False)

    op.create_table(
        "booking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_booking_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_events_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_events")),
    )
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_events_booking_id"), ["booking_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_events_booking_id"))

    op.drop_table("booking_events")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_teacher_id"))
        batch_op.drop_index("ix_bookings_session_id_status")
        batch_op.drop_index(batch_op.f("ix_bookings_school_id"))

    op.drop_table("bookings")
