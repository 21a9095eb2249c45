"""The providers' wire formats: request schemas, translation to and from the model, routes.

One subpackage per provider (`openai`, `anthropic`); what both speak (SSE
encoding, provider-shaped errors, validation errors as each provider words
them) sits here.
"""
