"""Handbook Q&A (bm25s + chat completions over plain HTTP)."""
