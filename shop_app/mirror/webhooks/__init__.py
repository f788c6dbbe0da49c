"""Webhooks: the inbox stored before the 200, its processing in batches, the handler per topic, and the
subscriptions registered on shops installed without the CLI."""
