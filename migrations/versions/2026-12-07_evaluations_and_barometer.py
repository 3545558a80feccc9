"""evaluations (versioned questions per kind of activity, requests with single-use links, answers)
and the barometer (computed figures, targets, national statistics, council reports)

Revision ID: 15aa30ae8f82
Revises: c1e96514922d
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '15aa30ae8f82'
down_revision: str | None = 'c1e96514922d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('barometer_figures',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_barometer_figures'))
    )
    op.create_table('barometer_national_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('municipality', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_barometer_national_figures')),
    sa.UniqueConstraint('indicator', 'year', 'municipality', name='one_per_municipality')
    )
    op.create_table('evaluation_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_type', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text_da', sa.String(length=300), nullable=False),
    sa.Column('text_en', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('scale', 'yes_no', 'text', 'class_poll')", name=op.f('ck_evaluation_questions_kind')),
    sa.CheckConstraint("offer_type IN ('company_week', 'innovation_game', 'girls_day', 'expert', 'mentoring', 'course')", name=op.f('ck_evaluation_questions_offer_type')),
    sa.ForeignKeyConstraint(['replaces_id'], ['evaluation_questions.id'], name=op.f('fk_evaluation_questions_replaces_id_evaluation_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_questions'))
    )
    with op.batch_alter_table('evaluation_questions', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_questions_offer_type_retired_at', ['offer_type', 'retired_at'], unique=False)

    op.create_table('barometer_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sections', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_barometer_reports_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_barometer_reports_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_barometer_reports'))
    )
    op.create_table('barometer_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('municipality', sa.String(length=40), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_barometer_targets_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_barometer_targets')),
    sa.UniqueConstraint('indicator', 'year', 'municipality', name='one_per_indicator')
    )
    op.create_table('evaluation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('respondent', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("respondent IN ('teacher', 'provider', 'mentor')", name=op.f('ck_evaluation_requests_respondent')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_evaluation_requests_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_evaluation_requests_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_requests')),
    sa.UniqueConstraint('booking_id', 'user_id', name='one_per_person'),
    sa.UniqueConstraint('token_hash', name=op.f('uq_evaluation_requests_token_hash'))
    )
    with op.batch_alter_table('evaluation_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_requests_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_requests_user_id'), ['user_id'], unique=False)

    op.create_table('evaluation_answers',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('girls', sa.Integer(), nullable=True),
    sa.Column('boys', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['evaluation_questions.id'], name=op.f('fk_evaluation_answers_question_id_evaluation_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['evaluation_requests.id'], name=op.f('fk_evaluation_answers_request_id_evaluation_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'question_id', name=op.f('pk_evaluation_answers'))
    )
    with op.batch_alter_table('evaluation_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_answers_question_id'), ['question_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evaluation_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_answers_question_id'))

    op.drop_table('evaluation_answers')
    with op.batch_alter_table('evaluation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_evaluation_requests_booking_id'))

    op.drop_table('evaluation_requests')
    op.drop_table('barometer_targets')
    op.drop_table('barometer_reports')
    with op.batch_alter_table('evaluation_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_questions_offer_type_retired_at')

    op.drop_table('evaluation_questions')
    op.drop_table('barometer_national_figures')
    op.drop_table('barometer_figures')
