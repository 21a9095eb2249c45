"""What the columns of the customer export mean to the model.

Every column the model uses is declared here; anything else in an input file is
ignored, so extra columns and a different column order change nothing.
"""

from __future__ import annotations

ID = "customer_id"
TARGET = "churned"

# Filled in from the label after the fact: the date an account was closed exists
# only for customers who already churned. At prediction time it is always blank,
# so a model that learns from it is perfect in training and useless in use.
LEAKY = ("account_closed_on",)

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
)
# Few levels: one code per level; unseen and missing levels share the "missing" code.
CATEGORICAL = ("region", "plan", "billing_cycle", "payment_method", "acquisition_channel")
# ~1,500 levels, most of them rare, new ones appear all the time: target-encoded.
HIGH_CARDINALITY = ("postal_area",)

FEATURES = NUMERIC + CATEGORICAL + HIGH_CARDINALITY
