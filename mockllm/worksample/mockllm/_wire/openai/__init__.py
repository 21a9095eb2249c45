"""OpenAI's wire format: ``/v1/models``, ``/v1/chat/completions``, ``/v1/embeddings``."""
