"""Shops: installing (authorization code grant and managed install), access tokens and their refresh, OAuth
states, the shop directory, key rotation, and compliance (export and erasure)."""
