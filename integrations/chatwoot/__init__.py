"""Chatwoot's protocol: agent-bot webhook signatures, strict payload models, and an API client."""
