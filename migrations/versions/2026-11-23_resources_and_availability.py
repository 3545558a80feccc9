"""resources and availability

Revision ID: 16e21d85977a
Revises: c38693f869e5
Create Date: 2026-11-23 12:12:06.706392
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "16e21d85977a"
down_revision: str | None = "c38693f869e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('person', 'room', 'equipment')", name=op.f("ck_resources_kind")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisations.id"],
            name=op.f("fk_resources_provider_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "availability_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("ends > starts", name=op.f("ck_availability_windows_ends_after_start")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_windows_weekday")),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_availability_windows_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    with op.batch_alter_table("availability_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_windows_offer_id"), ["offer_id"], unique=False
        )

    op.create_table(
        "offer_travel_areas",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_travel_areas_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "municipality", name=op.f("pk_offer_travel_areas")),
    )
    op.create_table(
        "session_resources",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_session_resources_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["offer_sessions.id"],
            name=op.f("fk_session_resources_session_id_offer_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "resource_id", name=op.f("pk_session_resources")),
    )
    with op.batch_alter_table("session_resources", schema=None) as batch_op:
        batch_op.create_index("ix_session_resources_resource_id", ["resource_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("session_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_session_resources_resource_id")

    op.drop_table("session_resources")
    op.drop_table("offer_travel_areas")
    with op.batch_alter_table("availability_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_windows_offer_id"))

    op.drop_table("availability_windows")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_provider_id"))

    op.drop_table("resources")
