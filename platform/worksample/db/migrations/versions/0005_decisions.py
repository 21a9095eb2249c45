"""hiring decisions on invitations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Enum("advance", "hold", "reject", name="outcome"), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"]),
        sa.ForeignKeyConstraint(["mail_id"], ["outboxmail.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_decision_invitation_id"), "decision", ["invitation_id"], unique=False)
    op.create_index(op.f("ix_decision_org_id"), "decision", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_org_id"), table_name="decision")
    op.drop_index(op.f("ix_decision_invitation_id"), table_name="decision")
    op.drop_table("decision")
    sa.Enum(name="outcome").drop(op.get_bind(), checkfirst=True)
