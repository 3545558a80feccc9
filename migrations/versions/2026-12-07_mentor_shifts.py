"""mentor shifts, guardians' consents and child-certificate checks; a mentoring date's least and
most mentors; the mentor's decision, verified address and accepted code of conduct; the last log-in;
one-time links to verify an address and to ask a guardian

Revision ID: 14abade914f6
Revises: c7af99f55cbf
Create Date: 2026-12-07 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '14abade914f6'
down_revision: str | None = 'c7af99f55cbf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES_BEFORE = "purpose IN ('password_reset', 'invitation')"
PURPOSES_NOW = "purpose IN ('password_reset', 'invitation', 'verify_email', 'guardian_consent')"


def upgrade() -> None:
    op.create_table('child_certificate_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('assessed_by_id', sa.Integer(), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['users.id'], name=op.f('fk_child_certificate_checks_assessed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_child_certificate_checks_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child_certificate_checks'))
    )
    with op.batch_alter_table('child_certificate_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_certificate_checks_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('guardian_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('guardian_name', sa.String(length=200), nullable=False),
    sa.Column('guardian_email', sa.String(length=254), nullable=False),
    sa.Column('text_version', sa.String(length=20), nullable=False),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_guardian_consents_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardian_consents'))
    )
    with op.batch_alter_table('guardian_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_consents_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('mentor_shortage_alerts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['offer_sessions.id'], name=op.f('fk_mentor_shortage_alerts_session_id_offer_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_mentor_shortage_alerts'))
    )
    op.create_table('shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('travel_minutes', sa.Integer(), nullable=False),
    sa.Column('travel_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('leave_reason', sa.String(length=500), nullable=False),
    sa.Column('reminded_week_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_day_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('signed_up', 'left', 'removed', 'completed')", name=op.f('ck_shifts_status')),
    sa.CheckConstraint('travel_minutes BETWEEN 0 AND 600', name=op.f('ck_shifts_travel_minutes')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_shifts_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_shifts_mentor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['offer_sessions.id'], name=op.f('fk_shifts_session_id_offer_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts'))
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_mentor_id_status', ['mentor_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_shifts_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ux_shifts_session_id_mentor_id_signed_up', ['session_id', 'mentor_id'], unique=True, sqlite_where=sa.text("status IN ('signed_up', 'completed')"), postgresql_where=sa.text("status IN ('signed_up', 'completed')"))

    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('conduct_version', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('conduct_accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_mentor_profiles_decided_by_id_users'), 'users', ['decided_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('offer_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mentors_min', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('mentors_max', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(
            op.f('ck_offer_sessions_mentors'), 'mentors_min >= 0 AND mentors_max >= mentors_min'
        )
    # The API's default for a mentoring date: one mentor.
    op.execute(
        "UPDATE offer_sessions SET mentors_min = 1, mentors_max = 1"
        " WHERE offer_id IN (SELECT id FROM offers WHERE type = 'mentoring')"
    )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_account_tokens_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_tokens_purpose'), PURPOSES_NOW)



def downgrade() -> None:
    op.execute("DELETE FROM account_tokens WHERE purpose IN ('verify_email', 'guardian_consent')")
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_account_tokens_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_account_tokens_purpose'), PURPOSES_BEFORE)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')

    with op.batch_alter_table('offer_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_offer_sessions_mentors'), type_='check')
        batch_op.drop_column('mentors_max')
        batch_op.drop_column('mentors_min')

    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_mentor_profiles_decided_by_id_users'), type_='foreignkey')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('conduct_accepted_at')
        batch_op.drop_column('conduct_version')
        batch_op.drop_column('email_verified_at')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('status_reason')

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('ux_shifts_session_id_mentor_id_signed_up', sqlite_where=sa.text("status IN ('signed_up', 'completed')"), postgresql_where=sa.text("status IN ('signed_up', 'completed')"))
        batch_op.drop_index(batch_op.f('ix_shifts_session_id'))
        batch_op.drop_index('ix_shifts_mentor_id_status')

    op.drop_table('shifts')
    op.drop_table('mentor_shortage_alerts')
    with op.batch_alter_table('guardian_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_consents_mentor_id'))

    op.drop_table('guardian_consents')
    with op.batch_alter_table('child_certificate_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_certificate_checks_mentor_id'))

    op.drop_table('child_certificate_checks')
