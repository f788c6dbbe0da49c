"""Verbs on the domain's words. Services take sessions and clients as arguments and never see a Request."""
