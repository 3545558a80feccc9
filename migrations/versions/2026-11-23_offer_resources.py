"""offer resources

Revision ID: abed50bcc621
Revises: 835c32f4b44a
Create Date: 2026-11-23 12:51:17.353799
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "abed50bcc621"
down_revision: str | None = "835c32f4b44a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer_resources",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_resources_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_offer_resources_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "resource_id", name=op.f("pk_offer_resources")),
    )


def downgrade() -> None:
    op.drop_table("offer_resources")
