"""reviewers' notes; when an invitation's link was first opened

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitation") as batch:
        batch.add_column(sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("test_id", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_note_invitation_id"), "note", ["invitation_id"], unique=False)
    op.create_index(op.f("ix_note_org_id"), "note", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_note_org_id"), table_name="note")
    op.drop_index(op.f("ix_note_invitation_id"), table_name="note")
    op.drop_table("note")
    with op.batch_alter_table("invitation") as batch:
        batch.drop_column("opened_at")
