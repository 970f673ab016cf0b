"""Hackathon sandbox: API keys for teams, limits, usage, and a private report space."""
