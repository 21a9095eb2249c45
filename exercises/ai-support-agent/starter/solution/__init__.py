"""Your support agent. Entry point: python -m solution chat --conversation convo.json"""
