"""blind positions; who revealed a blind candidate's identity

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("position") as batch:
        batch.add_column(
            sa.Column("blind", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
    op.create_table(
        "reveal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_reveal_invitation_id"), "reveal", ["invitation_id"], unique=False)
    op.create_index(op.f("ix_reveal_org_id"), "reveal", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reveal_org_id"), table_name="reveal")
    op.drop_index(op.f("ix_reveal_invitation_id"), table_name="reveal")
    op.drop_table("reveal")
    with op.batch_alter_table("position") as batch:
        batch.drop_column("blind")
