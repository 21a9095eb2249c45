"""Churn risk pipeline. Replace this package's insides with your solution."""
