"""practice runs counted on the invitation; a one-time notice on a web session

The practice-run limit was a count of rows read before the insert, so uploads
made at the same moment all saw the same count and all landed. The counter is
taken by a conditional UPDATE in the upload's own transaction instead.

`websession.notice` carries a new invitation's link to the page its maker sees
next, once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitation") as batch:
        batch.add_column(
            sa.Column("practice_used", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    op.execute(
        "UPDATE invitation SET practice_used = (SELECT count(*) FROM submission"
        " WHERE submission.invitation_id = invitation.id AND submission.kind = 'practice')"
    )
    with op.batch_alter_table("websession") as batch:
        batch.add_column(
            sa.Column("notice", sa.String(), nullable=False, server_default=sa.text("''"))
        )


def downgrade() -> None:
    with op.batch_alter_table("websession") as batch:
        batch.drop_column("notice")
    with op.batch_alter_table("invitation") as batch:
        batch.drop_column("practice_used")
