"""The deterministic model: it reads a provider-neutral `Conversation` and knows no wire format.

The extractive answerer, scripted rules and the responder that picks between
them, the fixed tokenizer, the hashed embeddings, and the byte-bounded memos
they share.
"""
