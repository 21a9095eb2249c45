"""Handbook question answering: BM25 retrieval + a grounded, cited LLM answer."""
