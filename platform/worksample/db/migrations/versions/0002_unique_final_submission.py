"""at most one final submission per invitation

The model declared the partial unique index `uq_submission_final` but 0001 did
not create it, so two simultaneous final uploads could both land.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_submission_final",
        "submission",
        ["invitation_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'final'"),
        postgresql_where=sa.text("kind = 'final'"),
    )


def downgrade() -> None:
    op.drop_index("uq_submission_final", table_name="submission")
