"""The deterministic model: it reads a provider-neutral `Conversation` and knows no wire format.

The extractive answerer, scripted rules and the responder that picks between
them, the fixed tokenizer, the embeddings (all-MiniLM-L6-v2 run in numpy by
`minilm`), and the byte-bounded memos they share.
"""
