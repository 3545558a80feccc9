"""catalogue

Revision ID: 30ee6349050c
Revises: a1887c594598
Create Date: 2026-11-23 11:46:38.602026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "30ee6349050c"
down_revision: str | None = "a1887c594598"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("municipality", sa.String(length=40), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_school_holidays_ends_after_start")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_holidays")),
    )
    with op.batch_alter_table("school_holidays", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_holidays_municipality"), ["municipality"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_school_holidays_starts_on"), ["starts_on"], unique=False
        )

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("grade_min", sa.Integer(), nullable=False),
        sa.Column("grade_max", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("is_long", sa.Boolean(), nullable=False),
        sa.Column("girls_only", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("pupils_bring", sa.String(length=1000), nullable=False),
        sa.Column("accessibility", sa.String(length=1000), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=30), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("cancellation_weekdays", sa.Integer(), nullable=False),
        sa.Column("min_pupils", sa.Integer(), nullable=True),
        sa.Column("max_pupils", sa.Integer(), nullable=True),
        sa.Column("lead_days", sa.Integer(), nullable=True),
        sa.Column("max_visits_per_week", sa.Integer(), nullable=True),
        sa.Column("picture_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "format IN ('at_provider', 'at_school', 'online')", name=op.f("ck_offers_format")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'unpublished', 'archived')",
            name=op.f("ck_offers_status"),
        ),
        sa.CheckConstraint(
            "type IN ('company_week', 'innovation_game', 'girls_day', 'expert', 'mentoring', 'course')",
            name=op.f("ck_offers_type"),
        ),
        sa.CheckConstraint(
            "grade_min >= 0 AND grade_min <= grade_max AND grade_max <= 13",
            name=op.f("ck_offers_grades"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organisations.id"], name=op.f("fk_offers_provider_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(
            "ix_offers_status_municipality", ["status", "municipality"], unique=False
        )
        batch_op.create_index("ix_offers_status_type", ["status", "type"], unique=False)

    op.create_table(
        "offer_pictures",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_pictures_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_offer_pictures")),
    )
    op.create_table(
        "offer_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity_pupils", sa.Integer(), nullable=False),
        sa.Column("capacity_classes", sa.Integer(), nullable=True),
        sa.Column("booking_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("series", sa.String(length=36), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "capacity_classes IS NULL OR capacity_classes > 0",
            name=op.f("ck_offer_sessions_capacity_classes_positive"),
        ),
        sa.CheckConstraint(
            "capacity_pupils > 0", name=op.f("ck_offer_sessions_capacity_pupils_positive")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_offer_sessions_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_sessions_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_sessions")),
    )
    with op.batch_alter_table("offer_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offer_sessions_offer_id_starts_at", ["offer_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_offer_sessions_series"), ["series"], unique=False)
        batch_op.create_index("ix_offer_sessions_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "offer_subjects",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.CheckConstraint(
            "subject IN ('maths', 'physics_chemistry', 'biology', 'nature_technology', 'technology_understanding', 'informatics')",
            name=op.f("ck_offer_subjects_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_subjects_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "subject", name=op.f("pk_offer_subjects")),
    )
    with op.batch_alter_table("offer_subjects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offer_subjects_subject_offer_id", ["subject", "offer_id"], unique=False
        )

    op.create_table(
        "offer_themes",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "theme IN ('food', 'climate_energy', 'industry', 'ict', 'health')",
            name=op.f("ck_offer_themes_theme"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_themes_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "theme", name=op.f("pk_offer_themes")),
    )
    with op.batch_alter_table("offer_themes", schema=None) as batch_op:
        batch_op.create_index("ix_offer_themes_theme_offer_id", ["theme", "offer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offer_themes", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_themes_theme_offer_id")

    op.drop_table("offer_themes")
    with op.batch_alter_table("offer_subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_subjects_subject_offer_id")

    op.drop_table("offer_subjects")
    with op.batch_alter_table("offer_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_sessions_starts_at")
        batch_op.drop_index(batch_op.f("ix_offer_sessions_series"))
        batch_op.drop_index("ix_offer_sessions_offer_id_starts_at")

    op.drop_table("offer_sessions")
    op.drop_table("offer_pictures")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_status_type")
        batch_op.drop_index("ix_offers_status_municipality")
        batch_op.drop_index(batch_op.f("ix_offers_provider_id"))

    op.drop_table("offers")
    with op.batch_alter_table("school_holidays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_holidays_starts_on"))
        batch_op.drop_index(batch_op.f("ix_school_holidays_municipality"))

    op.drop_table("school_holidays")
