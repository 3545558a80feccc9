"""mentor profiles: youth-to-youth mentors' institution, age, study line, themes and reach, and
how far their sign-up has come

Revision ID: c7af99f55cbf
Revises: 4c8d2e6f1a35
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c7af99f55cbf'
down_revision: str | None = '4c8d2e6f1a35'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mentor_municipalities',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('municipality', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentor_municipalities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'municipality', name=op.f('pk_mentor_municipalities'))
    )
    op.create_table('mentor_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('study_programme', sa.String(length=200), nullable=False),
    sa.Column('finishing_year', sa.Integer(), nullable=True),
    sa.Column('why_stem', sa.Text(), nullable=False),
    sa.Column('show_why_stem', sa.Boolean(), nullable=False),
    sa.Column('guardian_email', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('awaiting_consent', 'awaiting_approval', 'approved', 'rejected', 'paused', 'retired')", name=op.f('ck_mentor_profiles_status')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_mentor_profiles_institution_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentor_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_mentor_profiles'))
    )
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_profiles_institution_id'), ['institution_id'], unique=False)

    op.create_table('mentor_themes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=20), nullable=False),
    sa.CheckConstraint("theme IN ('food', 'climate_energy', 'industry', 'ict', 'health')", name=op.f('ck_mentor_themes_theme')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentor_themes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'theme', name=op.f('pk_mentor_themes'))
    )


def downgrade() -> None:
    op.drop_table('mentor_themes')
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_profiles_institution_id'))

    op.drop_table('mentor_profiles')
    op.drop_table('mentor_municipalities')
