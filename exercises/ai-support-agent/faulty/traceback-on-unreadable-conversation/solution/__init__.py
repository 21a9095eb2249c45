"""Support agent: python -m solution chat --conversation convo.json"""
