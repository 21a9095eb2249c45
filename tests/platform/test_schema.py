"""The migrated schema is the models' schema: Alembic sees nothing to autogenerate."""

from __future__ import annotations

import worksample.db  # noqa: F401 - registers the tables
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from infra import Database
from sqlmodel import SQLModel, create_engine


def test_migrations_match_the_models(db: Database) -> None:
    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"the models and the migrations differ on {db.kind}: {diff}"
