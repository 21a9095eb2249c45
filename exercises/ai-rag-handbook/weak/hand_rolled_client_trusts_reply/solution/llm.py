"""Minimal client for the chat completions endpoint.

I call the HTTP API directly with httpx instead of pulling in the SDK, so every
request is visible here. Rate limits are handled: on a 429 we wait for the time
the server asks for in Retry-After and try again.
"""

import os
import time

import httpx

BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
API_KEY = os.environ.get("OPENAI_API_KEY", "")
MODEL = "gpt-4o-mini"
MAX_ATTEMPTS = 5

_http = httpx.Client(
    base_url=BASE_URL,
    headers={"Authorization": f"Bearer {API_KEY}"},
    timeout=30.0,
)


def chat(messages, max_tokens=200):
    body = {"model": MODEL, "messages": messages, "temperature": 0, "max_tokens": max_tokens}
    for _ in range(MAX_ATTEMPTS):
        resp = _http.post("/chat/completions", json=body)
        if resp.status_code == 429:
            wait = float(resp.headers.get("retry-after", "1"))
            time.sleep(wait)
            continue
        resp.raise_for_status()
        return resp.json()["choices"][0]["message"]["content"]
    raise RuntimeError(f"still rate limited after {MAX_ATTEMPTS} attempts")
