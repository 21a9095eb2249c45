"""Churn risk pipeline: train, predict and evaluate from the command line."""

__version__ = "1.0.0"
