"""a grading's knock-outs (the labels of the manifest's [[critical]] items it failed)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gradingrun") as batch:
        batch.add_column(
            sa.Column(
                "knockouts",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("gradingrun") as batch:
        batch.drop_column("knockouts")
