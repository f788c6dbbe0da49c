"""Zendesk's protocol: webhook signatures, the signed-URL JWT of a Support app, trigger bodies, the Tickets
API client. Never imports the app."""
