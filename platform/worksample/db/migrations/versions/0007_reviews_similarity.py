"""rubric reviews and their scores; similarity fingerprints and pairs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:15:06.058571
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("assigned", "submitted", name="reviewstatus"), nullable=False),
        sa.Column("rubric", sa.Text(), nullable=False),
        sa.Column("exercise_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "reviewer_id", name="uq_review_reviewer"),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_invitation_id"), ["invitation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_reviewer_id"), ["reviewer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "similaritypair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("share_a", sa.Float(), nullable=False),
        sa.Column("share_b", sa.Float(), nullable=False),
        sa.Column("fragments", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("dismissed_by", sa.Integer(), nullable=True),
        sa.Column(
            "dismissed_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False
        ),
        sa.Column("dismissed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["a_id"],
            ["submission.id"],
        ),
        sa.ForeignKeyConstraint(
            ["b_id"],
            ["submission.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("a_id", "b_id", name="uq_similaritypair"),
    )
    with op.batch_alter_table("similaritypair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_similaritypair_a_id"), ["a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_similaritypair_b_id"), ["b_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_similaritypair_org_id"), ["org_id"], unique=False)

    op.create_table(
        "similarityprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.Integer(), nullable=False),
        sa.Column("fingerprints", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id"),
    )
    with op.batch_alter_table("similarityprint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_similarityprint_exercise_id"), ["exercise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_similarityprint_org_id"), ["org_id"], unique=False)

    op.create_table(
        "reviewscore",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id", "criterion", name="uq_reviewscore_criterion"),
    )
    with op.batch_alter_table("reviewscore", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviewscore_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviewscore", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewscore_review_id"))

    op.drop_table("reviewscore")
    with op.batch_alter_table("similarityprint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_similarityprint_org_id"))
        batch_op.drop_index(batch_op.f("ix_similarityprint_exercise_id"))

    op.drop_table("similarityprint")
    with op.batch_alter_table("similaritypair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_similaritypair_org_id"))
        batch_op.drop_index(batch_op.f("ix_similaritypair_b_id"))
        batch_op.drop_index(batch_op.f("ix_similaritypair_a_id"))

    op.drop_table("similaritypair")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_submission_id"))
        batch_op.drop_index(batch_op.f("ix_review_reviewer_id"))
        batch_op.drop_index(batch_op.f("ix_review_org_id"))
        batch_op.drop_index(batch_op.f("ix_review_invitation_id"))

    op.drop_table("review")
    sa.Enum(name="reviewstatus").drop(op.get_bind(), checkfirst=True)
