"""catalogue search indexes

Revision ID: 5e4c0a7b9d21
Revises: abed50bcc621
Create Date: 2026-11-23 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e4c0a7b9d21"
down_revision: str | None = "abed50bcc621"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_status_type")
        batch_op.drop_index("ix_offers_status_municipality")
        batch_op.create_index("ix_offers_type", ["type"], unique=False)
        batch_op.create_index("ix_offers_municipality", ["municipality"], unique=False)
    with op.batch_alter_table("offer_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_sessions_offer_id_starts_at")
        batch_op.drop_index("ix_offer_sessions_starts_at")
        batch_op.create_index(
            "ix_offer_sessions_offer_id_starts_at", ["offer_id", "starts_at", "cancelled_at"]
        )
        batch_op.create_index(
            "ix_offer_sessions_starts_at", ["starts_at", "cancelled_at", "offer_id"]
        )
    if op.get_bind().dialect.name == "postgresql":
        # Trigram indexes let ILIKE '%word%' use an index (pg_trgm is a trusted extension: the
        # database's owner may create it).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_offers_title_trgm ON offers USING gin (title gin_trgm_ops)")
        op.execute("CREATE INDEX ix_offers_summary_trgm ON offers USING gin (summary gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_offers_summary_trgm")
        op.execute("DROP INDEX ix_offers_title_trgm")
    with op.batch_alter_table("offer_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_sessions_starts_at")
        batch_op.drop_index("ix_offer_sessions_offer_id_starts_at")
        batch_op.create_index("ix_offer_sessions_starts_at", ["starts_at"])
        batch_op.create_index("ix_offer_sessions_offer_id_starts_at", ["offer_id", "starts_at"])
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_municipality")
        batch_op.drop_index("ix_offers_type")
        batch_op.create_index("ix_offers_status_municipality", ["status", "municipality"])
        batch_op.create_index("ix_offers_status_type", ["status", "type"])
