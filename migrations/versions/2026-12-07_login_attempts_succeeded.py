"""login attempts: succeeded, a client's last successful log-in per address

Revision ID: 7a3e5c1d9f20
Revises: 1f7493d50e4b
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a3e5c1d9f20"
down_revision: str | None = "1f7493d50e4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempts") as batch_op:
        batch_op.add_column(
            sa.Column("succeeded", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    op.execute("DELETE FROM login_attempts WHERE succeeded")
    with op.batch_alter_table("login_attempts") as batch_op:
        batch_op.drop_column("succeeded")
