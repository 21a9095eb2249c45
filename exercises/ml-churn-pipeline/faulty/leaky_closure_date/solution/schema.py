"""What the columns of the customer export mean to the model.

Every column the model uses is declared here; anything else in an input file is
ignored, so extra columns and a different column order change nothing.
"""

from __future__ import annotations

ID = "customer_id"
TARGET = "churned"

# Dates become numbers: days between the export snapshot and the event.
DATES = ("account_closed_on",)
SNAPSHOT = "2024-06-30"

NUMERIC = (
    "age",
    "tenure_months",
    "monthly_fee",
    "discount_pct",
    "num_devices",
    "sessions_last_30d",
    "avg_session_minutes",
    "days_since_last_login",
    "support_tickets_90d",
    "failed_payments_12m",
    "satisfaction_score",
    "account_closed_on",  # as days after the snapshot; blank when still open
)
# Few levels: one code per level; unseen and missing levels share the "missing" code.
CATEGORICAL = ("region", "plan", "billing_cycle", "payment_method", "acquisition_channel")
# ~1,500 levels, most of them rare, new ones appear all the time: target-encoded.
HIGH_CARDINALITY = ("postal_area",)

FEATURES = NUMERIC + CATEGORICAL + HIGH_CARDINALITY
