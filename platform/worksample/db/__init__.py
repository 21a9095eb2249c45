"""The tables and the database, shared by the web app and the grading worker.

SQLModel tables (`_models`), the engine and sessions (`_engine`), and the
schema's Alembic migrations (`_schema`, `migrations/`). It imports nothing of
the web app or the worker.
"""

from worksample.db._engine import (
    POOL_OVERFLOW,
    POOL_SIZE,
    REQUESTS_IN_FLIGHT,
    make_engine,
    session_scope,
)
from worksample.db._models import (
    AuditEvent,
    Blob,
    Decision,
    GradingRun,
    Invitation,
    LoginAttempt,
    Note,
    Organisation,
    OutboxMail,
    Outcome,
    Position,
    Reveal,
    Review,
    ReviewScore,
    ReviewStatus,
    Role,
    RunStatus,
    SimilarityPair,
    SimilarityPrint,
    Submission,
    SubmissionKind,
    User,
    WebSession,
    utcnow,
)
from worksample.db._prune import ENDED_SESSIONS_KEPT, LOGIN_HISTORY, Pruned, prune_auth
from worksample.db._schema import MIGRATIONS, alembic_config, migrate

__all__ = [
    "ENDED_SESSIONS_KEPT",
    "LOGIN_HISTORY",
    "MIGRATIONS",
    "POOL_OVERFLOW",
    "POOL_SIZE",
    "REQUESTS_IN_FLIGHT",
    "AuditEvent",
    "Blob",
    "Decision",
    "GradingRun",
    "Invitation",
    "LoginAttempt",
    "Note",
    "Organisation",
    "OutboxMail",
    "Outcome",
    "Position",
    "Pruned",
    "Reveal",
    "Review",
    "ReviewScore",
    "ReviewStatus",
    "Role",
    "RunStatus",
    "SimilarityPair",
    "SimilarityPrint",
    "Submission",
    "SubmissionKind",
    "User",
    "WebSession",
    "alembic_config",
    "make_engine",
    "migrate",
    "prune_auth",
    "session_scope",
    "utcnow",
]
