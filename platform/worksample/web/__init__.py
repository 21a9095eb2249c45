"""The web platform: FastAPI, Jinja2 + htmx, SQLModel."""
