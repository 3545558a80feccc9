"""barometer_figures.read_at: when the figures were last read, so the worker keeps read ones fresh

Revision ID: 7b2f4c8d1e03
Revises: 3e7d1b0c9a52
Create Date: 2026-12-07 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7b2f4c8d1e03'
down_revision: str | None = '3e7d1b0c9a52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('barometer_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('barometer_figures', schema=None) as batch_op:
        batch_op.drop_column('read_at')
