"""The server: the app and its ASGI entry, one exchange per request, state, log, admin API.

Needs only fastapi (starlette), uvicorn and pydantic.
"""
